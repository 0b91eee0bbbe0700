#!/usr/bin/env python3
"""Record reference CartPole trajectories with the real Gymnasium, for qlab's CartPole tests.

Run from the repository root with gymnasium 1.4.0 installed:

    python3 tools/gen_cartpole_reference.py

It writes `envs/tests/data/cartpole_<case>.csv`, one file per configuration. Each episode
starts from a FIXED state (assigned to `env.unwrapped.state` after `reset`, so NumPy's start
state generator plays no part) and follows a fixed action sequence; the env is
`gymnasium.make("CartPole-v1", ...)`, so Gymnasium's own TimeLimit(500) truncates long
episodes. Every file is a table with the header

    episode,t,action,x,x_dot,theta,theta_dot,reward,terminated,truncated

Row `t = 0` of an episode holds its start state as full-precision float64 (Python `repr`),
with `action` and `reward` empty and both flags 0. Row `t ≥ 1` holds the action taken at
step t, the observation it returned (the float32 values, printed in their shortest round-trip
form), the reward, and the flags as 0/1. Lines starting with `#` are comments.

Cases:
- euler: short episodes of random actions to termination, default settings.
- semi_implicit_euler: the same, with `env.unwrapped.kinematics_integrator` set to a value
  other than "euler" (Gymnasium treats any such value as semi-implicit Euler).
- sutton_barto: short random episodes with `sutton_barto_reward=True`.
- balanced_euler, balanced_semi_implicit_euler: long episodes under the linear controller
  `push right iff theta + 0.5 theta_dot > 0`, computed on the float32 observation. One episode
  per integrator is truncated at step 500 by the TimeLimit; one more (explicit Euler, starting
  near the right edge and moving right) terminates when the cart leaves the track.
"""

from pathlib import Path

import gymnasium
import numpy as np

assert gymnasium.__version__ == "1.4.0", gymnasium.__version__

OUT = Path(__file__).resolve().parent.parent / "envs" / "tests" / "data"
HEADER = "episode,t,action,x,x_dot,theta,theta_dot,reward,terminated,truncated"


def random_policy(seed):
    rng = np.random.default_rng(seed)
    return lambda obs: int(rng.integers(0, 2))


def balancing_policy(obs):
    return int(obs[2] + 0.5 * obs[3] > 0.0)


def episode(make_kwargs, integrator, start, policy):
    """Rows of one episode: the start state, then one row per step until it ends."""
    env = gymnasium.make("CartPole-v1", **make_kwargs)
    env.reset(seed=0)
    env.unwrapped.kinematics_integrator = integrator
    env.unwrapped.state = np.array(start, dtype=np.float64)
    rows = [["", *(repr(float(v)) for v in start), "", "0", "0"]]
    obs = np.array(start, dtype=np.float32)
    for _ in range(1000):
        action = policy(obs)
        obs, reward, terminated, truncated, _ = env.step(action)
        assert obs.dtype == np.float32
        rows.append(
            [
                str(action),
                *(str(v) for v in obs),
                repr(float(reward)),
                str(int(terminated)),
                str(int(truncated)),
            ]
        )
        if terminated or truncated:
            return rows
    raise AssertionError("episode did not end")


def write(case, description, episodes):
    lines = [
        f"# CartPole-v1 reference trajectories, case `{case}`: {description}",
        f"# Recorded with gymnasium {gymnasium.__version__} and numpy {np.__version__} by"
        " tools/gen_cartpole_reference.py.",
        HEADER,
    ]
    for i, rows in enumerate(episodes):
        for t, row in enumerate(rows):
            lines.append(",".join([str(i), str(t), *row]))
    path = OUT / f"cartpole_{case}.csv"
    path.write_text("\n".join(lines) + "\n")
    print(f"{path.name}: {len(episodes)} episodes, {sum(len(e) - 1 for e in episodes)} steps")


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    starts = np.random.default_rng(20240601).uniform(-0.05, 0.05, size=(12, 4))

    write(
        "euler",
        "random actions, explicit Euler",
        [episode({}, "euler", starts[i], random_policy(100 + i)) for i in range(4)],
    )
    write(
        "semi_implicit_euler",
        "random actions, semi-implicit Euler",
        [
            episode({}, "semi_implicit_euler", starts[4 + i], random_policy(200 + i))
            for i in range(4)
        ],
    )
    write(
        "sutton_barto",
        "random actions, sutton_barto_reward=True",
        [
            episode({"sutton_barto_reward": True}, "euler", starts[8 + i], random_policy(300 + i))
            for i in range(3)
        ],
    )
    off_track = [2.0, 1.5, 0.01, 0.0]
    write(
        "balanced_euler",
        "linear controller, explicit Euler; truncated at 500, then off the track",
        [
            episode({}, "euler", starts[11], balancing_policy),
            episode({}, "euler", off_track, balancing_policy),
        ],
    )
    write(
        "balanced_semi_implicit_euler",
        "linear controller, semi-implicit Euler; truncated at 500",
        [episode({}, "semi_implicit_euler", starts[0], balancing_policy)],
    )

if __name__ == "__main__":
    main()
