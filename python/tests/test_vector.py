"""`gymnasium.make_vec(..., vectorization_mode="vector_entry_point")`: qlab's batched CartPole
against Gymnasium's `CartPoleVectorEnv`, and qlab's `SyncVectorEnv` against Gymnasium's
`SyncVectorEnv` over the same qlab envs."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.envs.classic_control.cartpole import CartPoleVectorEnv
from gymnasium.vector import AutoresetMode, SyncVectorEnv

import qlab


def make_vec(env_id: str, n: int, **kwargs: object) -> gym.vector.VectorEnv:
    return gym.make_vec(env_id, num_envs=n, vectorization_mode="vector_entry_point", **kwargs)


def test_cartpole_vector_is_the_batched_env_with_gymnasiums_spaces() -> None:
    envs = make_vec("qlab/CartPole-v1", 8)
    assert isinstance(envs, qlab.QlabCartPoleVectorEnv)
    assert isinstance(envs, gym.vector.VectorEnv)
    assert envs.metadata["autoreset_mode"] == AutoresetMode.NEXT_STEP
    theirs = CartPoleVectorEnv(num_envs=8)
    assert envs.single_action_space == theirs.single_action_space
    assert envs.action_space == theirs.action_space
    obs, info = envs.reset(seed=3)
    assert obs.shape == (8, 4) and obs.dtype == np.float32 and info == {}
    assert obs in envs.observation_space


def test_cartpole_vector_steps_as_gymnasiums_cartpole_vector_env_with_next_step_autoreset() -> None:
    """Both from the same states with the same actions: identical physics, flags, rewards and
    autoresets; after each autoreset Gymnasium's new start state (its own draw) is replaced by
    qlab's, and stepping goes on."""
    n = 16
    ours = make_vec("qlab/CartPole-v1", n, max_episode_steps=60)
    theirs = CartPoleVectorEnv(num_envs=n, max_episode_steps=60)
    obs, _ = ours.reset(seed=11)
    theirs.reset(seed=11)
    core = ours._core  # the full-precision states, to give Gymnasium's env the same ones

    def sync_states() -> None:
        assert theirs.state is not None
        theirs.state[:, :] = np.array([core.state(i) for i in range(n)]).T

    sync_states()
    rng = np.random.default_rng(0)
    seen = {"terminated": 0, "truncated": 0, "autoreset": 0}
    pending = np.zeros(n, dtype=bool)
    for t in range(400):
        actions = np.where(
            np.arange(n) % 2 == 0, (obs[:, 2] + 0.5 * obs[:, 3] > 0).astype(np.int64),
            rng.integers(0, 2, n),
        )
        got = ours.step(actions)
        want = theirs.step(actions)
        assert got[1].dtype == want[1].dtype == np.float32
        for i in range(1, 4):
            assert np.array_equal(got[i], want[i]), (t, i)
        stepped = ~pending
        assert np.allclose(got[0][stepped], want[0][stepped], rtol=0, atol=1e-6), t
        # An autoreset step: reward 0, both flags false, a start state near 0.
        assert np.all(got[1][pending] == 0) and not np.any(got[2][pending] | got[3][pending])
        assert np.all(np.abs(got[0][pending]) <= 0.05)
        seen["terminated"] += int(got[2].sum())
        seen["truncated"] += int(got[3].sum())
        seen["autoreset"] += int(pending.sum())
        pending = got[2] | got[3]
        obs = got[0]
        sync_states()
    assert min(seen.values()) > 10, seen


def test_cartpole_vector_sub_env_i_is_the_single_env_seeded_with_seed_plus_i() -> None:
    envs = make_vec("qlab/CartPole-v1", 4)
    obs, _ = envs.reset(seed=100)
    for i in range(4):
        single, _ = gym.make("qlab/CartPole-v1").reset(seed=100 + i)
        assert np.array_equal(obs[i], single)


@pytest.mark.parametrize(
    "env_id", ["qlab/FrozenLake-v1", "qlab/CliffWalking-v1", "qlab/Acrobot-v1",
               "qlab/Pendulum-v1", "qlab/Blackjack-v1", "qlab/CartPoleNoVelocity-v1"]
)
def test_other_envs_vectorize_as_gymnasiums_sync_vector_env_over_the_same_envs(env_id: str) -> None:
    n = 3
    ours = make_vec(env_id, n)
    assert isinstance(ours, qlab.QlabSyncVectorEnv)
    theirs = SyncVectorEnv([lambda: gym.make(env_id) for _ in range(n)])
    assert ours.single_observation_space == theirs.single_observation_space
    assert ours.single_action_space == theirs.single_action_space
    got, want = ours.reset(seed=5), theirs.reset(seed=5)
    assert np.array_equal(got[0], want[0])
    ours.action_space.seed(2)
    ends = 0
    limit = 120 if "Blackjack" in env_id or "Frozen" in env_id else 60
    for t in range(limit):
        actions = ours.action_space.sample()
        got = ours.step(actions)
        want = theirs.step(actions)
        assert got[0].dtype == want[0].dtype, t
        for i in range(4):
            assert np.array_equal(got[i], want[i]), (t, i, got[i], want[i])
        assert got[4].keys() == want[4].keys(), t
        for key in got[4]:
            assert np.array_equal(got[4][key], want[4][key]), (t, key)
        ends += int(got[2].sum() + got[3].sum())
    if "Frozen" in env_id or "Blackjack" in env_id:
        assert ends > 0


def test_sync_vector_time_limits_truncate() -> None:
    envs = make_vec("qlab/FrozenLake-v1", 2, is_slippery=False, max_episode_steps=3)
    envs.reset(seed=0)
    flags = [envs.step(np.array([0, 0]))[3].tolist() for _ in range(4)]
    assert flags == [[False, False], [False, False], [True, True], [False, False]]
