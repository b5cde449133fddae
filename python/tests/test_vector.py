"""The batched face: shapes, auto-reset, determinism across batch sizes, counted copies, rollouts."""

import numpy as np
import pytest

import shoal


def random_actions(env, rng):
    out = {}
    for group in env.spec["groups"]:
        if group["action"] == "discrete":
            out[group["name"]] = rng.integers(group["n"], size=(env.num_envs, group["agents"]))
        else:
            out[group["name"]] = rng.uniform(group["low"], group["high"], size=(env.num_envs, group["agents"], group["dim"]))
    return out


def test_shapes_and_auto_reset():
    env = shoal.vector_env("simple_spread", 16)
    obs, _ = env.reset(seed=1)
    assert obs["agent"].shape == (16, 3, 18) and obs["agent"].dtype == np.float32
    rng = np.random.default_rng(0)
    for step in range(1, 26):
        obs, reward, terminated, truncated, info = env.step(random_actions(env, rng)["agent"])
        assert reward.shape == (16, 3) and terminated.shape == (16,) and truncated.shape == (16,)
        assert not terminated.any()
        assert truncated.all() == (step == 25)
    # The device has already started the next episode: new positions, the final ones in info.
    assert not np.allclose(obs["agent"], info["final_obs"]["agent"])
    assert env.episode_stats()["episodes"] == 16


def test_env_i_does_not_depend_on_the_batch():
    small, large = shoal.vector_env("simple_spread", 4), shoal.vector_env("simple_spread", 32)
    a, _ = small.reset(seed=9)
    b, _ = large.reset(seed=9)
    np.testing.assert_array_equal(a["agent"], b["agent"][:4])
    actions = np.random.default_rng(1).integers(5, size=(32, 3))
    a = small.step(actions[:4])[0]
    b = large.step(actions)[0]
    np.testing.assert_array_equal(a["agent"], b["agent"][:4])


def test_copies_are_counted_and_rollouts_make_none_per_step():
    env = shoal.vector_env("simple_spread", 64)
    env.reset(seed=0)
    before = env.transfers()
    env.step(np.zeros((64, 3), dtype=np.int32))
    after = env.transfers()
    assert after["uploads"] - before["uploads"] == 1
    # next and final observations, rewards, the two flags (one read).
    assert after["downloads"] - before["downloads"] == 4
    before = env.transfers()
    stats = env.rollout(250)
    after = env.transfers()
    assert stats["episodes"] == 64 * 10
    assert after["uploads"] == before["uploads"]
    # Only the episode statistics come back, however long the rollout.
    assert after["downloads"] - before["downloads"] == 1


def test_groups_are_named_and_checked():
    env = shoal.vector_env("simple_tag", 2)
    obs, _ = env.reset(seed=0)
    assert set(obs) == {"adversary", "agent"}
    with pytest.raises(ValueError, match="groups"):
        env.step(np.zeros((2, 4), dtype=np.int32))
    with pytest.raises(ValueError, match="no actions for group 'agent'"):
        env.step({"adversary": np.zeros((2, 3), dtype=np.int32)})
