"""Stable-Baselines3 trains on qlab's CartPole: a short DQN run proves the interface (the
side-by-side comparison with Gymnasium's CartPole is in RESULTS.md)."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import qlab  # noqa: F401

sb3 = pytest.importorskip("stable_baselines3")


def test_dqn_trains_a_few_hundred_steps_and_predicts() -> None:
    env = gym.make("qlab/CartPole-v1")
    model = sb3.DQN("MlpPolicy", env, learning_starts=100, buffer_size=1000, train_freq=4,
                    batch_size=32, seed=0, device="cpu")
    model.learn(total_timesteps=400)
    assert model.num_timesteps == 400
    obs, _ = env.reset(seed=0)
    action, _ = model.predict(obs, deterministic=True)
    assert int(action) in (0, 1)
    # SB3's own env checker passes too.
    from stable_baselines3.common.env_checker import check_env

    check_env(gym.make("qlab/CartPole-v1").unwrapped)
    vec = model.get_env()
    assert vec is not None and isinstance(vec.reset(), np.ndarray)
