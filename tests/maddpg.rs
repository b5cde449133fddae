//! MADDPG and DDPG: the Gumbel-softmax straight-through estimator against a float64 reference,
//! Gumbel-max sampling the categorical policy, the centralised critic's inputs, and the learners
//! through the library and the CLI — reproducible from the seed, resuming exactly, target
//! networks following by Polyak averaging, checkpoints that evaluate and render, refusals by name.

mod common;

use burn::tensor::Tensor;
use common::{flat_params, run_shoal as shoal, scratch_dir};
use shoal::env::{ActionSpace, EnvKind};
use shoal::train::off_policy::actor::{gaussian_noise, gumbel_noise, gumbel_softmax_st};
use shoal::train::off_policy::critics::with_own_action;
use shoal::train::off_policy::MaddpgTrainer;
use shoal::train::{Algo, Learner, PolicyNoise, TrainConfig, UpdateMetrics};
use shoal::gpu::SeededInit;
use shoal::GpuContext;

/// Deterministic values in [−3, 3).
fn values(seed: u64, n: usize) -> Vec<f64> {
    common::splitmix_values(seed, n)
}

fn to_f32(v: &[f64]) -> Vec<f32> {
    v.iter().map(|&x| x as f32).collect()
}

#[test]
fn gumbel_softmax_straight_through_matches_a_float64_reference() {
    let ctx = GpuContext::shared().unwrap();
    let (rows, n) = (64, 5);
    let logits = values(1, rows * n);
    let uniform: Vec<f64> = values(2, rows * n).iter().map(|v| (v + 3.0) / 6.0).collect();
    let weights = values(3, rows * n);
    for temperature in [1.0f64, 0.5] {
        let x = ctx.upload_f32(&to_f32(&logits), [rows, n]).unwrap().autodiff().require_grad();
        let gumbel = gumbel_noise(ctx.upload_f32(&to_f32(&uniform), [rows, n]).unwrap()).autodiff();
        let y = gumbel_softmax_st(x.clone(), gumbel, temperature as f32);
        let w = ctx.upload_f32(&to_f32(&weights), [rows, n]).unwrap().autodiff();
        let objective = (y.clone() * w).sum();
        let grads = objective.backward();
        let forward = ctx.read_f32(y.without_autodiff()).unwrap();
        let grad = ctx.read_f32(x.grad(&grads).unwrap()).unwrap();
        for r in 0..rows {
            let z: Vec<f64> = (0..n).map(|k| logits[r * n + k] as f32 as f64 - (-(uniform[r * n + k] as f32 as f64).ln()).ln()).collect();
            let best = (0..n).fold(0, |b, k| if z[k] > z[b] { k } else { b });
            // Forward: exactly the one-hot of argmax(logits + g).
            for k in 0..n {
                let expected = if k == best { 1.0 } else { 0.0 };
                assert!((forward[r * n + k] as f64 - expected).abs() < 1e-6, "row {r}: {:?}", &forward[r * n..r * n + n]);
            }
            // Backward: the softmax's Jacobian at temperature τ applied to the weights,
            // d(Σ_k w_k s_k)/dz_j = s_j (w_j − Σ_k w_k s_k) / τ.
            let top = z.iter().cloned().fold(f64::MIN, f64::max);
            let e: Vec<f64> = z.iter().map(|v| ((v - top) / temperature).exp()).collect();
            let total: f64 = e.iter().sum();
            let s: Vec<f64> = e.iter().map(|v| v / total).collect();
            let w: Vec<f64> = (0..n).map(|k| weights[r * n + k] as f32 as f64).collect();
            let mean: f64 = (0..n).map(|k| w[k] * s[k]).sum();
            for j in 0..n {
                let expected = s[j] * (w[j] - mean) / temperature;
                assert!((grad[r * n + j] as f64 - expected).abs() < 1e-5, "row {r}, τ {temperature}: {} vs {expected}", grad[r * n + j]);
            }
        }
    }
}

