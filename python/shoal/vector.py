"""The batched face: ``num_envs`` envs stepped together, numpy arrays of ``[num_envs, agents, ...]``.

This is what shoal is for. Each env resets itself when its episode ends, on the device, as in
training: ``step`` returns the next episode's first observation there, and the observation the
episode ended in under ``info["final_obs"]`` (Gymnasium's vector convention). Arrays are keyed by
agent group (``{"agent": [E, A, obs_dim]}``); a single-group env also takes a bare array.

Copies: ``step`` uploads one array per agent group and reads back observations (twice: next and
final), rewards and the two flags — ``transfers()`` counts them. ``rollout`` does none of that:
it runs whole rollouts on the device (random actions, or a trained shoal policy) and reads back
only the episode statistics.
"""

from __future__ import annotations

import time

import numpy as np

from ._shoal import Batch
from .pettingzoo_env import batch_arguments


class VectorEnv:
    """``num_envs`` instances of the registered env ``name``."""

    def __init__(self, name, num_envs, **kwargs):
        self._batch = Batch(name, num_envs, **batch_arguments(**kwargs))
        self.spec = self._batch.spec()
        self.num_envs = num_envs
        self.groups = [g["name"] for g in self.spec["groups"]]
        self._seed = 0

    def reset(self, seed=0):
        """Starts every env (env *i* from the stream ``(seed, i)``); returns ``(obs, info)``."""
        self._seed = seed
        out = self._batch.reset(seed)
        return self._by_group(out["next_obs"]), {}

    def step(self, actions):
        """``actions``: ``{group: array}`` (int ``[E, A]`` or float ``[E, A, dim]``), or one array
        for a single-group env. Returns ``(obs, reward [E, N], terminated [E], truncated [E], info)``."""
        if not isinstance(actions, dict):
            if len(self.groups) != 1:
                raise ValueError(f"this env has agent groups {self.groups}: pass actions as {{group: array}}")
            actions = {self.groups[0]: actions}
        unknown = set(actions) - set(self.groups)
        if unknown:
            raise ValueError(f"actions for unknown groups {sorted(unknown)}: this env's groups are {self.groups}")
        arrays = []
        for group in self.spec["groups"]:
            if group["name"] not in actions:
                raise ValueError(f"no actions for group {group['name']!r}")
            dtype = np.int32 if group["action"] == "discrete" else np.float32
            arrays.append(np.ascontiguousarray(actions[group["name"]], dtype=dtype))
        out = self._batch.step(arrays)
        info = {"final_obs": self._by_group(out["obs"])}
        return self._by_group(out["next_obs"]), out["reward"], out["terminated"], out["truncated"], info

    def _by_group(self, arrays):
        return dict(zip(self.groups, arrays))

    def rollout(self, steps, policy=None, greedy=True, seed=None):
        """``steps`` steps on the device with random actions (``policy=None``) or the trained
        policy of a run directory, nothing read back but the episode statistics; continues from
        the current state. Returns the statistics with ``seconds`` and ``env_steps_per_s``."""
        seed = self._seed if seed is None else seed
        start = time.perf_counter()
        if policy is None:
            self._batch.run_random(steps, seed)
        else:
            self._batch.run_policy(str(policy), steps, greedy, seed)
        seconds = time.perf_counter() - start
        stats = self.episode_stats()
        stats.update(seconds=seconds, env_steps_per_s=steps * self.num_envs / seconds)
        return stats

    def episode_stats(self):
        """Episodes completed since the last reset: count, mean and std of returns, mean length."""
        return self._batch.episode_stats()

    def transfers(self):
        """Copies between host and device so far in this process (counts and bytes)."""
        return self._batch.transfers()

    def render(self, width=480, height=480):
        """Env 0 as an ``[height, width, 3]`` uint8 array."""
        return self._batch.render_rgb(width, height)


def vector_env(name, num_envs, **kwargs):
    """``shoal.vector_env("simple_spread", 16384)``: the batched numpy API."""
    return VectorEnv(name, num_envs, **kwargs)
