"""MPE stepping (discrete, random actions) in one peer, timed the peer's fastest way.

    python step.py --system jaxmarl|vmas|mpe2 --envs 1024,16384 --steps 100 --out rows.json
    python step.py --system jaxmarl|vmas --scenario simple_tag --envs 1024,16384 --out rows.json
    python step.py --system shoal-python|shoal-rollout --envs 1024,16384 --out rows.json  # pip install ./python
    python step.py --system shoal-pettingzoo --envs 1 --steps 2000 --out rows.json

simple_spread (N=3) runs in every peer; the other MPE scenarios in JaxMARL and VMAS, with their
defaults (JaxMARL's are mpe2's; VMAS's ports have their own dynamics and 9 moves), each agent
drawing uniformly from its own action space.

Each system runs in its own process (`make bench-peers` calls this once per system) so JAX's and
torch's thread pools never share the two cores. Rows: {workload, system, version, envs,
env_steps_per_s, seconds, steps, cpu, adapter} — the format of `shoal bench --json` rows after
`report.py` has converted them. Times exclude compilation and warm-up.
"""
import argparse
import json
import platform
import time
from importlib import metadata


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


# JaxMARL's name of each MPE scenario it has.
JAXMARL_NAMES = {
    "simple_spread": "MPE_simple_spread_v3", "simple": "MPE_simple_v3", "simple_adversary": "MPE_simple_adversary_v3",
    "simple_crypto": "MPE_simple_crypto_v3", "simple_push": "MPE_simple_push_v3", "simple_reference": "MPE_simple_reference_v3",
    "simple_speaker_listener": "MPE_simple_speaker_listener_v4", "simple_tag": "MPE_simple_tag_v3",
    "simple_world_comm": "MPE_simple_world_comm_v3",
}


def jaxmarl_rate(envs, steps, device, scenario="simple_spread"):
    """JaxMARL: vmap over envs, lax.scan over steps, all under jit (its documented fast path)."""
    import jax
    import jax.numpy as jnp
    import jaxmarl

    env = jaxmarl.make(JAXMARL_NAMES[scenario])
    agents = env.agents
    sizes = jnp.array([env.action_space(a).n for a in agents])
    key = jax.random.PRNGKey(0)
    reset = jax.vmap(env.reset)
    step = jax.vmap(env.step)

    @jax.jit
    def run(key):
        key, k = jax.random.split(key)
        obs, state = reset(jax.random.split(k, envs))

        def body(carry, _):
            key, state = carry
            key, ka, ks = jax.random.split(key, 3)
            acts = jax.random.randint(ka, (len(agents), envs), 0, sizes[:, None])
            actions = {a: acts[i] for i, a in enumerate(agents)}
            obs, state, rew, done, info = step(jax.random.split(ks, envs), state, actions)
            return (key, state), rew[agents[0]].sum()

        (_, state), total = jax.lax.scan(body, (key, state), None, length=steps)
        return total.sum()

    run(key).block_until_ready()  # compile
    start = time.perf_counter()
    run(jax.random.PRNGKey(1)).block_until_ready()
    seconds = time.perf_counter() - start
    return seconds, f"jaxmarl {metadata.version('jaxmarl')}, jax {jax.__version__} ({jax.default_backend()})"


# VMAS's MPE ports (vmas.scenarios.mpe).
VMAS_SCENARIOS = ("simple", "simple_adversary", "simple_crypto", "simple_push", "simple_reference",
                  "simple_speaker_listener", "simple_spread", "simple_tag", "simple_world_comm")


def vmas_rate(envs, steps, device, scenario="simple_spread"):
    """VMAS: one vectorised torch env of `envs` instances on `device` (torch's name: cpu, cuda)."""
    import torch
    import vmas

    if scenario == "simple_spread":
        env = vmas.make_env("simple_spread", num_envs=envs, device=device, continuous_actions=False, n_agents=3, seed=0)
    else:
        env = vmas.make_env(scenario, num_envs=envs, device=device, continuous_actions=False, seed=0)
    env.reset()
    gen = torch.Generator(device=device).manual_seed(0)

    def one():
        if scenario == "simple_spread":
            actions = [torch.randint(0, 5, (envs,), generator=gen, device=device) for _ in env.agents]
        else:
            actions = env.get_random_actions()
        env.step(actions)

    def sync():
        if device != "cpu":
            torch.cuda.synchronize()

    for _ in range(5):
        one()
    sync()
    start = time.perf_counter()
    for _ in range(steps):
        one()
    sync()
    seconds = time.perf_counter() - start
    where = torch.cuda.get_device_name() if device != "cpu" else f"{torch.get_num_threads()} threads"
    return seconds, f"vmas {metadata.version('vmas')}, torch {torch.__version__} ({where})"


