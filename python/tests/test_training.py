"""Training from Python: a run directory like `shoal train`'s, its policy in a Python loop."""

import numpy as np
import pytest

import shoal

CONFIG = {"env": "simple_spread", "algo": "ippo", "envs": 8, "total_env_steps": 8 * 25 * 3, "update_epochs": 1, "num_minibatches": 1}


def test_train_then_act(tmp_path):
    out = tmp_path / "run"
    summary = shoal.train(CONFIG, out, progress=False)
    assert summary["env_steps"] == 600
    for name in ("config.toml", "metrics.csv", "checkpoint"):
        assert (out / name).exists(), name
    rows = (out / "metrics.csv").read_text().strip().splitlines()
    assert len(rows) == 1 + 3

    # An existing run is not replaced unless asked; it can be resumed (already finished here).
    with pytest.raises(ValueError, match="already holds a run"):
        shoal.train(CONFIG, out, progress=False)
    assert shoal.train(None, out, resume=True, progress=False)["env_steps"] == 600

    # The policy in a PettingZoo loop.
    policy = shoal.load_policy(out)
    env = shoal.parallel_env("simple_spread")
    obs, _ = env.reset(seed=0)
    while env.agents:
        actions = policy.act(obs)
        assert set(actions) == set(env.agents)
        assert all(env.action_space(a).contains(actions[a]) for a in actions)
        obs, *_ = env.step(actions)

    # Greedy play is a function of the observation.
    again = shoal.load_policy(out).act(env.reset(seed=0)[0])
    assert again == shoal.load_policy(out).act(env.reset(seed=0)[0])

    # Batched: the same policy over [E, A, obs] arrays, and as a device rollout.
    batch = shoal.load_policy(out, num_envs=4)
    vec = shoal.vector_env("simple_spread", 4)
    obs, _ = vec.reset(seed=1)
    acts = batch.act(obs)
    assert acts["agent"].shape == (4, 3) and acts["agent"].dtype == np.int32
    stats = vec.rollout(50, policy=out)
    assert stats["episodes"] == 8


def test_train_from_a_toml_file(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('env = "simple"\nalgo = "ippo"\nenvs = 4\ntotal_env_steps = 100\nupdate_epochs = 1\nnum_minibatches = 1\n')
    assert shoal.train(str(path), tmp_path / "run", progress=False)["env_steps"] == 100