#[test]
fn gumbel_max_samples_the_categorical_policy_and_box_muller_a_normal() {
    let ctx = GpuContext::shared().unwrap();
    let (rows, n) = (40_000, 4);
    let logits = [0.5f32, -1.0, 1.5, 0.0];
    let mut noise = PolicyNoise::new(ctx.clone(), &ActionSpace::Discrete { n }, 1, rows, 17).unwrap();
    let perturbed = ctx.upload_f32(&logits.repeat(rows), [rows, n]).unwrap() + gumbel_noise(noise.sample().unwrap());
    let picks = ctx.read_f32(perturbed.argmax(1).float().reshape([rows])).unwrap();
    let total: f64 = logits.iter().map(|l| (*l as f64).exp()).sum();
    for (k, l) in logits.iter().enumerate() {
        let freq = picks.iter().filter(|&&p| p as usize == k).count() as f64 / rows as f64;
        let p = (*l as f64).exp() / total;
        // 5 standard errors of a binomial frequency over 40,000 draws.
        let tolerance = 5.0 * (p * (1.0 - p) / rows as f64).sqrt();
        assert!((freq - p).abs() < tolerance, "action {k}: {freq} vs softmax {p}");
    }
    let mut uniform = PolicyNoise::new(ctx.clone(), &ActionSpace::Continuous { dim: 1, low: 0.0, high: 1.0 }, 1, rows, 18).unwrap();
    let normal = ctx.read_f32(gaussian_noise(uniform.sample().unwrap())).unwrap();
    let mean = normal.iter().map(|v| *v as f64).sum::<f64>() / rows as f64;
    let var = normal.iter().map(|v| (*v as f64 - mean).powi(2)).sum::<f64>() / rows as f64;
    let within_one = normal.iter().filter(|v| v.abs() < 1.0).count() as f64 / rows as f64;
    assert!(mean.abs() < 0.025 && (var - 1.0).abs() < 0.03, "mean {mean}, variance {var}");
    assert!((within_one - 0.6827).abs() < 0.012, "P(|z| < 1) = {within_one}");
}

#[test]
fn each_agents_critic_row_sees_its_own_new_action_and_the_others_taken() {
    let ctx = GpuContext::shared().unwrap();
    let (rows, agents, width) = (2, 3, 2);
    let taken: Vec<f32> = (0..rows * agents * width).map(|v| v as f32).collect();
    let own: Vec<f32> = (0..rows * agents * width).map(|v| 100.0 + v as f32).collect();
    let mixed = with_own_action(&ctx.upload_f32(&taken, [rows, agents, width]).unwrap(), ctx.upload_f32(&own, [rows, agents, width]).unwrap());
    assert_eq!(mixed.dims(), [rows, agents, agents * width]);
    let mixed = ctx.read_f32(mixed).unwrap();
    for r in 0..rows {
        for i in 0..agents {
            for j in 0..agents {
                for k in 0..width {
                    let source = if i == j { &own } else { &taken };
                    let expected = source[(r * agents + if i == j { i } else { j }) * width + k];
                    assert_eq!(mixed[((r * agents + i) * agents + j) * width + k], expected, "row {r}, critic {i}, slot {j}");
                }
            }
        }
    }
}

/// 8 envs × 10 steps per update, 4 updates; learning from the second update, 2 gradient steps of
/// 16 transitions, Polyak rate 0.5.
fn tiny(algo: Algo, env: EnvKind) -> TrainConfig {
    let mut config = TrainConfig {
        env,
        total_env_steps: 4 * 80,
        buffer_size: 200,
        batch_size: 16,
        learning_starts: 100,
        gradient_steps: 2,
        tau: 0.5,
        lr: 1e-2,
        ..common::tiny_train_config(algo)
    };
    config.sync_population().unwrap();
    config
}


fn all_networks(trainer: &MaddpgTrainer, groups: usize) -> Vec<Vec<f32>> {
    (0..groups).flat_map(|g| trainer.networks(g).map(flat_params)).collect()
}

fn run(trainer: &mut MaddpgTrainer, updates: usize) -> Vec<UpdateMetrics> {
    (0..updates).map(|_| trainer.update().unwrap()).collect()
}

