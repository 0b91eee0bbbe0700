"""qlab's CartPole and FrozenLake against Gymnasium's own, step for step, and FrozenLake's
seeded episodes against the Rust env's (`qlab rollout`)."""

from __future__ import annotations

import csv
import io

import gymnasium as gym
import numpy as np
import pytest

import qlab  # noqa: F401  (registers the envs)
from conftest import run_qlab


def balancing(obs: np.ndarray) -> int:
    """Pushes towards the pole's lean: long episodes, truncated at the limit."""
    return int(obs[2] + 0.5 * obs[3] > 0.0)


@pytest.mark.parametrize("policy", ["balance", "random"])
def test_cartpole_equals_gymnasium_step_for_step_from_the_same_state(policy: str) -> None:
    ours = gym.make("qlab/CartPole-v1")
    theirs = gym.make("CartPole-v1")
    rng = np.random.default_rng(7)
    ends = {"terminated": 0, "truncated": 0}
    for episode in range(6):
        theirs_obs, _ = theirs.reset(seed=episode)
        state = [float(v) for v in theirs.unwrapped.state]
        obs, _ = ours.reset(seed=episode, options={"state": state})
        assert np.array_equal(obs, theirs_obs)
        while True:
            action = balancing(obs) if policy == "balance" else int(rng.integers(2))
            got = ours.step(action)
            want = theirs.step(action)
            assert np.array_equal(got[0], want[0]), (episode, got, want)
            assert got[1:4] == want[1:4], (episode, got, want)
            obs = got[0]
            if got[2] or got[3]:
                ends["terminated" if got[2] else "truncated"] += 1
                break
    # Balanced episodes run to the time limit; random ones fall.
    assert ends["truncated" if policy == "balance" else "terminated"] == 6, ends


def test_frozenlake_equals_gymnasium_step_for_step() -> None:
    for is_slippery in (False,):
        ours = gym.make("qlab/FrozenLake-v1", is_slippery=is_slippery)
        theirs = gym.make("FrozenLake-v1", is_slippery=is_slippery)
        rng = np.random.default_rng(0)
        ends = 0
        for episode in range(30):
            got_reset = ours.reset(seed=episode)
            want_reset = theirs.reset(seed=episode)
            assert got_reset[0] == want_reset[0]
            while True:
                action = int(rng.integers(4))
                got = ours.step(action)
                want = theirs.step(action)
                assert got[:4] == want[:4], (episode, got, want)
                assert got[4]["prob"] == want[4]["prob"]
                if got[2] or got[3]:
                    ends += 1
                    break
        assert ends == 30


def test_slippery_frozenlake_from_every_state_moves_where_gymnasiums_model_allows() -> None:
    """The RNGs differ, so slippery steps are compared to Gymnasium's transition table."""
    ours = gym.make("qlab/FrozenLake-v1")
    model = gym.make("FrozenLake-v1").unwrapped.P
    for state in range(16):
        for action in range(4):
            ours.reset(seed=state * 4 + action, options={"state": state})
            if state in (5, 7, 11, 12, 15):
                continue  # terminal: never stepped from
            obs, reward, terminated, _, info = ours.step(action)
            outcomes = {(s, r, t) for _, s, r, t in model[state][action]}
            assert (obs, reward, terminated) in outcomes, (state, action)
            assert info["prob"] == pytest.approx(1 / 3)


@pytest.mark.parametrize("seed", [0, 1, 7, 123, 2**40])
def test_frozenlake_with_seed_s_plays_the_rust_envs_episode_with_seed_s(seed: int) -> None:
    rows = list(csv.DictReader(io.StringIO(
        run_qlab("rollout", "--env", "FrozenLake-v1", "--seed", str(seed)).stdout
    )))
    env = gym.make("qlab/FrozenLake-v1")
    obs, _ = env.reset(seed=seed)
    assert obs == int(rows[0]["obs_0"])
    for row in rows[1:]:
        obs, reward, terminated, truncated, _ = env.step(int(row["action"]))
        assert (obs, reward, terminated, truncated) == (
            int(row["obs_0"]),
            float(row["reward"]),
            row["terminated"] == "true",
            row["truncated"] == "true",
        ), row
    assert terminated or truncated
