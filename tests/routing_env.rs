//! The N-player routing env on the device: Braess's equilibrium with 8 vehicles costs each of them
//! exactly the mean-field 3.75; congestion and every vehicle's state equal a host re-simulation
//! step for step (Sioux Falls, random actions, invalid ones included); the mean-field solution
//! played by many vehicles lands within a time step of its mean-field travel time; snapshots
//! resume exactly; bad options are refused by name.

mod common;

use common::SplitMix;
use shoal::env::routing::vehicle_trips;
use shoal::env::{Actions, BatchedEnv, EnvKind, EnvOptions, EnvParams, Routing, RoutingConfig};
use shoal::mfg::{MeanFieldGame, RoutingGame};
use shoal::GpuContext;

fn env(envs: usize, vehicles: usize, network: &str) -> Routing {
    Routing::new(GpuContext::shared().unwrap(), RoutingConfig::new(envs, vehicles, network)).unwrap()
}

fn upload(env: &Routing, actions: &[i32]) -> Actions {
    let spec = env.spec();
    Actions::discrete_from_host(env.context(), &spec.groups[0], spec.n_envs, actions).unwrap()
}

#[test]
fn eight_vehicles_at_braess_equilibrium_each_take_three_point_seven_five() {
    // 6 of 8 vehicles take A->B (4 of them on to B->C), 2 take A->C: the mean-field shares
    // 0.75 / 0.25 and 2/3 / 1/3, each vehicle weighing 5/8 of a vehicle of the demand.
    let mut env = env(2, 8, "braess");
    let game = env.game().clone();
    let route: [&[&str]; 8] = [
        &["A->B", "B->C"], &["A->B", "B->C"], &["A->B", "B->C"], &["A->B", "B->C"],
        &["A->B", "B->D"], &["A->B", "B->D"], &["A->C"], &["A->C"],
    ];
    env.reset(0).unwrap();
    let mut returns = vec![0.0f64; 16];
    for _ in 0..game.time_steps {
        let vehicles = env.read_vehicles().unwrap();
        let actions: Vec<i32> = vehicles
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let succ = &game.network.successors[v[0] as usize];
                let planned = succ.iter().position(|&s| route[i % 8].contains(&game.network.link_name(s).as_str()));
                planned.unwrap_or(0) as i32
            })
            .collect();
        let out = env.step(&[upload(&env, &actions)]).unwrap();
        let reward = env.context().read_f32(out.reward).unwrap();
        returns.iter_mut().zip(&reward).for_each(|(r, x)| *r += *x as f64);
    }
    for (i, r) in returns.iter().enumerate() {
        assert!((r + 3.75).abs() < 1e-4, "vehicle {} of env {}: return {r}", i % 8, i / 8);
    }
    let stats = env.episode_stats().unwrap();
    assert_eq!(stats.episodes, 2.0);
    assert!((stats.mean_return + 3.75).abs() < 1e-4 && stats.invalid_actions == 0.0, "{stats:?}");
}

/// An independent host version of the N-player dynamics (f64), stepped with the same actions.
struct HostRouting<'g> {
    game: &'g RoutingGame,
    envs: usize,
    trips: Vec<[i32; 4]>,
    /// Per vehicle: road, next decision step, arrival step or −1, stuck.
    vehicles: Vec<[i64; 4]>,
    counts: Vec<i64>,
}

impl<'g> HostRouting<'g> {
    fn new(game: &'g RoutingGame, envs: usize, per_env: usize) -> Self {
        let trips = vehicle_trips(game, per_env);
        let vehicles = (0..envs * per_env).map(|i| {
            let t = trips[i % per_env];
            [t[0] as i64, t[2] as i64, -1, 0]
        });
        HostRouting { game, envs, vehicles: vehicles.collect(), counts: vec![0; envs * game.network.links.len()], trips }
    }