#[test]
fn runs_are_reproducible_and_resume_exactly() {
    let ctx = GpuContext::shared().unwrap();
    let continuous_spread = TrainConfig { continuous: true, ..tiny(Algo::Ddpg, EnvKind::SimpleSpread) };
    for (config, groups) in [(tiny(Algo::Maddpg, EnvKind::SimpleSpeakerListener), 2), (continuous_spread, 1)] {
        let what = format!("{} on {}", config.algo.name(), config.env);
        let mut straight = MaddpgTrainer::new(ctx.clone(), config.clone()).unwrap();
        let metrics = run(&mut straight, 4);
        assert!(metrics[0].value_loss.is_nan(), "{what}: nothing stored to learn from yet");
        assert!(metrics[1..].iter().all(|m| m.value_loss.is_finite() && m.policy_loss.is_finite()), "{what}: {metrics:?}");
        if groups > 1 {
            assert_eq!(metrics[3].group_returns.len(), 2, "{what}");
        }
        let mut again = MaddpgTrainer::new(ctx.clone(), config.clone()).unwrap();
        run(&mut again, 4);
        assert_eq!(all_networks(&again, groups), all_networks(&straight, groups), "{what}: same seed, same networks");

        let dir = scratch_dir(&format!("maddpg-resume-{}-{}", config.algo.name(), config.env));
        let mut first = MaddpgTrainer::new(ctx.clone(), config.clone()).unwrap();
        run(&mut first, 2);
        first.save_checkpoint(&dir.join("checkpoint")).unwrap();
        drop(first);
        let mut resumed = MaddpgTrainer::resume(ctx.clone(), &dir.join("checkpoint")).unwrap();
        let rest = run(&mut resumed, 2);
        assert_eq!(all_networks(&resumed, groups), all_networks(&straight, groups), "{what}: resumed run differs");
        assert_eq!(rest[1].value_loss.to_bits(), metrics[3].value_loss.to_bits(), "{what}");
        assert!(resumed.finished());
    }
}

#[test]
fn targets_follow_by_polyak_averaging_and_critics_see_what_their_algorithm_says() {
    let ctx = GpuContext::shared().unwrap();
    // One gradient step per update: after it, target = τ online + (1 − τ) previous target.
    let config = TrainConfig { gradient_steps: 1, tau: 0.25, ..tiny(Algo::Maddpg, EnvKind::SimpleSpeakerListener) };
    let mut trainer = MaddpgTrainer::new(ctx.clone(), config).unwrap();
    trainer.update().unwrap();
    let [actor, actor_target, critic, critic_target] = trainer.networks(1).map(flat_params);
    assert_eq!(actor, actor_target, "no gradient step yet: the target is the initial copy");
    assert_eq!(critic, critic_target);
    trainer.update().unwrap();
    let [actor_now, actor_target_now, critic_now, critic_target_now] = trainer.networks(1).map(flat_params);
    assert_ne!(actor_now, actor, "the actor learned");
    for (now, (online, before)) in [(actor_target_now, (&actor_now, &actor_target)), (critic_target_now, (&critic_now, &critic_target))] {
        for (k, t) in now.iter().enumerate() {
            let expected = 0.25 * online[k] + 0.75 * before[k];
            assert!((t - expected).abs() < 1e-6, "parameter {k}: {t} vs {expected}");
        }
    }
    // speaker_listener: speaker 1 agent (3 obs, 3 words), listener 1 agent (11 obs, 5 moves).
    // MADDPG's critics read both agents' observations and actions, DDPG's their own.
    let width = |algo: Algo, ddpg_groups: &[&str], g: usize| {
        let config = TrainConfig { ddpg_groups: ddpg_groups.iter().map(|s| s.to_string()).collect(), ..tiny(algo, EnvKind::SimpleSpeakerListener) };
        let trainer = MaddpgTrainer::new(ctx.clone(), config).unwrap();
        flat_params(trainer.networks(g)[2]).len()
    };
    let hidden = 16;
    let critic_params = |input: usize| input * hidden + hidden + hidden * hidden + hidden + hidden + 1;
    let (central, speaker_own, listener_own) = (critic_params(3 + 11 + 3 + 5 + 1), critic_params(3 + 3 + 1), critic_params(11 + 5 + 1));
    assert_eq!([width(Algo::Maddpg, &[], 0), width(Algo::Maddpg, &[], 1)], [central, central]);
    assert_eq!([width(Algo::Ddpg, &[], 0), width(Algo::Ddpg, &[], 1)], [speaker_own, listener_own]);
    // The paper's mixed matches: the groups named in `ddpg_groups` learn as DDPG in a MADDPG run.
    assert_eq!([width(Algo::Maddpg, &["listener"], 0), width(Algo::Maddpg, &["listener"], 1)], [central, listener_own]);
    assert_eq!([width(Algo::Maddpg, &["speaker"], 0), width(Algo::Maddpg, &["speaker"], 1)], [speaker_own, central]);
}

