"""shoal: multi-agent reinforcement learning at GPU speed, from Python.

Environments are WGSL kernels that step thousands of instances on the device; learners train
there with burn. This package is a thin face over the Rust crate (``shoal._shoal``):

- ``shoal.parallel_env(name, **options)`` — PettingZoo's ``ParallelEnv`` (one env);
- ``shoal.vector_env(name, num_envs, **options)`` — the batched numpy API and on-device rollouts;
- ``shoal.train(config, out)`` / ``shoal.load_policy(out)`` — training on the device;
- ``shoal.envs.<name>`` — PettingZoo-style modules (``parallel_env``, ``env``) per registered env.

Errors are ``ValueError`` for what the caller gave (options, actions, configs), ``OSError`` for
files and ``RuntimeError`` for the device (no adapter), with the messages the CLI prints.
"""

from ._shoal import adapter, env_names
from .pettingzoo_env import ParallelEnv, parallel_env
from .training import LoadedPolicy, load_policy, train
from .vector import VectorEnv, vector_env
from . import envs

__all__ = [
    "ParallelEnv",
    "VectorEnv",
    "LoadedPolicy",
    "adapter",
    "env_names",
    "envs",
    "load_policy",
    "parallel_env",
    "train",
    "vector_env",
]
