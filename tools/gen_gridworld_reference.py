#!/usr/bin/env python3
"""Dump Gymnasium's toy-text grid worlds as reference data for qlab's GridWorld tests.

For every Gymnasium preset that qlab's `GridWorld` reproduces, this writes the exact model as
Gymnasium builds it:

- `gridworld_p_<slug>.csv`: the transition table `env.unwrapped.P`, one row per entry:
  `state,action,index,prob,next_state,reward,terminated`, where `index` is the entry's position
  in the list `P[state][action]`.
- `gridworld_start.csv`: the non-zero entries of `env.unwrapped.initial_state_distrib`:
  `id,state,prob`.
- `gridworld_spec.csv`: `id,n_states,n_actions,max_episode_steps` (empty when the registered
  spec has no time limit).

Floats are written with `repr`, which round-trips exactly through Rust's `f64::from_str`.

Usage (from the repository root, with `gymnasium==1.4.0` installed):

    python3 tools/gen_gridworld_reference.py [OUT_DIR]

OUT_DIR defaults to `envs/tests/data`.
"""

import csv
import os
import sys

import gymnasium

PRESETS = [
    ("FrozenLake-v1", "frozenlake"),
    ("FrozenLake8x8-v1", "frozenlake8x8"),
    ("CliffWalking-v1", "cliffwalking"),
    ("CliffWalkingSlippery-v1", "cliffwalkingslippery"),
]


def main() -> None:
    if gymnasium.__version__ != "1.4.0":
        sys.exit(f"expected gymnasium 1.4.0, found {gymnasium.__version__}")
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join("envs", "tests", "data")
    os.makedirs(out_dir, exist_ok=True)

    starts = []
    specs = []
    for env_id, slug in PRESETS:
        env = gymnasium.make(env_id)
        inner = env.unwrapped
        n_states = int(inner.observation_space.n)
        n_actions = int(inner.action_space.n)
        path = os.path.join(out_dir, f"gridworld_p_{slug}.csv")
        with open(path, "w", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(["state", "action", "index", "prob", "next_state", "reward", "terminated"])
            for s in range(n_states):
                for a in range(n_actions):
                    for i, (p, s2, r, t) in enumerate(inner.P[s][a]):
                        w.writerow(
                            [s, a, i, repr(float(p)), int(s2), repr(float(r)), int(bool(t))]
                        )
        for s, p in enumerate(inner.initial_state_distrib):
            if p > 0:
                starts.append([env_id, s, repr(float(p))])
        max_steps = gymnasium.spec(env_id).max_episode_steps
        specs.append([env_id, n_states, n_actions, "" if max_steps is None else max_steps])
        env.close()

    with open(os.path.join(out_dir, "gridworld_start.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["id", "state", "prob"])
        w.writerows(starts)
    with open(os.path.join(out_dir, "gridworld_spec.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["id", "n_states", "n_actions", "max_episode_steps"])
        w.writerows(specs)


if __name__ == "__main__":
    main()