#[test]
fn cli_trains_evaluates_renders_and_resumes_maddpg() {
    let dir = scratch_dir("maddpg-cli");
    let out = dir.join("maddpg");
    let out_s = out.to_str().unwrap();
    let (ok, text) = shoal(&[
        "train", "--env", "simple_tag", "--algo", "maddpg", "--envs", "8", "--steps", "400", "--out", out_s,
        "--set", "rollout_steps=25", "--set", "hidden=16", "--set", "buffer_size=500", "--set", "batch_size=16",
        "--set", "learning_starts=200", "--set", "gradient_steps=2", "--set", "checkpoint_every=1", "--set", "tau=0.01",
        // The paper's mixed match: MADDPG predators, DDPG prey.
        "--set", "ddpg_groups=agent",
    ]);
    assert!(ok, "{text}");
    for file in ["actor0.bpk", "critic1.bpk", "actor_target1.bpk", "critic_optimizer0.bpk", "replay.action1.f32", "maddpg.json", "state.json"] {
        assert!(out.join("checkpoint").join(file).is_file(), "{file}");
    }
    let metrics = std::fs::read_to_string(out.join("metrics.csv")).unwrap();
    assert!(metrics.lines().next().unwrap().ends_with("return_adversary,return_agent"), "{metrics}");
    let json = dir.join("eval.json");
    let (ok, text) = shoal(&["eval", "--checkpoint", out_s, "--episodes", "16", "--random-groups", "agent", "--json", json.to_str().unwrap()]);
    assert!(ok && text.contains("greedy") && text.contains("stochastic") && text.contains("last step"), "{text}");
    // Every episode's last-step reward per group: a predator's is +10 per touch on that step,
    // the prey's −10 per touch and its boundary penalty.
    let results: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    for mode in results.as_array().unwrap() {
        let groups = mode["groups"].as_array().unwrap();
        let last: Vec<Vec<f64>> = groups.iter().map(|g| g["last_step_rewards"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect()).collect();
        assert_eq!((last[0].len(), last[1].len()), (16, 16), "{mode}");
        assert!(last[0].iter().all(|r| r.rem_euclid(10.0) == 0.0 && *r >= 0.0), "predators: {:?}", last[0]);
        assert!(last[1].iter().all(|r| *r <= 0.0), "prey: {:?}", last[1]);
        let mean = last[0].iter().sum::<f64>() / 16.0;
        assert!((groups[0]["last_step_reward"].as_f64().unwrap() - mean).abs() < 1e-4, "{mode}");
    }
    let gif = dir.join("maddpg.gif");
    let (ok, text) = shoal(&["render", "--env", "simple_tag", "--checkpoint", out_s, "--out", gif.to_str().unwrap()]);
    assert!(ok && gif.is_file(), "{text}");
    let (ok, text) = shoal(&["train", "--resume", out_s]);
    assert!(ok, "{text}");
}

#[test]
fn what_maddpg_cannot_train_is_refused_by_name() {
    let ctx = GpuContext::shared().unwrap();
    let error = |config: TrainConfig| MaddpgTrainer::new(ctx.clone(), config).err().expect("refused").to_string();
    let message = error(TrainConfig { env: EnvKind::Swarm, agents: 100, ..tiny(Algo::Maddpg, EnvKind::SimpleSpread) });
    assert!(message.contains("algo"), "swarm does not list maddpg: {message}");
    let message = error(TrainConfig { action_noise: -0.1, ..tiny(Algo::Ddpg, EnvKind::SimpleSpread) });
    assert!(message.contains("action_noise"), "{message}");
    let message = error(TrainConfig { tau: 1.5, ..tiny(Algo::Maddpg, EnvKind::SimpleSpread) });
    assert!(message.contains("tau"), "{message}");
    let message = error(TrainConfig { actor_lr_scale: 0.0, ..tiny(Algo::Ddpg, EnvKind::SimpleSpread) });
    assert!(message.contains("actor_lr_scale"), "{message}");
    let message = error(tiny(Algo::Iql, EnvKind::SimpleSpread));
    assert!(message.contains("maddpg"), "{message}");
    let named = |algo: Algo, groups: &str| TrainConfig { ddpg_groups: vec![groups.to_string()], ..tiny(algo, EnvKind::SimpleTag) };
    let message = error(named(Algo::Maddpg, "prey"));
    assert!(message.contains("ddpg_groups") && message.contains("adversary, agent"), "an unknown group is named with the real ones: {message}");
    let message = error(named(Algo::Ddpg, "agent"));
    assert!(message.contains("ddpg_groups") && message.contains("ddpg"), "ddpg_groups is for maddpg runs: {message}");
    // From the command line, a comma-separated string.
    let config = TrainConfig::default().with_overrides(&["algo=maddpg".into(), "env=simple_tag".into(), "ddpg_groups=agent, adversary".into()]).unwrap();
    assert_eq!(config.ddpg_groups, ["agent", "adversary"]);
}

#[test]
fn the_critics_gradient_reaches_the_action_through_mixed_inputs() {
    // The actor learns through `∂Q/∂a` where the critic's input joins data (observations, ids)
    // and the actor's action: that gradient must equal the critic's own finite difference.
    let ctx = GpuContext::shared().unwrap();
    let device = ctx.device().clone().autodiff();
    let _generator = SeededInit::new(&device, 3);
    let critic = shoal::train::MlpConfig::new(4 + 5 + 1, 1).with_hidden(16).init(&device);
    let rows = 8;
    let obs: Vec<f32> = values(7, rows * 4).iter().map(|v| *v as f32).collect();
    let act: Vec<f32> = values(8, rows * 5).iter().map(|v| (*v as f32 + 3.0) / 6.0).collect();
    let q_of = |a: &[f32], track: bool| {
        let obs_t = ctx.upload_f32(&obs, [rows, 4]).unwrap();
        let mut a_t = ctx.upload_f32(a, [rows, 5]).unwrap().autodiff();
        if track {
            a_t = a_t.require_grad();
        }
        let ids = Tensor::<2>::ones([rows, 1], ctx.device());
        let q = critic.forward(Tensor::cat(vec![obs_t, a_t.clone(), ids], 1));
        (q, a_t)
    };
    let (q, a_t) = q_of(&act, true);
    let grads = q.clone().sum().backward();
    let grad = ctx.read_f32(a_t.grad(&grads).unwrap()).unwrap();
    let base = ctx.read_f32(q.without_autodiff().reshape([rows])).unwrap();
    for k in [0usize, 3, 7, 12, 21, 39] {
        let mut bumped = act.clone();
        bumped[k] += 1e-2;
        let (q2, _) = q_of(&bumped, false);
        let q2 = ctx.read_f32(q2.without_autodiff().reshape([rows])).unwrap();
        let fd = (q2[k / 5] - base[k / 5]) / 1e-2;
        assert!((fd - grad[k]).abs() < 2e-3 + 0.05 * fd.abs(), "action {k}: finite difference {fd}, gradient {}", grad[k]);
    }
}
