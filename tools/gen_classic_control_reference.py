#!/usr/bin/env python3
"""Record reference Acrobot and Pendulum trajectories with the real Gymnasium, for qlab's tests.

Run from the repository root with gymnasium 1.4.0 installed (`pip install gymnasium==1.4.0`):

    python3 tools/gen_classic_control_reference.py

It writes `envs/tests/data/acrobot_<case>.csv` and `envs/tests/data/pendulum_<case>.csv`. Each
episode starts from a FIXED state (assigned to `env.unwrapped.state` after `reset`, so NumPy's
start-state generator plays no part) and follows a fixed policy; the env comes from
`gymnasium.make`, so Gymnasium's own TimeLimit (500 for Acrobot-v1, 200 for Pendulum-v1)
truncates long episodes. Every file is a table with the header

    episode,t,action,s0,s1,s2,s3,s4,s5,reward,terminated,truncated   (Acrobot)
    episode,t,action,s0,s1,s2,reward,terminated,truncated            (Pendulum)

Row `t = 0` of an episode holds its start state as full-precision float64 (Python `repr`):
Acrobot's `[theta1, theta2, dtheta1, dtheta2]` in s0..s3 (s4, s5 empty), Pendulum's
`[theta, theta_dot]` in s0, s1 (s2 empty); `action` and `reward` are empty and both flags 0.
Row `t >= 1` holds the action taken at step t (Acrobot: 0, 1 or 2; Pendulum: the float32
torque as given to `step`, before Gymnasium clips it to [-2, 2]), the observation it returned
(float32 values in their shortest round-trip form), the reward (`repr` of the float64) and the
flags as 0/1. Lines starting with `#` are comments.

Cases:
- acrobot_book: random actions from set states, book dynamics (the default), to the
  truncation at step 500; one start with large velocities, so that the velocity clipping and
  the angle wrapping both happen (checked below).
- acrobot_nips: the same with `env.unwrapped.book_or_nips = "nips"`.
- acrobot_swing_up: torque along the second joint's velocity (action 2 if dtheta2 > 0, else
  0, read from the float32 observation) from states hanging down; every episode reaches the
  target height (termination, reward 0) within 500 steps (checked below). Torque along the
  first joint's velocity does not: from these starts it never reaches the height in 500.
- pendulum_random: torques uniform in [-2, 2] from set states, g = 10, to the truncation at
  step 200.
- pendulum_clipped: torques uniform in [-5, 5] and exactly +-5, most of them out of range and
  clipped to +-2 by the env, g = 10.
- pendulum_g9_81: a damping controller `u = -(2 * angle + 0.5 * theta_dot)`, clipped to
  [-2, 2] and cast to float32, with `g = 9.81`.
"""

from pathlib import Path

import gymnasium
import numpy as np

assert gymnasium.__version__ == "1.4.0", gymnasium.__version__

OUT = Path(__file__).resolve().parent.parent / "envs" / "tests" / "data"


def write(name, description, header, episodes):
    lines = [
        f"# {name} reference trajectories: {description}",
        f"# Recorded with gymnasium {gymnasium.__version__} and numpy {np.__version__} by"
        " tools/gen_classic_control_reference.py.",
        header,
    ]
    for i, rows in enumerate(episodes):
        for t, row in enumerate(rows):
            lines.append(",".join([str(i), str(t), *row]))
    path = OUT / f"{name}.csv"
    path.write_text("\n".join(lines) + "\n")
    print(f"{path.name}: {len(episodes)} episodes, {sum(len(e) - 1 for e in episodes)} steps")


def step_row(action, obs, reward, terminated, truncated):
    assert obs.dtype == np.float32
    return [
        str(action),
        *(str(v) for v in obs),
        repr(float(reward)),
        str(int(terminated)),
        str(int(truncated)),
    ]


# --- Acrobot ------------------------------------------------------------------------------

ACROBOT_HEADER = "episode,t,action,s0,s1,s2,s3,s4,s5,reward,terminated,truncated"


def acrobot_episode(dynamics, start, policy, seen):
    env = gymnasium.make("Acrobot-v1")
    env.reset(seed=0)
    env.unwrapped.book_or_nips = dynamics
    env.unwrapped.state = np.array(start, dtype=np.float64)
    rows = [["", *(repr(float(v)) for v in start), "", "", "", "0", "0"]]
    s = env.unwrapped.state
    obs = np.array([np.cos(s[0]), np.sin(s[0]), np.cos(s[1]), np.sin(s[1]), s[2], s[3]], np.float32)
    for _ in range(1000):
        action = policy(obs)
        before = env.unwrapped.state.copy()
        obs, reward, terminated, truncated, _ = env.step(action)
        after = env.unwrapped.state
        seen["clipped"] |= abs(after[2]) == 4 * np.pi or abs(after[3]) == 9 * np.pi
        seen["wrapped"] |= bool(np.any(np.sign(after[:2]) * np.sign(before[:2]) < 0)
                                and np.any(np.abs(before[:2]) > 2.5))
        rows.append(step_row(action, obs, reward, terminated, truncated))
        if terminated or truncated:
            return rows, bool(terminated)
    raise AssertionError("episode did not end")