def pettingzoo_seconds(env, steps):
    """`steps` steps of one PettingZoo parallel env with random discrete actions, reset when its
    episode ends: the loop of the mpe2 and shoal-pettingzoo rows."""
    import numpy as np

    env.reset(seed=0)
    rng = np.random.default_rng(0)
    start = time.perf_counter()
    for _ in range(steps):
        if not env.agents:
            env.reset()
        env.step({a: int(rng.integers(5)) for a in env.agents})
    return time.perf_counter() - start


def mpe2_rate(envs, steps, device):
    """mpe2 (PettingZoo's MPE): one env, its parallel API, auto-reset at the 25-step limit."""
    from mpe2 import simple_spread_v3

    if envs != 1 or device != "cpu":
        raise SystemExit("mpe2 steps one env at a time on the CPU: use --envs 1 --device cpu")
    seconds = pettingzoo_seconds(simple_spread_v3.parallel_env(N=3, max_cycles=25, continuous_actions=False), steps)
    return seconds, f"mpe2 {metadata.version('mpe2')}, pettingzoo {metadata.version('pettingzoo')}"


def shoal_python_rate(envs, steps, device):
    """shoal from Python (`shoal.vector_env`): numpy actions in, numpy observations, rewards and
    flags out, every step — the batched API's cost with its copies."""
    import numpy as np
    import shoal

    env = shoal.vector_env("simple_spread", envs)
    env.reset(seed=0)
    rng = np.random.default_rng(0)
    actions = [rng.integers(5, size=(envs, 3), dtype=np.int32) for _ in range(8)]
    for i in range(5):
        env.step(actions[i % 8])
    start = time.perf_counter()
    for i in range(steps):
        env.step(actions[i % 8])
    seconds = time.perf_counter() - start
    return seconds, f"shoal {metadata.version('shoal')} from Python ({shoal.adapter()})"


def shoal_pettingzoo_rate(envs, steps, device):
    """shoal's PettingZoo face (`shoal.parallel_env`): one env, dicts in and out, reset at the
    25-step limit — the same loop as the mpe2 row."""
    import shoal

    if envs != 1:
        raise SystemExit("the PettingZoo face steps one env: use --envs 1")
    seconds = pettingzoo_seconds(shoal.parallel_env("simple_spread", N=3, max_cycles=25), steps)
    return seconds, f"shoal {metadata.version('shoal')}, PettingZoo face ({shoal.adapter()})"


def shoal_rollout_rate(envs, steps, device):
    """shoal from Python, the whole rollout on the device (`VectorEnv.rollout`): random actions
    sampled there, only the episode statistics read back."""
    import shoal

    env = shoal.vector_env("simple_spread", envs)
    env.reset(seed=0)
    env.rollout(5)
    stats = env.rollout(steps)
    return stats["seconds"], f"shoal {metadata.version('shoal')} from Python, on-device rollout ({shoal.adapter()})"


def adapter(system, device):
    """The device the row ran on, by name: the GPU's when there is one, else "cpu"."""
    if system == "jaxmarl":
        import jax
        return "cpu" if jax.default_backend() == "cpu" else jax.devices()[0].device_kind
    if system == "vmas" and device != "cpu":
        import torch
        return torch.cuda.get_device_name()
    if system.startswith("shoal"):
        import shoal
        return shoal.adapter()
    return "cpu"


RUNNERS = {"jaxmarl": jaxmarl_rate, "vmas": vmas_rate, "mpe2": mpe2_rate,
           "shoal-python": shoal_python_rate, "shoal-rollout": shoal_rollout_rate,
           "shoal-pettingzoo": shoal_pettingzoo_rate}


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--system", choices=sorted(RUNNERS), required=True)
    p.add_argument("--envs", default="1024,16384")
    p.add_argument("--steps", type=int, default=100)
    p.add_argument("--device", default="cpu", help="VMAS's torch device (cpu, cuda); JAX takes its default backend")
    p.add_argument("--scenario", default="simple_spread", help="an MPE scenario (other than simple_spread: jaxmarl and vmas)")
    p.add_argument("--out", required=True)
    args = p.parse_args()
    has = {"jaxmarl": JAXMARL_NAMES, "vmas": VMAS_SCENARIOS}.get(args.system, ("simple_spread",))
    if args.scenario not in has:
        raise SystemExit(f"{args.scenario}: {args.system} runs {', '.join(has)} here")
    rows = []
    for envs in [int(e) for e in args.envs.split(",")]:
        extra = {"scenario": args.scenario} if args.scenario != "simple_spread" else {}
        seconds, version = RUNNERS[args.system](envs, args.steps, args.device, **extra)
        rate = envs * args.steps / seconds
        print(f"{args.system:8} {envs:>7} envs: {rate:>12,.0f} env-steps/s  ({version})", flush=True)
        rows.append({
            "workload": f"{args.scenario}_step", "system": args.system, "version": version, "envs": envs,
            "steps": args.steps, "seconds": seconds, "env_steps_per_s": rate,
            "cpu": cpu_model(), "adapter": adapter(args.system, args.device),
        })
        with open(args.out, "w") as f:  # after every size: a run cut short keeps what it measured
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