    fn step(&mut self, t: i64, actions: &[i32]) {
        let (links, per_env) = (self.game.network.links.len(), self.vehicles.len() / self.envs);
        let trips = &self.trips;
        let horizon = self.game.time_steps as i64;
        let on_network = |v: &[i64; 4]| v[2] < 0 && v[3] == 0;
        for (i, v) in self.vehicles.iter_mut().enumerate() {
            if on_network(v) && v[1] == t {
                let succ = &self.game.network.successors[v[0] as usize];
                let a = actions[i] as usize;
                let next = succ[if a < succ.len() { a } else { 0 }];
                v[0] = next as i64;
                if next == trips[i % per_env][1] as usize {
                    *v = [next as i64, 1 << 24, t, 0];
                } else if self.game.network.successors[next].is_empty() {
                    *v = [next as i64, 1 << 24, -1, 1];
                } else {
                    v[1] = -1;
                }
            }
        }
        self.counts.iter_mut().for_each(|c| *c = 0);
        for (i, v) in self.vehicles.iter().enumerate() {
            if on_network(v) && (v[1] == -1 || v[1] <= t + horizon) {
                self.counts[(i / per_env) * links + v[0] as usize] += 1;
            }
        }
        let weight = self.game.vehicles / per_env as f64;
        for (i, v) in self.vehicles.iter_mut().enumerate() {
            if on_network(v) && v[1] == -1 {
                let volume = self.counts[(i / per_env) * links + v[0] as usize] as f64 * weight;
                let steps = (self.game.network.travel_time(v[0] as usize, volume) / self.game.time_step + 1e-4).floor();
                v[1] = t + 1 + (steps.clamp(1.0, 2.0 * horizon as f64) as i64 - 1);
            }
        }
    }
}

#[test]
fn congestion_and_vehicles_equal_a_host_resimulation() {
    let (envs, per_env) = (3, 700);
    let mut env = env(envs, per_env, "sioux_falls_dummy");
    let game = env.game().clone();
    let mut host = HostRouting::new(&game, envs, per_env);
    let degree = env.spec().groups[0].action.clone();
    let shoal::env::ActionSpace::Discrete { n } = degree else { panic!("discrete") };
    let mut rng = SplitMix(7);
    env.reset(3).unwrap();
    let mut invalid = 0;
    for t in 0..game.time_steps as i64 {
        // Actions up to the largest degree: past a smaller node's degree they are invalid and
        // must take road 0.
        let actions: Vec<i32> = (0..envs * per_env).map(|_| (rng.next_u64() % n as u64) as i32).collect();
        invalid += host.vehicles.iter().zip(&actions).filter(|(v, &a)| {
            v[2] < 0 && v[3] == 0 && v[1] == t && a as usize >= game.network.successors[v[0] as usize].len()
        }).count();
        env.step(&[upload(&env, &actions)]).unwrap();
        host.step(t, &actions);
        if t % 10 == 9 || t == 1 {
            let counts: Vec<i64> = env.read_link_counts().unwrap().into_iter().map(i64::from).collect();
            assert_eq!(counts, host.counts, "road counts at step {t}");
            let device: Vec<[i64; 4]> = env.read_vehicles().unwrap().iter().map(|v| v.map(i64::from)).collect();
            assert_eq!(device, host.vehicles, "vehicles at step {t}");
        }
    }
    let stats = env.episode_stats().unwrap();
    assert_eq!(stats.invalid_actions as usize, invalid);
    assert!(invalid > 0, "the test should exercise invalid actions");
}

#[test]
fn the_mean_field_policy_played_by_many_vehicles_costs_its_mean_field_travel_time() {
    // Vehicles drawing their roads from the uniform policy on the device: with 200,000 of them
    // the empirical shares are within ~0.002 of the mean field's, and the mean travel time within
    // one time step (a road's time moves by whole steps) of the exact mean-field value.
    let mut env = env(1, 200_000, "braess");
    let game = env.game().clone();
    let policy = shoal::mfg::uniform(&game);
    let exact = game.distribution(&policy).travel_time;
    let uploaded = env.upload_policy(&policy).unwrap();
    env.reset(11).unwrap();
    for _ in 0..game.time_steps {
        let actions = env.policy_actions(&uploaded).unwrap();
        env.step(&[actions]).unwrap();
    }
    let stats = env.episode_stats().unwrap();
    eprintln!("N-player {} vs mean field {exact}", -stats.mean_return);
    assert!((-stats.mean_return - exact).abs() <= game.time_step + 1e-4, "N-player {} vs mean field {exact}", -stats.mean_return);
    assert_eq!(stats.invalid_actions, 0.0, "policy actions are always valid");
}

#[test]
fn a_snapshot_resumes_exactly() {
    let mut env = env(2, 300, "sioux_falls_dummy");
    let (envs, per_env) = (2, 300);
    let mut rng = SplitMix(5);
    let mut actions = || -> Vec<i32> { (0..envs * per_env).map(|_| (rng.next_u64() % 4) as i32).collect() };
    env.reset(1).unwrap();
    for _ in 0..30 {
        let a = actions();
        env.step(&[upload(&env, &a)]).unwrap();
    }
    let snapshot = env.snapshot().unwrap();
    let later: Vec<Vec<i32>> = (0..20).map(|_| actions()).collect();
    let run = |env: &mut Routing| -> Vec<f32> {
        let mut rewards = Vec::new();
        for a in &later {
            let actions = upload(env, a);
            let reward = env.step(&[actions]).unwrap().reward;
            rewards.extend(env.context().read_f32(reward).unwrap());
        }
        rewards
    };
    let first = run(&mut env);
    env.restore(&snapshot).unwrap();
    assert_eq!(run(&mut env), first);
}

