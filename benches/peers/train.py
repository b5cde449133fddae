"""IPPO/MAPPO on JaxMARL's simple_spread, compiled end to end — the training half of `make bench-peers`.

    python train.py --algo mappo --steps 2000000 --out jaxmarl_train.json

JaxMARL ships its learners as scripts outside the pip package (`baselines/IPPO/ippo_ff_mpe.py`,
`baselines/MAPPO/...`), so this file is a learner written the way those scripts are: one
`jax.jit` over the whole run (rollout under `lax.scan`, GAE as a reverse scan, epochs and
minibatches as nested scans), on `jaxmarl.make("MPE_simple_spread_v3")` (N = 3). Its defaults are
shoal's `shoal train` defaults, so the two systems do the same work: 512 envs × 25 steps per
update, 4 epochs × 4 minibatches, Adam 7e-4 annealed to 0, γ 0.99, λ 0.95, clip 0.2, entropy
0.01, value 0.5 (clipped), gradient norm 0.5, tanh MLPs 64×2, one actor and one critic shared
by the agents with an agent one-hot input; MAPPO's critic sees every agent's observation.
`--envs 16 --rollout 128 --lr 2.5e-4` is JaxMARL's own `ippo_ff_mpe` setting. Like JaxMARL's
baselines it treats the time limit as a terminal state; `--bootstrap 1` bootstraps from the value
of the observation the episode ended in, as `shoal train` does.

The row reports compilation and training time apart (the first is paid once per process), and
the return as shoal reports it: the mean over agents of one agent's summed episode reward,
averaged over the episodes that ended in an update, then over the last 10% of updates.
"""
import argparse
import json
import time
from importlib import metadata

from step import cpu_model


