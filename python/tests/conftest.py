"""Every registered env at a size PettingZoo's tests can step through quickly on a CPU adapter."""

import pytest

import shoal

# Keyword arguments per env for the API tests (default sizes are hundreds to thousands of agents).
SMALL = {
    "swarm": dict(size=12),
    "ising": dict(size=4),
    "battle": dict(size=12),
    "routing": dict(size=12),
    "market": dict(size=12),
}


def small_kwargs(name):
    return dict(SMALL.get(name, {}))


@pytest.fixture(params=shoal.envs.NAMES)
def env_name(request):
    return request.param
