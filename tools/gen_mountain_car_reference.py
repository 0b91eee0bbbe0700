#!/usr/bin/env python3
"""Record reference MountainCar trajectories with the real Gymnasium, for qlab's tests.

Run from the repository root with gymnasium 1.4.0 installed (`pip install gymnasium==1.4.0`):

    python3 tools/gen_mountain_car_reference.py

It writes `envs/tests/data/mountain_car_<case>.csv`. Each episode starts from a FIXED state
(assigned to `env.unwrapped.state` after `reset`, so NumPy's start-state draw plays no part)
and follows a fixed policy; the env comes from `gymnasium.make`, so Gymnasium's own TimeLimit
(200 steps for `MountainCar-v0`, 999 for `MountainCarContinuous-v0`) truncates long episodes.
Every file is a table with the header

    episode,t,action,position,velocity,reward,terminated,truncated

Row `t = 0` of an episode holds its start state as full-precision float64 (Python `repr`),
with `action` and `reward` empty and both flags 0. Row `t >= 1` holds the action taken at
step t (an integer, or the float32 force in its shortest round-trip form), the observation it
returned (float32, shortest round-trip form), the reward (`repr` of the float) and the flags
as 0/1. Lines starting with `#` are comments. Continuous actions are passed to Gymnasium as
float32 arrays of one element, as qlab's `[f32; 1]` actions are.

Cases:
- discrete: `MountainCar-v0`, default settings. Two episodes of uniform random actions
  truncated at step 200; two of the policy "push along the velocity" (2 if the observed
  velocity is >= 0, else 0) that reach the goal; one that starts at the left wall moving left
  (the velocity reset to 0 there) and then pushes along the velocity; one that starts just
  short of the goal and terminates on its first step.
- discrete_goal_velocity: `MountainCar-v0` with `goal_velocity=0.04`: from a start in the
  valley, and from just short of the goal, where the car passes the goal position too slowly
  and is stopped at the right end (0.6).
- continuous: `MountainCarContinuous-v0`, default settings. One episode of uniform random
  forces in [-1, 1] truncated at step 999; one of "push along the velocity" with full force
  (+1 / -1) that reaches the goal; one of half force along the velocity; one from the left
  wall moving left; one from just short of the goal.
- continuous_out_of_range: `MountainCarContinuous-v0` driven with forces outside [-1, 1]
  (+-3 along the velocity, and +-1.5 alternating with +-0.25), which Gymnasium clips for the
  dynamics while the reward charges -0.1 a^2 on the force as given.
- continuous_goal_velocity: `MountainCarContinuous-v0` with `goal_velocity=0.03`: from a
  start in the valley, and from just short of the goal, where the car passes the goal position
  too slowly and is stopped at the right end (0.6).
"""

from pathlib import Path

import gymnasium
import numpy as np

assert gymnasium.__version__ == "1.4.0", gymnasium.__version__

OUT = Path(__file__).resolve().parent.parent / "envs" / "tests" / "data"
HEADER = "episode,t,action,position,velocity,reward,terminated,truncated"


def random_discrete(seed):
    rng = np.random.default_rng(seed)
    return lambda obs: int(rng.integers(0, 3))


def push_discrete(obs):
    return 2 if obs[1] >= 0.0 else 0


def random_force(seed):
    rng = np.random.default_rng(seed)
    return lambda obs: np.float32(rng.uniform(-1.0, 1.0))


def push_force(magnitude):
    magnitude = np.float32(magnitude)
    return lambda obs: magnitude if obs[1] >= 0.0 else -magnitude


def alternating_force(big, small):
    state = {"t": 0}

    def policy(obs):
        state["t"] += 1
        magnitude = np.float32(big if state["t"] % 2 else small)
        return magnitude if obs[1] >= 0.0 else -magnitude

    return policy