#[test]
fn bad_options_are_refused_by_name() {
    let ctx = GpuContext::shared().unwrap();
    let with = |items: &[&str]| {
        let options = EnvOptions::parse(&items.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap();
        EnvKind::Routing.build(&ctx, &EnvParams { options, ..EnvParams::new(1, 10) }).err().map(|e| format!("{e:#}"))
    };
    assert!(with(&["network=atlantis"]).unwrap().contains("atlantis"));
    assert!(with(&["network=3"]).unwrap().contains("network"));
    assert!(with(&["time_step=-1"]).unwrap().contains("time_step"));
    assert!(with(&["lanes=2"]).unwrap().contains("lanes"));
    assert!(with(&["network=pigou"]).is_none(), "pigou is a built-in network");
    let continuous = EnvKind::Routing.build(&ctx, &EnvParams { continuous: true, ..EnvParams::new(1, 10) });
    assert!(format!("{:#}", continuous.err().unwrap()).contains("continuous"));
    let none = EnvKind::Routing.build(&ctx, &EnvParams::new(1, 0));
    assert!(format!("{:#}", none.err().unwrap()).contains("vehicles"));
}

#[test]
fn compact_observations_say_what_the_one_hots_say() {
    let ctx = GpuContext::shared().unwrap();
    let (envs, per_env) = (2, 50);
    let mut full = env(envs, per_env, "sioux_falls_dummy");
    let mut compact = Routing::new(ctx, RoutingConfig { compact_obs: true, ..RoutingConfig::new(envs, per_env, "sioux_falls_dummy") }).unwrap();
    let (links, dests) = (full.game().network.links.len(), full.game().destinations.len());
    assert_eq!(compact.spec().groups[0].obs_dim, 5);
    full.reset(0).unwrap();
    compact.reset(0).unwrap();
    let mut rng = SplitMix(9);
    for _ in 0..25 {
        let a: Vec<i32> = (0..envs * per_env).map(|_| (rng.next_u64() % 3) as i32).collect();
        let (f, c) = (full.step(&[upload(&full, &a)]).unwrap(), compact.step(&[upload(&compact, &a)]).unwrap());
        let ctx = full.context();
        assert_eq!(ctx.read_f32(f.reward).unwrap(), ctx.read_f32(c.reward).unwrap());
        let (f, c) = (ctx.read_f32(f.obs[0].clone()).unwrap(), ctx.read_f32(c.obs[0].clone()).unwrap());
        for (row, small) in f.chunks(links + dests + 3).zip(c.chunks(5)) {
            let road = row[..links].iter().position(|&x| x == 1.0).unwrap();
            let dest = row[links..links + dests].iter().position(|&x| x == 1.0).unwrap();
            assert_eq!((small[0], small[1]), (road as f32 / links as f32, dest as f32 / dests as f32));
            assert_eq!(&small[2..], &row[links + dests..]);
        }
    }
}

#[test]
fn terminal_observations_are_the_ones_episodes_end_in() {
    let ctx = GpuContext::shared().unwrap();
    let mut env = Routing::new(ctx, RoutingConfig { terminal_obs: true, ..RoutingConfig::new(2, 6, "pigou") }).unwrap();
    let game = env.game().clone();
    let (links, width) = (game.network.links.len(), game.network.links.len() + game.destinations.len() + 3);
    env.reset(0).unwrap();
    let zeros = vec![0; 12];
    for t in 0..game.time_steps {
        let out = env.step(&[upload(&env, &zeros)]).unwrap();
        let obs = env.context().read_f32(out.obs[0].clone()).unwrap();
        let terminal = env.context().read_f32(out.terminal_obs.unwrap()[0].clone()).unwrap();
        let time_column = |v: &[f32]| v.chunks(width).map(|row| row[links + game.destinations.len()]).collect::<Vec<_>>();
        if t + 1 < game.time_steps {
            assert_eq!(obs, terminal, "step {t}: no episode ended");
        } else {
            assert!(time_column(&terminal).iter().all(|&x| x == 1.0), "the last observation is at t = T");
            assert!(time_column(&obs).iter().all(|&x| x == 0.0), "the next episode starts at t = 0");
            // Everyone took road 0 (the fixed road, 2 + one step = 41 steps): all arrived.
            assert!(terminal.chunks(width).all(|row| row[width - 1] == 1.0));
        }
    }
}
