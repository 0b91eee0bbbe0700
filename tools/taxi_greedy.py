#!/usr/bin/env python3
"""Exact greedy return of a Taxi-v4 run's learned agents over all 300 start states.

    python3 tools/taxi_greedy.py RUN_DIR [RUN_DIR ...]

Each seed's `agent.bin` (a 500 × 6 table of action values, little-endian f64) defines a
greedy policy; where several actions share the maximum, qlab breaks the tie at random, so
this script takes every tied action into account. The dry Taxi-v4 is deterministic, so the
greedy return from a start state is computed exactly, not sampled: backward induction over
the env's 200-step limit on Gymnasium's own transition table and start distribution
(`envs/tests/data/taxi_p_dry.csv` and `taxi_start.csv`, written from gymnasium 1.4 by
`tools/gen_taxi_reference.py`), once with the worst and once with the best tie-breaking.
Beside it, the optimum `Σ p(s₀) · V*(s₀)` on the same table (7.93, as `qlab solve --env
Taxi-v4`).

Prints one line per seed:
`run=… seed=K worst=W best=B optimal=V starts_below_optimal=N tied_starts=T`, where `worst`
and `best` average the greedy return over the start distribution and `starts_below_optimal`
counts the start states whose worst-case greedy return is below V*, `tied_starts` those
where the greedy action is tied. Needs only NumPy.
"""

import csv
import json
import os
import sys

import numpy as np

HORIZON = 200
N_STATES, N_ACTIONS = 500, 6
DATA = os.path.join(os.path.dirname(__file__), "..", "envs", "tests", "data")


def load_model():
    """Gymnasium's P for the dry taxi: next state, reward and termination per (s, a)."""
    nxt = np.zeros((N_STATES, N_ACTIONS), dtype=np.int64)
    rew = np.zeros((N_STATES, N_ACTIONS))
    term = np.zeros((N_STATES, N_ACTIONS), dtype=bool)
    with open(os.path.join(DATA, "taxi_p_dry.csv")) as f:
        for row in csv.DictReader(f):
            # The dry taxi has one entry of probability 1 per (s, a).
            assert float(row["prob"]) == 1.0 and row["index"] == "0"
            s, a = int(row["state"]), int(row["action"])
            nxt[s, a] = int(row["next_state"])
            rew[s, a] = float(row["reward"])
            term[s, a] = row["terminated"] == "1"
    start = np.zeros(N_STATES)
    with open(os.path.join(DATA, "taxi_start.csv")) as f:
        for row in csv.DictReader(f):
            start[int(row["state"])] = float(row["prob"])
    return nxt, rew, term, start


def values(nxt, rew, term, allowed, pick):
    """Return over the time limit of the policy choosing among `allowed` actions with `pick`
    (np.max over all actions gives V*; np.min / np.max over the greedy ties give the worst
    and best tie-breaking)."""
    v = np.zeros(N_STATES)
    for _ in range(HORIZON):
        q = rew + np.where(term, 0.0, v[nxt])
        # An action outside `allowed` takes a value `pick` never chooses.
        v = pick(np.where(allowed, q, -np.inf if pick is np.max else np.inf), axis=1)
    return v


def main(argv):
    if not argv:
        sys.exit(__doc__)
    nxt, rew, term, start = load_model()
    everything = np.ones((N_STATES, N_ACTIONS), dtype=bool)
    optimal = values(nxt, rew, term, everything, np.max)
    starts = start > 0
    for run in argv:
        with open(os.path.join(run, "summary.json")) as f:
            seeds = [s["seed"] for s in json.load(f)["per_seed"]]
        for seed in seeds:
            q = np.fromfile(os.path.join(run, f"seed_{seed}", "agent.bin"), "<f8")
            q = q.reshape(N_STATES, N_ACTIONS)
            greedy = q == q.max(axis=1, keepdims=True)
            worst = values(nxt, rew, term, greedy, np.min)
            best = values(nxt, rew, term, greedy, np.max)
            below = int(np.sum(worst[starts] < optimal[starts]))
            tied = int(np.sum(greedy[starts].sum(axis=1) > 1))
            print(
                f"run={run} seed={seed} worst={start @ worst:.4f} best={start @ best:.4f} "
                f"optimal={start @ optimal:.4f} starts_below_optimal={below} tied_starts={tied}"
            )


if __name__ == "__main__":
    main(sys.argv[1:])