def episode(env_id, make_kwargs, start, policy, continuous):
    """Rows of one episode: the start state, then one row per step until it ends."""
    env = gymnasium.make(env_id, **make_kwargs)
    env.reset(seed=0)
    env.unwrapped.state = np.array(start, dtype=np.float64)
    rows = [["", *(repr(float(v)) for v in start), "", "0", "0"]]
    obs = np.array(start, dtype=np.float32)
    for _ in range(2000):
        action = policy(obs)
        if continuous:
            obs, reward, terminated, truncated, _ = env.step(np.array([action], dtype=np.float32))
            shown = str(np.float32(action))
        else:
            obs, reward, terminated, truncated, _ = env.step(action)
            shown = str(action)
        assert obs.dtype == np.float32
        rows.append(
            [
                shown,
                *(str(v) for v in obs),
                repr(float(reward)),
                str(int(terminated)),
                str(int(truncated)),
            ]
        )
        if terminated or truncated:
            return rows
    raise AssertionError("episode did not end")


def write(case, env_id, description, episodes):
    lines = [
        f"# {env_id} reference trajectories, case `{case}`: {description}",
        f"# Recorded with gymnasium {gymnasium.__version__} and numpy {np.__version__} by"
        " tools/gen_mountain_car_reference.py.",
        HEADER,
    ]
    for i, rows in enumerate(episodes):
        for t, row in enumerate(rows):
            lines.append(",".join([str(i), str(t), *row]))
    path = OUT / f"mountain_car_{case}.csv"
    path.write_text("\n".join(lines) + "\n")
    ends = ["terminated" if e[-1][-2] == "1" else "truncated" for e in episodes]
    print(f"{path.name}: {sum(len(e) - 1 for e in episodes)} steps, {ends}")


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    starts = [[float(p), 0.0] for p in np.random.default_rng(20240602).uniform(-0.6, -0.4, 8)]
    left_wall = [-1.19, -0.05]
    near_goal = [0.49, 0.02]
    near_goal_continuous = [0.44, 0.02]

    def discrete(kwargs, start, policy):
        return episode("MountainCar-v0", kwargs, start, policy, continuous=False)

    def continuous(kwargs, start, policy):
        return episode("MountainCarContinuous-v0", kwargs, start, policy, continuous=True)

    write(
        "discrete",
        "MountainCar-v0",
        "random actions (truncated), pushing along the velocity (goal), the left wall, "
        "a start next to the goal",
        [
            discrete({}, starts[0], random_discrete(100)),
            discrete({}, starts[1], random_discrete(101)),
            discrete({}, starts[2], push_discrete),
            discrete({}, starts[3], push_discrete),
            discrete({}, left_wall, push_discrete),
            discrete({}, near_goal, push_discrete),
        ],
    )
    write(
        "discrete_goal_velocity",
        "MountainCar-v0",
        "goal_velocity=0.04, pushing along the velocity",
        [
            discrete({"goal_velocity": 0.04}, starts[4], push_discrete),
            discrete({"goal_velocity": 0.04}, near_goal, push_discrete),
        ],
    )
    write(
        "continuous",
        "MountainCarContinuous-v0",
        "random forces (truncated at 999), full and half force along the velocity",
        [
            continuous({}, starts[5], random_force(200)),
            continuous({}, starts[6], push_force(1.0)),
            continuous({}, starts[7], push_force(0.5)),
            continuous({}, left_wall, push_force(1.0)),
            continuous({}, near_goal_continuous, push_force(0.5)),
        ],
    )
    write(
        "continuous_out_of_range",
        "MountainCarContinuous-v0",
        "forces outside [-1, 1]: +-3 along the velocity; +-1.5 alternating with +-0.25",
        [
            continuous({}, starts[0], push_force(3.0)),
            continuous({}, starts[1], alternating_force(1.5, 0.25)),
        ],
    )
    write(
        "continuous_goal_velocity",
        "MountainCarContinuous-v0",
        "goal_velocity=0.03, full force along the velocity",
        [
            continuous({"goal_velocity": 0.03}, starts[2], push_force(1.0)),
            continuous({"goal_velocity": 0.03}, near_goal_continuous, push_force(1.0)),
        ],
    )


if __name__ == "__main__":
    main()
