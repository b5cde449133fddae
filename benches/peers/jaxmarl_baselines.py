"""JaxMARL's own baseline scripts on simple_spread, timed and logged as shoal's rows.

    python jaxmarl_baselines.py --jaxmarl-src DIR --alg vdn_ff --steps 2000000 --seeds 3 \
        --out jaxmarl_vdn.json --curve jaxmarl_vdn.csv

Unlike `train.py` (a PPO learner written the way JaxMARL's scripts are), this runs JaxMARL's
scripts themselves: `baselines/QLearning/vdn_ff.py` (VDN, feed-forward, `vdn_ff_mpe.yaml`),
`iql_rnn.py` (IQL, recurrent, `ql_rnn_mpe.yaml` — JaxMARL no longer ships a feed-forward IQL),
`baselines/IPPO/ippo_ff_mpe.py` (IPPO, feed-forward, `ippo_ff_mpe.yaml`) and
`baselines/MAPPO/mappo_rnn_mpe.py` (MAPPO, recurrent — JaxMARL's only MAPPO for MPE; its log
names no seed, so it runs one seed per process).
They live in JaxMARL's repository, not in its pip package, so `--jaxmarl-src` names a checkout
whose package is installed in this interpreter (with its `algs` extras). The configuration is
theirs, untouched but for `TOTAL_TIMESTEPS`, `NUM_SEEDS` (the seeds are vmapped in one jit,
their way of running seeds) and any `--set KEY=VALUE`, which the row records.

Timing: compilation (`lower().compile()`) and training apart. The per-update metrics reach the
host through the scripts' own `jax.debug.callback` (their wandb hook, pointed at a list here): a
host round trip per update and seed (vmap unrolls the callback), which the timed training
includes. Their `WANDB_LOG_ALL_SEEDS` names each call's seed (`rng<first key word>/…`).

Returns, as shoal reports them: JaxMARL's `MPELogWrapper` multiplies each reward by the number of
agents ("as per on-policy codebase"), so the logged per-agent return is divided by it here; its
simple_spread episodes are 26 steps (its `done` fires when the step counter before the step
reaches 25), one more step than shoal's and mpe2's. Final = mean of the last 10% of updates.
"""
import argparse
import copy
import csv
import importlib
import json
import os
import sys
import time
from importlib import metadata

import numpy as np

from step import cpu_model

# alg: (folder under baselines/, module, config file under its config/ folder)
SCRIPTS = {
    "vdn_ff": ("QLearning", "vdn_ff", "alg/vdn_ff_mpe"),
    "iql_rnn": ("QLearning", "iql_rnn", "alg/ql_rnn_mpe"),
    "ippo_ff": ("IPPO", "ippo_ff_mpe", "ippo_ff_mpe"),
    "mappo_rnn": ("MAPPO", "mappo_rnn_mpe", "mappo_homogenous_rnn_mpe"),
}


class ListLog:
    """Stands in for the scripts' `wandb` module: `init` does nothing, `log` keeps the metrics."""

    def __init__(self):
        self.rows = []

    def init(self, *args, **kwargs):
        return None

    def log(self, metrics, step=None):
        self.rows.append({k: np.asarray(v) for k, v in metrics.items()})


