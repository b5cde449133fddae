"""PettingZoo's ParallelEnv over one shoal env on the device.

One Python env is a batch of one env in shoal: each ``step`` uploads the actions (one small copy
per agent group) and reads back observations, rewards and flags — PettingZoo's contract is
numpy in and out. For the engine's speed use ``shoal.vector_env`` and its on-device rollouts.

Agents are named as PettingZoo names them: ``<group>_<index>`` within each group, groups in the
env's order (``agent_0``, ``adversary_0``, ``speaker_0`` ...). Episodes end for every agent
together (time limit or a terminal state); after that ``agents`` is empty until ``reset``.

Seeding: where shoal reproduces the reference's draws (eleven of the twelve
MPE scenarios: all but collect_treasure), ``reset(seed)``
draws the first world from NumPy's generator exactly as mpe2 does, so the same seed gives the
same episode as ``mpe2.<env>.parallel_env``; ``reset()`` without a seed goes on drawing from it.
Elsewhere a seed keys shoal's own counter-based generator.
"""

from __future__ import annotations

import secrets

import numpy as np
from gymnasium import spaces
from pettingzoo import ParallelEnv as _PettingZooParallelEnv

from ._shoal import Batch


def _agent_names(spec):
    names = []
    for group in spec["groups"]:
        names.extend(f"{group['name']}_{i}" for i in range(group["agents"]))
    return names


def _action_space(group):
    if group["action"] == "discrete":
        return spaces.Discrete(group["n"])
    return spaces.Box(low=group["low"], high=group["high"], shape=(group["dim"],), dtype=np.float32)


def _observation_space(group):
    return spaces.Box(low=-np.inf, high=np.inf, shape=(group["obs_dim"],), dtype=np.float32)


def batch_arguments(max_cycles=None, continuous_actions=False, local_ratio=None, size=None, **options):
    """PettingZoo's keywords (mpe2's ``max_cycles``, ``continuous_actions``, ``local_ratio``) as
    the batch's arguments; every other keyword is the env's own option (``N``, ``num_good``...)."""
    return dict(size=size, max_cycles=max_cycles, continuous=continuous_actions, local_ratio=local_ratio, options=options)


class ParallelEnv(_PettingZooParallelEnv):
    """A PettingZoo ``ParallelEnv`` for the registered env ``name``."""

    metadata = {"render_modes": ["rgb_array"], "name": "shoal", "is_parallelizable": True, "render_fps": 10}

    def __init__(self, name, render_mode=None, **kwargs):
        if render_mode not in (None, "rgb_array"):
            raise ValueError(f"render_mode={render_mode!r}: shoal renders 'rgb_array' (or None)")
        self._batch = Batch(name, 1, **batch_arguments(**kwargs))
        self._spec = self._batch.spec()
        self.metadata = dict(ParallelEnv.metadata, name=f"shoal_{self._spec['name']}")
        self.render_mode = render_mode
        self.max_cycles = self._spec["max_cycles"]
        self.possible_agents = _agent_names(self._spec)
        self.agents = []
        # (group index, index within the group, index over all agents) of each agent.
        self._place = {}
        for g, group in enumerate(self._spec["groups"]):
            for i in range(group["agents"]):
                self._place[f"{group['name']}_{i}"] = (g, i, len(self._place))
        self._observation_spaces = {a: _observation_space(self._spec["groups"][self._place[a][0]]) for a in self.possible_agents}
        self._action_spaces = {a: _action_space(self._spec["groups"][self._place[a][0]]) for a in self.possible_agents}
        self.state_space = spaces.Box(low=-np.inf, high=np.inf, shape=(sum(s.shape[0] for s in self._observation_spaces.values()),), dtype=np.float32)
        self._reference_seeding = self._batch.has_reference_seeding()
        self._seeds = None
        self._last_obs = None

    def observation_space(self, agent):
        return self._observation_spaces[agent]

    def action_space(self, agent):
        return self._action_spaces[agent]

    def reset(self, seed=None, options=None):
        if self._reference_seeding:
            out = self._batch.reset_like_reference(seed, secrets.randbits(63))
        else:
            # A seeded reset starts a stream of episode seeds; later unseeded resets go on in it.
            if seed is not None or self._seeds is None:
                self._seeds = np.random.default_rng(seed)
            out = self._batch.reset(seed if seed is not None else int(self._seeds.integers(2**63)))
        self.agents = list(self.possible_agents)
        observations = self._observations(out["obs"])
        return observations, {a: {} for a in self.agents}

    def step(self, actions):
        if not self.agents:
            raise ValueError("step() after the episode ended: call reset() first")
        arrays = []
        for g, group in enumerate(self._spec["groups"]):
            if group["action"] == "discrete":
                arrays.append(np.zeros((1, group["agents"]), dtype=np.int32))
            else:
                arrays.append(np.zeros((1, group["agents"], group["dim"]), dtype=np.float32))
        for agent, action in actions.items():
            if agent not in self._place:
                raise ValueError(f"action for {agent!r}: this env's agents are {', '.join(self.possible_agents)}")
            g, i, _ = self._place[agent]
            arrays[g][0, i] = action
        out = self._batch.step(arrays)
        agents = self.agents
        observations = self._observations(out["obs"])
        rewards = {a: float(out["reward"][0, self._place[a][2]]) for a in agents}
        terminated, truncated = bool(out["terminated"][0]), bool(out["truncated"][0])
        terminations = {a: terminated for a in agents}
        truncations = {a: truncated for a in agents}
        infos = {a: {} for a in agents}
        if terminated or truncated:
            self.agents = []
        return observations, rewards, terminations, truncations, infos

    def _observations(self, per_group):
        self._last_obs = per_group
        return {a: per_group[g][0, i] for a, (g, i, _) in self._place.items()}

    def render(self):
        if self.render_mode is None:
            return None
        return self._batch.render_rgb(480, 480)

    def state(self):
        """Every agent's observation, concatenated in agent order (mpe2's ``state()``)."""
        if self._last_obs is None:
            raise ValueError("state() before reset()")
        return np.concatenate([self._last_obs[g][0, i] for (g, i, _) in self._place.values()])

    def close(self):
        pass


def parallel_env(name, **kwargs):
    """``shoal.parallel_env("simple_spread", N=3, max_cycles=25)``: PettingZoo's parallel API."""
    return ParallelEnv(name, **kwargs)
