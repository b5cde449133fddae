"""Training on the device from Python, and trained policies in a Python loop.

``train`` runs what ``shoal train`` runs (the same configuration keys, the same run directory:
``config.toml``, ``metrics.csv``, ``checkpoint/``, ``learning_curve.png``), and resumes a run
from its last checkpoint. ``load_policy`` gives a run's policy as a function of observations.
"""

from __future__ import annotations

import json
import os

import numpy as np

from . import _shoal


def train(config, out, resume=False, force=False, progress=True):
    """Trains ``config`` — a dict of ``shoal train`` keys (``{"env": "simple_spread", "algo":
    "mappo", "total_env_steps": 2_000_000}``), TOML text, or a path to a TOML file — into the run
    directory ``out`` (refused if a run is there, unless ``force``); ``resume=True`` continues
    the run in ``out``. Returns ``{env_steps, wall_seconds, final_return}``."""
    if resume:
        text = None
    elif isinstance(config, dict):
        text = _shoal.config_json_to_toml(json.dumps(config))
    elif isinstance(config, os.PathLike) or (isinstance(config, str) and config.endswith(".toml") and os.path.isfile(config)):
        with open(config, encoding="utf-8") as f:
            text = f.read()
    elif isinstance(config, str):
        text = config
    else:
        raise ValueError(f"config: {type(config).__name__} is not a dict, TOML text or a .toml path")
    return _shoal.train(text, os.fspath(out), resume=resume, force=force, progress=progress)


class LoadedPolicy:
    """A trained policy: ``act(obs)`` for PettingZoo's ``{agent: obs}`` (one env) or for
    ``{group: [E, A, obs_dim]}`` arrays (``num_envs`` envs)."""

    def __init__(self, path, num_envs=1, greedy=True, seed=0):
        self._policy = _shoal.Policy(os.fspath(path), num_envs, greedy, seed)
        self.spec = self._policy.spec()
        self.groups = [g["name"] for g in self.spec["groups"]]

    def act(self, obs):
        """Actions for ``obs``, in the form given: ``{agent: action}`` or ``{group: array}``."""
        if set(obs) <= set(self.groups):
            arrays = [np.ascontiguousarray(obs[g], dtype=np.float32) for g in self.groups]
            return dict(zip(self.groups, self._policy.act(arrays)))
        if self.spec["n_envs"] != 1:
            raise ValueError("act({agent: obs}) is for one env: load the policy with num_envs=1")
        arrays = []
        for group in self.spec["groups"]:
            rows = []
            for i in range(group["agents"]):
                agent = f"{group['name']}_{i}"
                # Agents already done get a zero observation; their actions are not returned.
                rows.append(obs.get(agent, np.zeros(group["obs_dim"], dtype=np.float32)))
            arrays.append(np.ascontiguousarray(np.stack(rows)[None], dtype=np.float32))
        actions = self._policy.act(arrays)
        out = {}
        for group, acted in zip(self.spec["groups"], actions):
            for i in range(group["agents"]):
                agent = f"{group['name']}_{i}"
                if agent in obs:
                    out[agent] = acted[0, i].item() if group["action"] == "discrete" else acted[0, i]
        return out


def load_policy(path, num_envs=1, greedy=True, seed=0):
    """The policy of a ``shoal train`` run (or its ``checkpoint/``) — greedy: each policy's mode;
    ``greedy=False``: sampled as in training."""
    return LoadedPolicy(path, num_envs, greedy, seed)