def q_learning_curves(log, rngs, seeds, agents):
    """Env steps, return and greedy return [updates, seeds] from the Q-learning scripts' logged
    rows: one per update and seed, the seed in the keys' `rng<id>/` prefix."""
    seed_of = {int(k[0]): i for i, k in enumerate(np.asarray(rngs).reshape(seeds, -1))}
    per_seed = [[] for _ in range(seeds)]
    for r in log.rows:
        prefix = next(k.split("/")[0] for k in r if k.startswith("rng"))
        per_seed[seed_of[int(prefix[3:])]].append(r)
    for rows in per_seed:  # unordered callbacks: put each seed's updates back in order
        rows.sort(key=lambda r: float(r["update_steps"]))
    updates = min(len(rows) for rows in per_seed)
    steps = np.array([float(per_seed[0][i]["env_step"]) for i in range(updates)])

    def column(key):  # [updates, seeds], per agent (un-multiplied by the number of agents)
        return np.array([[float(per_seed[s][i][key]) for s in range(seeds)] for i in range(updates)]) / agents

    greedy_key = "test_returned_episode_returns"
    return steps, column("returned_episode_returns"), column(greedy_key) if greedy_key in per_seed[0][0] else None


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--jaxmarl-src", required=True, help="a JaxMARL checkout (its baselines/ folder)")
    p.add_argument("--alg", choices=sorted(SCRIPTS), required=True)
    p.add_argument("--steps", type=float, default=2e6)
    p.add_argument("--seeds", type=int, default=3, help="vmapped in one jit, as JaxMARL runs seeds")
    p.add_argument("--seed", type=int, default=0, help="the key the seeds are split from")
    p.add_argument("--out", required=True, help="JSON row")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="a config key over theirs (YAML value), e.g. NUM_LAYERS=4; recorded in the row")
    p.add_argument("--curve", help="CSV: env steps and return per update and seed")
    p.add_argument("--metrics", help="folder: seed<S>/metrics.csv per seed in shoal's columns, for "
                   "`cargo run --example plot_runs` (returns averaged over bins of --bin env steps)")
    p.add_argument("--bin", type=int, default=12800, help="env steps per metrics row (shoal's default update)")
    a = p.parse_args()

    folder, module, config_file = SCRIPTS[a.alg]
    if a.alg == "mappo_rnn" and a.seeds != 1:
        p.error("mappo_rnn logs its returns without the seed: run --seeds 1 (once per seed)")
    root = f"{a.jaxmarl_src}/baselines/{folder}"
    sys.path.insert(0, root)
    from omegaconf import OmegaConf
    import jax
    import yaml  # omegaconf's own dependency

    script = importlib.import_module(module)
    log = ListLog()
    script.wandb = log
    config = OmegaConf.to_container(OmegaConf.load(f"{root}/config/{config_file}.yaml"))
    if folder == "QLearning":  # the alg file goes over the shared config.yaml, as their main does
        config = {**OmegaConf.to_container(OmegaConf.load(f"{root}/config/config.yaml")), **config}
    config.update(TOTAL_TIMESTEPS=a.steps, NUM_SEEDS=a.seeds, SEED=a.seed, WANDB_MODE="online",
                  WANDB_LOG_ALL_SEEDS=True, SAVE_PATH=None)
    overrides = {}
    for item in a.set:
        key, sep, value = item.partition("=")
        if not sep or key not in config:
            p.error(f"--set {item}: expected KEY=VALUE with a key of {config_file}.yaml")
        overrides[key] = yaml.safe_load(value)
    config.update(overrides)
    if folder == "QLearning":
        env, env_name = script.env_from_config(copy.deepcopy(config))
        make_train = script.make_train(config, env)
    else:
        env_name = config["ENV_NAME"]
        make_train = script.make_train(config)
    import jaxmarl
    agents = jaxmarl.make(config["ENV_NAME"]).num_agents

    rngs = jax.random.split(jax.random.PRNGKey(config["SEED"]), a.seeds)
    train = jax.jit(jax.vmap(make_train))
    t0 = time.perf_counter()
    compiled = train.lower(rngs).compile()
    compile_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    out = jax.block_until_ready(compiled(rngs))
    train_s = time.perf_counter() - t0
    if folder == "QLearning":
        steps, ret, greedy = q_learning_curves(log, rngs, a.seeds, agents)
    elif a.alg == "mappo_rnn":  # logged per update: the rollout's last step's returns
        steps = np.array([float(r["env_step"]) for r in log.rows]) + config["NUM_ENVS"] * config["NUM_STEPS"]
        ret = np.array([[float(r["returns"])] for r in log.rows]) / agents
        greedy = None
    else:  # ippo_ff returns its metrics, [seeds, updates]
        ret = np.asarray(out["metrics"]["returned_episode_returns"]).T / agents
        steps = (np.arange(ret.shape[0]) + 1.0) * config["NUM_ENVS"] * config["NUM_STEPS"]
        greedy = None
    updates = len(steps)

    tail = max(1, updates // 10)
    final = ret[-tail:].mean(0)
    row = {
        "system": "jaxmarl",
        "algo": a.alg,
        "config": f"baselines/{folder}/config/{config_file}.yaml",
        "overrides": overrides,
        "env": env_name,
        "env_steps": int(steps[-1]),
        "seeds": a.seeds,
        "seed": a.seed,
        "compile_seconds": compile_s,
        "train_seconds": train_s,
        "env_steps_per_s": a.seeds * steps[-1] / train_s,
        "final_return_per_seed": final.tolist(),
        "final_return_mean": float(final.mean()),
        "final_return_std": float(final.std()),
        "final_greedy_return_per_seed": greedy[-1].tolist() if greedy is not None else None,
        "jaxmarl": metadata.version("jaxmarl"),
        "jax": jax.__version__,
        "device": str(jax.devices()[0]),
        "cpu": cpu_model(),
    }
    with open(a.out, "w") as f:
        json.dump(row, f, indent=2)
    if a.curve:
        with open(a.curve, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["env_steps"] + [f"return_seed{s}" for s in range(a.seeds)])
            for i in range(updates):
                w.writerow([int(steps[i])] + [f"{x:.6f}" for x in ret[i]])
    if a.metrics:
        labels = [a.seed] if a.seeds == 1 else list(range(a.seeds))
        write_metrics(a.metrics, steps, ret, a.bin, labels)
    print(json.dumps(row, indent=2))


def write_metrics(folder, steps, ret, bin_steps, labels):
    """One `seed<S>/metrics.csv` per seed with shoal's first columns (update, env_steps,
    mean_episode_return): each row the mean return over the updates that end in one bin of
    `bin_steps` env steps, at the bin's last update. A logged return of exactly 0 means no episode
    had ended yet (the log wrapper's initial value) and is left out."""
    bins = (steps - 1) // bin_steps
    for s, label in enumerate(labels):
        os.makedirs(f"{folder}/seed{label}", exist_ok=True)
        with open(f"{folder}/seed{label}/metrics.csv", "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["update", "env_steps", "mean_episode_return"])
            for i, b in enumerate(np.unique(bins)):
                rows = (bins == b) & (ret[:, s] != 0.0)
                if rows.any():
                    w.writerow([i + 1, int(steps[bins == b][-1]), f"{ret[rows, s].mean():.6f}"])


if __name__ == "__main__":
    main()
