"""Bad input becomes a Python exception with shoal's message; nothing panics across the boundary."""

import numpy as np
import pytest

import shoal


def test_unknown_env_lists_the_known_ones():
    with pytest.raises(ValueError, match="no such env; shoal has simple, simple_spread"):
        shoal.parallel_env("simple_sprad")


def test_unknown_option_names_the_ones_the_env_takes():
    with pytest.raises(ValueError, match="num_good"):
        shoal.parallel_env("simple_tag", num_goood=2)


def test_bad_option_value_is_refused():
    with pytest.raises(ValueError, match="N"):
        shoal.parallel_env("simple_spread", N=0)
    with pytest.raises(ValueError, match="not a bool, int, float or str"):
        shoal.parallel_env("simple_tag", num_good=[1])


def test_action_out_of_range_names_the_agent():
    env = shoal.parallel_env("simple_spread")
    env.reset(seed=0)
    with pytest.raises(ValueError, match=r"action out of range: env 0, agent 1: 7 \(valid: integers 0..5"):
        env.step({"agent_0": 0, "agent_1": 7, "agent_2": 0})
    with pytest.raises(ValueError, match="agent_9"):
        env.step({"agent_9": 0})


def test_continuous_action_out_of_bounds():
    env = shoal.vector_env("simple_spread", 2, continuous_actions=True)
    env.reset()
    actions = np.full((2, 3, 5), 0.5, dtype=np.float32)
    actions[1, 2, 4] = 1.5
    with pytest.raises(ValueError, match=r"env 1, agent 2: 1.5"):
        env.step(actions)


def test_step_after_the_episode_ended():
    env = shoal.parallel_env("simple", max_cycles=1)
    env.reset(seed=0)
    env.step({"agent_0": 0})
    assert env.agents == []
    with pytest.raises(ValueError, match="reset"):
        env.step({"agent_0": 0})


def test_bad_render_mode():
    with pytest.raises(ValueError, match="rgb_array"):
        shoal.parallel_env("simple", render_mode="human")


def test_bad_training_config(tmp_path):
    with pytest.raises(ValueError, match="total_env_stepz"):
        shoal.train({"env": "simple_spread", "total_env_stepz": 10}, tmp_path / "run")
    with pytest.raises(ValueError, match="<config>:1"):
        shoal.train("env = = 1", tmp_path / "run")
    with pytest.raises(ValueError, match="no None"):
        shoal.train({"env": None}, tmp_path / "run")
    assert not (tmp_path / "run" / "checkpoint").exists()
    # A run that cannot start leaves the file system as it was.
    with pytest.raises(ValueError, match="algo"):
        shoal.train({"env": "simple_tag", "algo": "coma"}, tmp_path / "never")
    assert not (tmp_path / "never").exists()


def test_missing_checkpoint(tmp_path):
    with pytest.raises((ValueError, OSError), match="checkpoint"):
        shoal.load_policy(tmp_path / "nothing")