def make_train(a):
    import jax
    import jax.numpy as jnp
    import flax.linen as nn
    import numpy as np
    import optax
    import jaxmarl

    env = jaxmarl.make("MPE_simple_spread_v3")
    agents = env.agents
    n = len(agents)
    actions = env.action_space(agents[0]).n
    updates = a.steps // (a.envs * a.rollout)
    batch = a.envs * a.rollout * n
    minibatch = batch // a.minibatches

    class Mlp(nn.Module):
        out: int
        last_scale: float

        @nn.compact
        def __call__(self, x):
            for _ in range(a.layers):
                x = nn.tanh(nn.Dense(a.hidden, kernel_init=nn.initializers.orthogonal(np.sqrt(2)))(x))
            return nn.Dense(self.out, kernel_init=nn.initializers.orthogonal(self.last_scale))(x)

    actor, critic = Mlp(actions, 0.01), Mlp(1, 1.0)
    ids = jnp.eye(n)

    def inputs(obs):
        """[E, n, o] observations → actor and critic inputs [E, n, ·], each with the agent's id."""
        e = obs.shape[0]
        one_hot = jnp.broadcast_to(ids, (e, n, n))
        actor_in = jnp.concatenate([obs, one_hot], -1)
        if a.algo == "mappo":
            joint = jnp.broadcast_to(obs.reshape(e, 1, -1), (e, n, obs.shape[-1] * n))
            return actor_in, jnp.concatenate([joint, one_hot], -1)
        return actor_in, actor_in

    def stacked(d):
        return jnp.stack([d[x] for x in agents], axis=1)

    def env_step(key, state, actions):
        """JaxMARL's `step` (auto-reset at an episode's end), also returning the observation the
        episode ended in, which its `step` replaces by the next episode's first."""
        k_step, k_reset = jax.random.split(key)
        obs_st, state_st, reward, done, info = env.step_env(k_step, state, actions)
        obs_re, state_re = env.reset(k_reset)
        pick = lambda re, st: jax.lax.select(done["__all__"], re, st)
        return jax.tree.map(pick, obs_re, obs_st), jax.tree.map(pick, state_re, state_st), reward, done, obs_st

    schedule = (lambda count: a.lr * (1.0 - (count // (a.minibatches * a.epochs)) / updates)) if a.anneal else a.lr
    tx = optax.chain(optax.clip_by_global_norm(0.5), optax.adam(schedule, eps=1e-5))

    def train(key):
        key, ka, kc, kr = jax.random.split(key, 4)
        obs, env_state = jax.vmap(env.reset)(jax.random.split(kr, a.envs))
        obs = stacked(obs)
        actor_in, critic_in = inputs(obs)
        params = {"actor": actor.init(ka, actor_in[0]), "critic": critic.init(kc, critic_in[0])}
        opt_state = tx.init(params)
        episode_acc = jnp.zeros((a.envs, n))

        def rollout_step(carry, _):
            params, env_state, obs, episode_acc, key = carry
            key, ks, ke = jax.random.split(key, 3)
            actor_in, critic_in = inputs(obs)
            logits = actor.apply(params["actor"], actor_in)
            value = critic.apply(params["critic"], critic_in)[..., 0]
            action = jax.random.categorical(ks, logits)
            logp = jnp.take_along_axis(jax.nn.log_softmax(logits), action[..., None], -1)[..., 0]
            step_actions = {x: action[:, i] for i, x in enumerate(agents)}
            next_obs, env_state, reward, done, ended_obs = jax.vmap(env_step)(jax.random.split(ke, a.envs), env_state, step_actions)
            reward, done = stacked(reward), done["__all__"]
            # simple_spread's episodes end only at the time limit: with --bootstrap 1 the value of
            # the observation an episode ended in stands in for its future (as `shoal train` does).
            end_value = critic.apply(params["critic"], inputs(stacked(ended_obs))[1])[..., 0] if a.bootstrap else jnp.zeros_like(value)
            episode_acc = episode_acc + reward
            ended_return = jnp.where(done, episode_acc.mean(-1), 0.0).sum()
            episode_acc = jnp.where(done[:, None], 0.0, episode_acc)
            sample = (actor_in, critic_in, action, logp, value, reward, jnp.broadcast_to(done[:, None], (a.envs, n)), end_value)
            return (params, env_state, stacked(next_obs), episode_acc, key), (sample, ended_return, done.sum())

        def loss_fn(params, mb):
            actor_in, critic_in, action, old_logp, old_value, advantage, ret = mb
            logits = actor.apply(params["actor"], actor_in)
            log_probs = jax.nn.log_softmax(logits)
            logp = jnp.take_along_axis(log_probs, action[..., None], -1)[..., 0]
            value = critic.apply(params["critic"], critic_in)[..., 0]
            clipped = old_value + jnp.clip(value - old_value, -a.clip, a.clip)
            value_loss = 0.5 * jnp.maximum((value - ret) ** 2, (clipped - ret) ** 2).mean()
            advantage = (advantage - advantage.mean()) / (advantage.std() + 1e-8)
            ratio = jnp.exp(logp - old_logp)
            policy_loss = -jnp.minimum(ratio * advantage, jnp.clip(ratio, 1 - a.clip, 1 + a.clip) * advantage).mean()
            entropy = -(jnp.exp(log_probs) * log_probs).sum(-1).mean()
            return policy_loss + 0.5 * value_loss - 0.01 * entropy

        def update(carry, _):
            params, opt_state, env_state, obs, episode_acc, key = carry
            (params, env_state, obs, episode_acc, key), (traj, ended, count) = jax.lax.scan(
                rollout_step, (params, env_state, obs, episode_acc, key), None, a.rollout)
            actor_in, critic_in, action, logp, value, reward, done, end_value = traj
            last_value = critic.apply(params["critic"], inputs(obs)[1])[..., 0]

            def gae(carry, t):
                adv, next_value = carry
                r, v, d, end = t
                delta = r + a.gamma * (next_value * (1 - d) + end * d) - v
                adv = delta + a.gamma * a.gae_lambda * (1 - d) * adv
                return (adv, v), adv

            _, advantage = jax.lax.scan(gae, (jnp.zeros_like(last_value), last_value), (reward, value, done, end_value), reverse=True)
            data = (actor_in, critic_in, action, logp, value, advantage, advantage + value)
            data = jax.tree.map(lambda x: x.reshape((batch,) + x.shape[3:]), data)

            def epoch(carry, _):
                params, opt_state, key = carry
                key, kp = jax.random.split(key)
                order = jax.random.permutation(kp, batch)
                shuffled = jax.tree.map(lambda x: x[order].reshape((a.minibatches, minibatch) + x.shape[1:]), data)

                def step(carry, mb):
                    params, opt_state = carry
                    grads = jax.grad(loss_fn)(params, mb)
                    changes, opt_state = tx.update(grads, opt_state)
                    return (optax.apply_updates(params, changes), opt_state), None

                (params, opt_state), _ = jax.lax.scan(step, (params, opt_state), shuffled)
                return (params, opt_state, key), None

            (params, opt_state, key), _ = jax.lax.scan(epoch, (params, opt_state, key), None, a.epochs)
            mean_return = ended.sum() / jnp.maximum(count.sum(), 1)
            return (params, opt_state, env_state, obs, episode_acc, key), mean_return

        _, returns = jax.lax.scan(update, (params, opt_state, env_state, obs, episode_acc, key), None, updates)
        return returns

    return jax.jit(train), updates


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--algo", choices=["ippo", "mappo"], default="mappo")
    p.add_argument("--steps", type=int, default=2_000_000, help="env steps (every agent acts once)")
    p.add_argument("--envs", type=int, default=512)
    p.add_argument("--rollout", type=int, default=25, help="steps per env per update")
    p.add_argument("--lr", type=float, default=7e-4)
    p.add_argument("--anneal", type=int, default=1, help="anneal the learning rate to 0 (1) or not (0)")
    p.add_argument("--epochs", type=int, default=4)
    p.add_argument("--minibatches", type=int, default=4)
    p.add_argument("--hidden", type=int, default=64)
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--gamma", type=float, default=0.99)
    p.add_argument("--gae-lambda", type=float, default=0.95)
    p.add_argument("--clip", type=float, default=0.2)
    p.add_argument("--bootstrap", type=int, default=0,
                   help="treat the time limit as terminal, as JaxMARL's baselines do (0), or bootstrap from the value of the last observation, as shoal does (1)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", required=True)
    a = p.parse_args()
    import jax

    train, updates = make_train(a)
    if updates < 1:
        raise SystemExit(f"--steps {a.steps} is less than one update ({a.envs} envs × {a.rollout} steps)")
    key = jax.random.PRNGKey(a.seed)
    start = time.perf_counter()
    compiled = train.lower(key).compile()
    compile_seconds = time.perf_counter() - start
    start = time.perf_counter()
    returns = compiled(key).block_until_ready()
    seconds = time.perf_counter() - start
    env_steps = updates * a.envs * a.rollout
    tail = returns[-max(1, updates // 10):]
    final = float(tail.mean())
    version = f"jaxmarl {metadata.version('jaxmarl')}, jax {jax.__version__} ({jax.default_backend()})"
    print(f"jaxmarl {a.algo}: {env_steps:,} env steps in {seconds:.1f} s ({env_steps / seconds:,.0f} env-steps/s) "
          f"+ {compile_seconds:.1f} s compiling; return {float(returns[0]):.2f} → {final:.2f}  ({version})", flush=True)
    row = {
        "workload": f"{a.algo}_simple_spread_train", "system": "jaxmarl", "version": version,
        "envs": a.envs, "rollout": a.rollout, "lr": a.lr, "bootstrap": bool(a.bootstrap), "env_steps": env_steps, "seconds": seconds,
        "compile_seconds": compile_seconds, "env_steps_per_s": env_steps / seconds,
        "first_return": float(returns[0]), "final_return": final, "returns": [float(r) for r in returns],
        "cpu": cpu_model(), "adapter": jax.devices()[0].device_kind,
    }
    with open(a.out, "w") as f:
        json.dump([row], f, indent=1)


if __name__ == "__main__":
    main()
