"""One PettingZoo-style module per registered env: ``shoal.envs.simple_spread.parallel_env(...)``
and ``.env(...)`` (the AEC form, through PettingZoo's own ``parallel_to_aec``), as
``mpe2.simple_spread_v3`` offers them — what PettingZoo's ``max_cycles_test(module)`` takes.

The modules are made from the registry at import, so a new env needs nothing here.
"""

from __future__ import annotations

import sys
import types

from pettingzoo.utils.conversions import parallel_to_aec

from ._shoal import env_names
from .pettingzoo_env import ParallelEnv


def _module(name, about):
    module = types.ModuleType(f"{__name__}.{name}", f"shoal's {name}: {about}.")

    def parallel_env(**kwargs):
        return ParallelEnv(name, **kwargs)

    def env(**kwargs):
        return parallel_to_aec(ParallelEnv(name, **kwargs))

    parallel_env.__doc__ = f"PettingZoo's ParallelEnv for {name}: {about}."
    env.__doc__ = f"PettingZoo's AEC env for {name} (parallel_to_aec of parallel_env)."
    module.parallel_env = parallel_env
    module.env = env
    module.raw_env = env
    return module


NAMES = []
for _name, _about in env_names():
    _mod = _module(_name, _about)
    setattr(sys.modules[__name__], _name, _mod)
    sys.modules[_mod.__name__] = _mod
    NAMES.append(_name)
