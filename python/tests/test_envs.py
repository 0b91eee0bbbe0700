"""Every qlab env through `gymnasium.make`: Gymnasium's checkers, spaces, seeding, time limits,
rendering and states."""

from __future__ import annotations

import warnings
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import qlab

IDS = qlab.ENV_IDS


def test_every_registered_env_is_registered_under_the_namespace() -> None:
    import qlab._core as core

    ids = [f"qlab/{env_id}" for env_id, _, _ in core.registered()]
    assert ids == IDS
    assert len(IDS) >= 17
    for env_id in IDS:
        assert env_id in gym.registry


def warnings_of(make: Any) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        make()
    return sorted(str(w.message) for w in caught)


@pytest.mark.parametrize("env_id", IDS)
def test_check_env_passes_without_warnings(env_id: str) -> None:
    got = warnings_of(lambda: check_env(gym.make(env_id).unwrapped))
    if env_id == "qlab/Pendulum-v1":
        # Pendulum's torque is in [-2, 2], as Gymnasium's own: check_env recommends a
        # normalized Box for it too, and says nothing else.
        want = warnings_of(
            lambda: check_env(gym.make("Pendulum-v1").unwrapped, skip_render_check=True)
        )
        assert got == want and len(want) == 1, got
    else:
        assert got == [], got


@pytest.mark.parametrize("env_id", IDS)
def test_the_passive_checker_raises_and_warns_nothing_over_random_episodes(env_id: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        env = gym.make(env_id)
        assert isinstance(env.unwrapped, gym.Env)
        env.action_space.seed(1)
        obs, info = env.reset(seed=3)
        for _ in range(3):
            for _ in range(1000):
                obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
                assert obs in env.observation_space
                assert isinstance(reward, float) and isinstance(terminated, bool)
                if terminated or truncated:
                    break
            obs, info = env.reset()


@pytest.mark.parametrize("env_id", IDS)
def test_observations_have_the_declared_dtype_and_shape(env_id: str) -> None:
    env = gym.make(env_id)
    obs, _ = env.reset(seed=0)
    space = env.observation_space
    if isinstance(space, gym.spaces.Discrete):
        assert isinstance(obs, int)
    else:
        assert isinstance(obs, np.ndarray)
        assert obs.dtype == np.float32 == space.dtype
        assert obs.shape == space.shape


def test_time_limits_are_the_registered_ones_and_make_can_change_them() -> None:
    limits = {"CartPole-v1": 500, "FrozenLake-v1": 100, "Taxi-v4": 200, "Blackjack-v1": None,
              "MountainCar-v0": 200, "MountainCarContinuous-v0": 999, "Pendulum-v1": 200,
              "Acrobot-v1": 500}
    for env_id, limit in limits.items():
        assert gym.spec(f"qlab/{env_id}").max_episode_steps == limit, env_id
        if env_id in gym.registry:
            assert gym.spec(env_id).max_episode_steps == limit, env_id
    # Left in FrozenLake's corner never ends an episode: only the limit does.
    for limit in (100, 7, 250):
        env = gym.make("qlab/FrozenLake-v1", is_slippery=False, max_episode_steps=limit)
        env.reset(seed=0)
        steps = 0
        while True:
            steps += 1
            _, _, terminated, truncated, _ = env.step(0)
            if terminated or truncated:
                break
        assert (steps, truncated, terminated) == (limit, True, False)


def test_seeds_follow_gymnasium_rules() -> None:
    env = gym.make("qlab/CartPole-v1")
    a, _ = env.reset(seed=42)
    b, _ = env.reset()
    c, _ = env.reset(seed=42)
    d, _ = env.reset()
    assert np.array_equal(a, c) and np.array_equal(b, d) and not np.array_equal(a, b)
    assert not np.array_equal(env.reset(seed=43)[0], a)
    env.reset(seed=2**64 - 1)
    assert env.unwrapped.np_random_seed == 2**64 - 1
    env.reset(seed=np.int64(5))
    for bad, error in [(-1, ValueError), (2**64, ValueError), ("1", TypeError), (1.0, TypeError),
                       (True, TypeError)]:
        with pytest.raises(error, match="invalid seed"):
            env.reset(seed=bad)


def test_render_modes_give_frames_and_text() -> None:
    env = gym.make("qlab/CartPole-v1", render_mode="rgb_array")
    env.reset(seed=0)
    frame = env.render()
    assert isinstance(frame, np.ndarray) and frame.dtype == np.uint8 and frame.ndim == 3
    assert frame.shape[2] == 3 and frame.max() > frame.min()
    text_env = gym.make("qlab/Taxi-v4", render_mode="ansi")
    text_env.reset(seed=0)
    text = text_env.render()
    assert isinstance(text, str) and "+---------+" in text
    assert gym.make("qlab/FrozenLake-v1").unwrapped.metadata["render_fps"] == 4
    assert gym.make("qlab/Acrobot-v1").unwrapped.metadata["render_fps"] == 50
    with pytest.raises(ValueError, match="invalid render_mode 'human'"):
        qlab.QlabEnv("CartPole-v1", render_mode="human")


def test_the_state_option_sets_the_state_as_rollout_state_does() -> None:
    env = gym.make("qlab/CartPole-v1")
    obs, _ = env.reset(seed=0, options={"state": [0.1, -0.2, 0.03, 0.4]})
    assert obs.tolist() == np.array([0.1, -0.2, 0.03, 0.4], dtype=np.float32).tolist()
    grid = gym.make("qlab/FrozenLake-v1", is_slippery=False)
    assert grid.reset(seed=0, options={"state": 5 - 1})[0] == 4
    assert grid.step(2)[0] == 5  # right, into the hole
    with pytest.raises(ValueError, match="invalid state"):
        grid.reset(options={"state": 99})
    with pytest.raises(ValueError, match="unknown reset option 'low'"):
        env.reset(options={"low": -0.1})
    with pytest.raises(ValueError, match="invalid state"):
        env.reset(options={"state": "x"})


def test_params_are_keyword_arguments() -> None:
    env = gym.make("qlab/FrozenLake-v1", is_slippery=False)
    env.reset(seed=0)
    assert [env.step(a)[0] for a in (2, 2, 1, 1, 1, 2)] == [1, 2, 6, 10, 14, 15]
    big = gym.make("qlab/CartPole-v1", sutton_barto_reward=True)
    big.reset(seed=0)
    assert big.step(0)[1] == 0.0