def acrobot_random(seed):
    rng = np.random.default_rng(seed)
    return lambda obs: int(rng.integers(0, 3))


def acrobot_swing_up(obs):
    return 2 if obs[5] > 0.0 else 0


def acrobot_cases():
    starts = np.random.default_rng(20250101).uniform(-0.1, 0.1, size=(8, 4))
    fast = [2.5, -3.0, 12.0, -27.0]
    for dynamics in ["book", "nips"]:
        seen = {"clipped": False, "wrapped": False}
        episodes = []
        for i, start in enumerate([starts[0] if dynamics == "book" else starts[1], fast]):
            rows, terminated = acrobot_episode(dynamics, start, acrobot_random(10 * i + len(dynamics)), seen)
            episodes.append(rows)
        assert seen["clipped"] and seen["wrapped"], seen
        write(
            f"acrobot_{dynamics}",
            f"Acrobot-v1, random actions, book_or_nips = {dynamics!r}",
            ACROBOT_HEADER,
            episodes,
        )
    seen = {"clipped": False, "wrapped": False}
    episodes = []
    for start in starts[2:5]:
        rows, terminated = acrobot_episode("book", start, acrobot_swing_up, seen)
        assert terminated and len(rows) - 1 < 500, len(rows)
        episodes.append(rows)
    write(
        "acrobot_swing_up",
        "Acrobot-v1, torque along the second joint's velocity; each episode terminates",
        ACROBOT_HEADER,
        episodes,
    )


# --- Pendulum -----------------------------------------------------------------------------

PENDULUM_HEADER = "episode,t,action,s0,s1,s2,reward,terminated,truncated"


def pendulum_episode(g, start, policy):
    env = gymnasium.make("Pendulum-v1", g=g)
    env.reset(seed=0)
    env.unwrapped.state = np.array(start, dtype=np.float64)
    rows = [["", *(repr(float(v)) for v in start), "", "", "0", "0"]]
    theta, theta_dot = start
    obs = np.array([np.cos(theta), np.sin(theta), theta_dot], np.float32)
    for _ in range(1000):
        u = np.float32(policy(obs))
        obs, reward, terminated, truncated, _ = env.step(np.array([u], dtype=np.float32))
        rows.append(step_row(str(u), obs, reward, terminated, truncated))
        if terminated or truncated:
            assert truncated and not terminated
            return rows
    raise AssertionError("episode did not end")


def pendulum_uniform(seed, bound, extremes=False):
    rng = np.random.default_rng(seed)
    step = iter(range(10**6))

    def policy(obs):
        t = next(step)
        if extremes and t % 7 == 3:
            return 5.0 if t % 2 else -5.0
        return rng.uniform(-bound, bound)

    return policy


def pendulum_damping(obs):
    angle = np.arctan2(obs[1], obs[0])
    return np.clip(-(2.0 * angle + 0.5 * obs[2]), -2.0, 2.0)


def pendulum_cases():
    rng = np.random.default_rng(20250102)
    starts = np.stack([rng.uniform(-np.pi, np.pi, size=6), rng.uniform(-1.0, 1.0, size=6)], axis=1)
    spinning = [40.0, 7.5]  # an angle many turns around, and fast: checks the normalization
    write(
        "pendulum_random",
        "Pendulum-v1, torques uniform in [-2, 2], g = 10",
        PENDULUM_HEADER,
        [
            pendulum_episode(10.0, starts[0], pendulum_uniform(1, 2.0)),
            pendulum_episode(10.0, spinning, pendulum_uniform(2, 2.0)),
        ],
    )
    write(
        "pendulum_clipped",
        "Pendulum-v1, torques uniform in [-5, 5] and +-5, clipped by the env to [-2, 2], g = 10",
        PENDULUM_HEADER,
        [
            pendulum_episode(10.0, starts[1], pendulum_uniform(3, 5.0, extremes=True)),
            pendulum_episode(10.0, starts[2], pendulum_uniform(4, 5.0, extremes=True)),
        ],
    )
    write(
        "pendulum_g9_81",
        "Pendulum-v1, a damping controller, g = 9.81",
        PENDULUM_HEADER,
        [pendulum_episode(9.81, s, pendulum_damping) for s in starts[3:5]],
    )


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    acrobot_cases()
    pendulum_cases()


if __name__ == "__main__":
    main()
