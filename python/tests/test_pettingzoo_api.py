"""PettingZoo's own API tests, unmodified, on every registered env."""

import numpy as np
import pytest
from pettingzoo.test import max_cycles_test, parallel_api_test, parallel_seed_test

import shoal
from conftest import small_kwargs


def test_parallel_api(env_name):
    env = shoal.parallel_env(env_name, **small_kwargs(env_name))
    parallel_api_test(env, num_cycles=1000)


def test_parallel_seed(env_name):
    kwargs = small_kwargs(env_name)
    parallel_seed_test(lambda: shoal.parallel_env(env_name, **kwargs), num_cycles=100)


def test_max_cycles(env_name):
    kwargs = small_kwargs(env_name)

    class Module:
        @staticmethod
        def parallel_env(**kw):
            return getattr(shoal.envs, env_name).parallel_env(**kwargs, **kw)

        @staticmethod
        def env(**kw):
            return getattr(shoal.envs, env_name).env(**kwargs, **kw)

    max_cycles_test(Module)


def test_registry_modules_are_pettingzoo_modules():
    # The module form needs no wrapper for the default sizes of the MPE suite.
    max_cycles_test(shoal.envs.simple_spread)
    assert set(shoal.envs.NAMES) == {name for name, _ in shoal.env_names()}


def test_spaces_and_names_follow_the_spec(env_name):
    env = shoal.parallel_env(env_name, **small_kwargs(env_name))
    obs, infos = env.reset(seed=3)
    assert env.agents == env.possible_agents
    for agent in env.agents:
        assert env.observation_space(agent).contains(obs[agent]), agent
        assert obs[agent].dtype == np.float32
    assert env.state().shape == env.state_space.shape


def test_render_is_an_rgb_array(env_name):
    env = shoal.parallel_env(env_name, render_mode="rgb_array", **small_kwargs(env_name))
    env.reset(seed=0)
    frame = env.render()
    assert frame.shape == (480, 480, 3) and frame.dtype == np.uint8
    # Something is drawn: not one flat colour.
    assert len(np.unique(frame.reshape(-1, 3), axis=0)) > 2
