"""Bad input from Python raises ValueError or TypeError with qlab's one-line message, and never
aborts the interpreter: a fuzz of a few hundred cases."""

from __future__ import annotations

import itertools
from typing import Any

import gymnasium as gym
import numpy as np
import pytest

import qlab

BAD_DISCRETE: list[Any] = [
    -1, 10**30, -(10**30), 1.5, 0.0, float("nan"), "0", "a", None, [0], (1,), [],
    np.array([0, 1]), np.array([0.0]), np.float32(1.0), np.nan, True, False, np.bool_(True),
    {"a": 1}, object(), b"1", 2**64, np.uint64(2**63), np.int64(-5), complex(1, 0),
]
CLIPPED: list[Any] = [[3.0], [-3.0]]
CLIPPING = ("Pendulum-v1", "MountainCarContinuous-v0")
BAD_BOX: list[Any] = [
    [np.nan], [np.inf], [-np.inf], *CLIPPED, [0.0, 0.0], [], [[0.0]], "x", None, [None],
    [1e39], np.array([np.nan], dtype=np.float64), {"a": 1}, object(), [[0.0, 0.0]], ["a"],
    np.zeros((2, 1)), 5.0,
]


def expect_clean_error(call: Any) -> str:
    with pytest.raises((ValueError, TypeError)) as e:
        call()
    message = str(e.value)
    assert message and "\n" not in message and "panicked" not in message, message
    return message


@pytest.mark.parametrize("env_id", qlab.ENV_IDS)
def test_bad_actions_raise_value_or_type_errors_and_leave_the_env_usable(env_id: str) -> None:
    env = gym.make(env_id).unwrapped
    env.reset(seed=0)
    space = env.action_space
    bad = BAD_BOX if isinstance(space, gym.spaces.Box) else [space.n, space.n + 1] + BAD_DISCRETE
    for action in bad:
        if env.unwrapped.env_id in CLIPPING and any(action is c for c in CLIPPED):
            continue  # these envs clip a finite action past the bounds, as Gymnasium's do
        message = expect_clean_error(lambda: env.step(action))
        assert "action" in message, message
    env.step(env.action_space.sample())


def test_a_discrete_action_out_of_range_has_qlabs_message() -> None:
    env = gym.make("qlab/CartPole-v1").unwrapped
    env.reset(seed=0)
    with pytest.raises(ValueError) as e:
        env.step(2)
    assert str(e.value) == "invalid action 2: not in the action space Discrete(2)"
    with pytest.raises(TypeError, match="invalid action 1.5 of type float"):
        env.step(1.5)
    box = gym.make("qlab/Pendulum-v1").unwrapped
    box.reset(seed=0)
    with pytest.raises(ValueError) as e:
        box.step([np.nan])
    assert str(e.value) == (
        "invalid action [NaN]: not in the action space Box(-2, 2, (1,), float32)"
    )


def test_stepping_after_the_end_is_a_value_error() -> None:
    env = gym.make("qlab/FrozenLake-v1", is_slippery=False).unwrapped
    env.reset(seed=0)
    env.step(1)
    assert env.step(1)[0] == 8
    assert env.step(1)[2]  # down into the hole at 12
    with pytest.raises(ValueError, match="step called after the episode ended; call reset first"):
        env.step(0)
    raw = qlab.QlabEnv("CartPole-v1")
    with pytest.raises(ValueError, match="step called before reset"):
        raw.step(0)


BAD_PARAMS: list[tuple[str, dict[str, Any]]] = [
    ("qlab/CartPole-v1", {"gravity": 1.0}),
    ("qlab/CartPole-v1", {"kinematics_integrator": "rk4"}),
    ("qlab/CartPole-v1", {"sutton_barto_reward": "yes"}),
    ("qlab/FrozenLake-v1", {"map_name": "9x9"}),
    ("qlab/FrozenLake-v1", {"is_slippery": 1}),
    ("qlab/FrozenLake-v1", {"max_episode_steps": -1}),
    ("qlab/Taxi-v4", {"max_episode_steps": "x"}),
    ("qlab/Acrobot-v1", {"book_or_nips": 3}),
    ("qlab/PointMass-v0", {"max_episode_steps": 0}),
    ("qlab/Pendulum-v1", {"g": float("nan")}),
    ("qlab/CartPole-v1", {"max_episode_steps": 2**70}),
    ("qlab/CartPole-v1", {"sutton_barto_reward": None}),
    ("qlab/CartPole-v1", {"sutton_barto_reward": object()}),
    ("qlab/MountainCar-v0", {"goal_velocity": [1, "a"]}),
]


@pytest.mark.parametrize(("env_id", "params"), BAD_PARAMS)
def test_bad_params_raise_with_the_key_named(env_id: str, params: dict[str, Any]) -> None:
    message = expect_clean_error(lambda: qlab.QlabEnv(env_id.removeprefix("qlab/"), **params))
    assert any(key in message for key in params), message


def test_gymnasium_make_passes_bad_params_on_to_the_same_errors() -> None:
    message = expect_clean_error(lambda: gym.make("qlab/CartPole-v1", gravity=1.0))
    assert message.startswith("unknown parameter `gravity` for CartPole-v1; allowed: ")


def test_unknown_env_ids_name_the_known_ones() -> None:
    message = expect_clean_error(lambda: qlab.QlabEnv("CartPole-v9"))
    assert "unknown env id `CartPole-v9`" in message and "FrozenLake-v1" in message


def test_vector_envs_refuse_bad_actions() -> None:
    envs = gym.make_vec("qlab/CartPole-v1", num_envs=4, vectorization_mode="vector_entry_point")
    envs.reset(seed=0)
    for actions in [np.array([0, 1, 2, 0]), np.array([0, 1, -1, 0]), np.zeros(3, dtype=int),
                    np.zeros((4, 1), dtype=int), np.zeros(4), ["a"] * 4, None, [True] * 4,
                    np.array([2**63 + 1] * 4, dtype=np.uint64)]:
        expect_clean_error(lambda: envs.step(actions))
    envs.step(np.zeros(4, dtype=np.int64))
    grid = gym.make_vec("qlab/Pendulum-v1", num_envs=2, vectorization_mode="vector_entry_point")
    grid.reset(seed=0)
    for actions in [np.full((2, 1), np.nan), np.zeros((2, 2)), np.zeros(2), "x", np.zeros((3, 1))]:
        expect_clean_error(lambda: grid.step(actions))
    for n in (0, -1):
        expect_clean_error(lambda: gym.make_vec("qlab/CartPole-v1", num_envs=n,
                                                vectorization_mode="vector_entry_point"))


def test_a_fuzz_of_random_garbage_raises_only_value_and_type_errors() -> None:
    rng = np.random.default_rng(0)
    pool: list[Any] = BAD_DISCRETE + BAD_BOX + [rng.standard_normal(k) for k in range(4)]
    cases = 0
    for env_id, action in itertools.product(qlab.ENV_IDS, pool):
        env = gym.make(env_id).unwrapped
        env.reset(seed=int(rng.integers(1000)))
        try:
            env.step(action)
        except (ValueError, TypeError) as e:
            assert "\n" not in str(e)
        cases += 1
    assert cases > 500
