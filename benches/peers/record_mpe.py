"""Record reference trajectories from mpe2, in the conformance format of MPE_SPEC.md §10.

`shoal replay --env <scenario> --input FILE --check` replays them. The golden file
(`tests/data/mpe_mixed.jsonl` and the rest) holds mpe2's default options; this script records
other options and seeds the same way, so that the options shoal reads (`num_good`,
`terminate_on_success`, ...) are checked against mpe2 itself:

    python benches/peers/record_mpe.py --scenario simple_tag --kwargs '{"num_good": 2}' \
        --seeds 0,1 --continuous both >> trajectories.jsonl

Actions follow the golden files' rule: `rng = default_rng(1000 + seed)`, drawn per step for each
live agent in agent order (discrete `integers(0, n)`, continuous `uniform(0, 1, d)` as float32).
Needs mpe2 1.1.1 (the peers venv of `make bench-peers`).
"""

import argparse
import importlib
import json
import sys

import numpy as np

VERSIONED = {
    "simple": "simple_v3",
    "simple_spread": "simple_spread_v3",
    "simple_adversary": "simple_adversary_v3",
    "simple_crypto": "simple_crypto_v3",
    "simple_push": "simple_push_v3",
    "simple_reference": "simple_reference_v3",
    "simple_speaker_listener": "simple_speaker_listener_v4",
    "simple_tag": "simple_tag_v3",
    "simple_world_comm": "simple_world_comm_v3",
    "simple_line": "simple_line_v1",
    "simple_formation": "simple_formation_v1",
    "collect_treasure": "collect_treasure_v1",
}


def plain(value):
    """JSON-ready copy of numpy scalars and arrays."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (np.floating,)):
        return float(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.bool_,)):
        return bool(value)
    return value


def attr(obj, name):
    """`obj.name`, or None where it is absent or not yet set (mpe2 asserts on some)."""
    try:
        return getattr(obj, name)
    except (AttributeError, AssertionError):
        return None


def goal_ref(world, entity):
    """A goal as `[kind, index]` (MPE_SPEC.md §10)."""
    if entity is None:
        return None
    for i, landmark in enumerate(world.landmarks):
        if landmark is entity:
            return ["landmark", i]
    for i, agent in enumerate(world.agents):
        if agent is entity:
            return ["agent", i]
    return None


def hidden(world):
    """The per-entity variables the observations do not show (goals, keys, treasure state)."""
    agents = []
    for agent in world.agents:
        row = {"color": plain(attr(agent, "color"))}
        for flag in ("adversary", "leader", "speaker", "collector"):
            if hasattr(type(agent), flag) or flag in vars(agent):
                row[flag] = bool(attr(agent, flag))
        for goal in ("goal_a", "goal_b"):
            if hasattr(type(agent), goal) or goal in vars(agent):
                row[goal] = goal_ref(world, attr(agent, goal))
        for name in ("key", "holding"):
            if hasattr(type(agent), name) or name in vars(agent):
                row[name] = plain(attr(agent, name))
        if "d_i" in vars(agent) and not attr(agent, "collector"):
            row["d_i"] = plain(agent.d_i)
        agents.append(row)
    landmarks = []
    for k, landmark in enumerate(world.landmarks):
        row = {"color": plain(attr(landmark, "color"))}
        for name in ("boundary", "index", "type", "alive"):
            if hasattr(type(landmark), name) or name in vars(landmark):
                row[name] = plain(attr(landmark, name))
        landmarks.append(row)
    out = {"agents": agents, "landmarks": landmarks}
    for group in ("food", "forests"):
        if hasattr(world, group):
            out[group] = [k for k, landmark in enumerate(world.landmarks) if any(landmark is e for e in getattr(world, group))]
    return out


def record(scenario, kwargs, seed, continuous, max_cycles):
    module = importlib.import_module(f"mpe2.{VERSIONED[scenario]}")
    env = module.parallel_env(continuous_actions=continuous, max_cycles=max_cycles, **kwargs)
    obs, _ = env.reset(seed=seed)
    raw = env.unwrapped
    world = raw.world
    names = list(env.possible_agents)
    spaces = [env.action_space(a) for a in names]
    movers_landmarks = world.landmarks

    def positions(entities, field):
        return [plain(getattr(e.state, field)) for e in entities]

    trajectory = {
        "scenario": scenario,
        "env": VERSIONED[scenario],
        "kwargs": kwargs,
        "n_agents": len(names),
        "agents": names,
        "continuous": continuous,
        "max_cycles": max_cycles,
        "local_ratio": raw.local_ratio,
        "seed": seed,
        "source": "mpe2=={} via shoal benches/peers/record_mpe.py".format(importlib.import_module("mpe2").__version__ if hasattr(importlib.import_module("mpe2"), "__version__") else "1.1.1"),
        "action_spaces": [
            {"type": "Box", "shape": list(s.shape)} if continuous else {"type": "Discrete", "n": int(s.n)} for s in spaces
        ],
        "obs_dims": [int(env.observation_space(a).shape[0]) for a in names],
        "init": {
            "agent_pos": positions(world.agents, "p_pos"),
            "agent_vel": positions(world.agents, "p_vel"),
            "agent_c": [plain(a.state.c) for a in world.agents],
            "landmark_pos": positions(movers_landmarks, "p_pos"),
            "landmark_vel": positions(movers_landmarks, "p_vel"),
            "obs": [plain(obs[a]) for a in names],
            "hidden": hidden(world),
        },
        "actions": [],
        "steps": [],
    }
    rng = np.random.default_rng(1000 + seed)
    tracks_landmarks = scenario == "collect_treasure"
    while env.agents:
        actions = {}
        row = []
        for a, space in zip(names, spaces):
            if a not in env.agents:
                row.append(None)
                continue
            if continuous:
                action = rng.uniform(0, 1, space.shape[0]).astype(np.float32)
                row.append([float(x) for x in action])
            else:
                action = int(rng.integers(0, space.n))
                row.append(action)
            actions[a] = action
        obs, rew, terminated, truncated, _ = env.step(actions)
        step = {
            "obs": [plain(obs[a]) if a in obs else None for a in names],
            "rew": [float(rew[a]) if a in rew else None for a in names],
            "terminated": [bool(terminated.get(a, False)) for a in names],
            "truncated": [bool(truncated.get(a, False)) for a in names],
            "agents_after": [a in env.agents for a in names],
            "agent_pos": positions(world.agents, "p_pos"),
            "agent_vel": positions(world.agents, "p_vel"),
            "agent_c": [plain(a.state.c) for a in world.agents],
        }
        if tracks_landmarks:
            step["landmark_pos"] = positions(world.landmarks, "p_pos")
            step["hidden"] = hidden(world)
        trajectory["actions"].append(row)
        trajectory["steps"].append(step)
    return trajectory


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenario", required=True, choices=sorted(VERSIONED))
    parser.add_argument("--kwargs", default="{}", help="mpe2 keyword arguments as JSON")
    parser.add_argument("--seeds", default="0", help="comma-separated")
    parser.add_argument("--continuous", choices=["false", "true", "both"], default="both")
    parser.add_argument("--max-cycles", type=int, default=25)
    args = parser.parse_args()
    kwargs = json.loads(args.kwargs)
    kinds = {"false": [False], "true": [True], "both": [False, True]}[args.continuous]
    for seed in [int(s) for s in args.seeds.split(",")]:
        for continuous in kinds:
            line = record(args.scenario, kwargs, seed, continuous, args.max_cycles)
            sys.stdout.write(json.dumps(line) + "\n")


if __name__ == "__main__":
    main()
