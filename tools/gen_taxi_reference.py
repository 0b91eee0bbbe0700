#!/usr/bin/env python3
"""Dump Gymnasium's Taxi-v4 as reference data for qlab's Taxi tests.

Run from the repository root with gymnasium 1.4.0 installed (`pip install gymnasium==1.4.0`):

    python3 tools/gen_taxi_reference.py [OUT_DIR]

OUT_DIR defaults to `envs/tests/data`. It writes:

- `taxi_p_dry.csv`, `taxi_p_rainy.csv`: the transition table `env.unwrapped.P` of
  `gymnasium.make("Taxi-v4")` and of `gymnasium.make("Taxi-v4", is_rainy=True)`, one row per
  entry: `state,action,index,prob,next_state,reward,terminated`, where `index` is the entry's
  position in the list `P[state][action]` (duplicates included, as Gymnasium lists them).
- `taxi_start.csv`: the non-zero entries of `env.unwrapped.initial_state_distrib`:
  `state,prob`.
- `taxi_spec.csv`: `id,n_states,n_actions,max_episode_steps` of the registered spec.
- `taxi_trajectories.csv`: episodes of `gymnasium.make("Taxi-v4")` (its own TimeLimit(200)
  included), each from a FIXED state assigned to `env.unwrapped.s` after `reset`, so that the
  start-state draw plays no part, then a fixed action sequence: uniformly random actions
  (these run into the time limit: the last row is the truncation step) or the greedy actions
  of the optimal values (these deliver the passenger). The dry env draws no random numbers
  while stepping, so the episodes are exact for any random stream. Header
  `episode,t,action,state,reward,terminated,truncated,prob`; row `t = 0` is the start state
  (action, reward and prob empty, flags 0), row `t >= 1` the action taken at step t, the
  observation, reward, flags and `info["prob"]` it returned.

Floats are written with `repr`, which round-trips exactly through Rust's `f64::from_str`.
"""

import csv
import os
import sys

import gymnasium
import numpy as np

ID = "Taxi-v4"


def dump_p(inner, path):
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["state", "action", "index", "prob", "next_state", "reward", "terminated"])
        for s in range(inner.observation_space.n):
            for a in range(inner.action_space.n):
                for i, (p, s2, r, t) in enumerate(inner.P[s][a]):
                    w.writerow([s, a, i, repr(float(p)), int(s2), repr(float(r)), int(bool(t))])


def greedy_policy(inner):
    """The greedy actions (lowest index among ties) of the optimal undiscounted values of
    the dry table, by value iteration until the values stop changing. The states a delivery
    enters (passenger at the destination) are terminal: their value stays 0."""
    n_states, n_actions = inner.observation_space.n, inner.action_space.n
    terminal = {s for s in range(n_states) if inner.decode(s)[2] == inner.decode(s)[3]}

    def q(v, s, a):
        return sum(p * (r + (0.0 if done else v[s2])) for p, s2, r, done in inner.P[s][a])

    v = [0.0] * n_states
    while True:
        nxt = [0.0 if s in terminal else max(q(v, s, a) for a in range(n_actions))
               for s in range(n_states)]
        if nxt == v:
            break
        v = nxt
    policy = []
    for s in range(n_states):
        qs = [q(v, s, a) for a in range(n_actions)]
        policy.append(qs.index(max(qs)))
    return policy


def episode(start, choose):
    env = gymnasium.make(ID)
    env.reset(seed=0)
    env.unwrapped.s = start
    rows = [["", str(start), "", "0", "0", ""]]
    s = start
    while True:
        a = choose(s)
        s, r, terminated, truncated, info = env.step(a)
        rows.append([str(a), str(int(s)), repr(float(r)), str(int(terminated)),
                     str(int(truncated)), repr(float(info["prob"]))])
        if terminated or truncated:
            env.close()
            return rows


def main() -> None:
    if gymnasium.__version__ != "1.4.0":
        sys.exit(f"expected gymnasium 1.4.0, found {gymnasium.__version__}")
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join("envs", "tests", "data")
    os.makedirs(out_dir, exist_ok=True)

    dry = gymnasium.make(ID).unwrapped
    rainy = gymnasium.make(ID, is_rainy=True).unwrapped
    dump_p(dry, os.path.join(out_dir, "taxi_p_dry.csv"))
    dump_p(rainy, os.path.join(out_dir, "taxi_p_rainy.csv"))
    with open(os.path.join(out_dir, "taxi_start.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["state", "prob"])
        for s, p in enumerate(dry.initial_state_distrib):
            if p > 0:
                w.writerow([s, repr(float(p))])
    with open(os.path.join(out_dir, "taxi_spec.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["id", "n_states", "n_actions", "max_episode_steps"])
        w.writerow([ID, dry.observation_space.n, dry.action_space.n,
                    gymnasium.spec(ID).max_episode_steps])

    # Start states: every passenger location and destination, taxi anywhere (also on the
    # passenger, and with the passenger already in the taxi).
    starts = [dry.encode(r, c, p, d) for r, c, p, d in [
        (0, 0, 1, 2), (4, 4, 0, 3), (2, 2, 2, 1), (4, 3, 3, 0), (1, 1, 4, 0),
        (0, 4, 1, 3), (3, 1, 4, 2), (4, 0, 2, 1), (2, 3, 0, 1), (0, 2, 4, 3),
    ]]
    policy = greedy_policy(dry)
    episodes = []
    for i, s in enumerate(starts):
        episodes.append(episode(s, lambda _s: policy[_s]))
        rng = np.random.default_rng(1000 + i)
        episodes.append(episode(s, lambda _s, rng=rng: int(rng.integers(0, 6))))
    with open(os.path.join(out_dir, "taxi_trajectories.csv"), "w", newline="") as f:
        f.write(f"# {ID} reference episodes: greedy-optimal and random actions from set states\n")
        f.write(f"# Recorded with gymnasium {gymnasium.__version__} and numpy {np.__version__}"
                " by tools/gen_taxi_reference.py.\n")
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["episode", "t", "action", "state", "reward", "terminated", "truncated",
                    "prob"])
        for e, rows in enumerate(episodes):
            for t, row in enumerate(rows):
                w.writerow([e, t, *row])
    ends = [(r[-1][3], r[-1][4]) for r in episodes]
    print(f"{len(episodes)} episodes, {sum(len(r) - 1 for r in episodes)} steps; "
          f"{sum(t == '1' for t, _ in ends)} terminated, {sum(u == '1' for _, u in ends)} truncated")


if __name__ == "__main__":
    main()
