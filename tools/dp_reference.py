#!/usr/bin/env python3
"""Optimal values of Gymnasium's toy-text tasks, computed from Gymnasium's own model.

An independent check of `qlab_agents::dp`: this reads the transition table
`env.unwrapped.P` and the start distribution `env.unwrapped.initial_state_distrib` of
gymnasium 1.4.0 and runs synchronous (Jacobi) backward induction with numpy-free plain
Python floats:

    V_0 = 0,  V_k(s) = max_a sum_{(p, s', r, done) in P[s][a]} p * (r + (0 if done else V_{k-1}(s')))

undiscounted (gamma = 1). Terminal states — the states every transition into which is marked
`done` — are never backed up. (Taxi has none by this rule: Gymnasium lists ordinary moves
between its delivered states. They are entered from a start state only by a `done` dropoff,
so backing them up changes no start value.) With a horizon H the result is V_H, the best
expected return within H steps; "inf" iterates until the values stop changing (a fixed point
to the last bit).

Printed with `repr`, which round-trips exactly. The Rust tests in `agents/src/dp.rs` and
`tests/cli.rs` cite this output.

Usage (from the repository root, with `gymnasium==1.4.0` installed):

    python3 tools/dp_reference.py
"""

import sys

import gymnasium

CASES = [
    # (registry id, make kwargs, qlab id, horizons)
    ("FrozenLake-v1", {}, "FrozenLake-v1", [100, "inf"]),
    ("FrozenLake8x8-v1", {}, "FrozenLake8x8-v1", [200, "inf"]),
    ("CliffWalking-v1", {}, "CliffWalking-v1", [12, 13, "inf"]),
    ("CliffWalking-v1", {"is_slippery": True}, "CliffWalkingSlippery-v1", [100, 200, "inf"]),
    ("Taxi-v4", {}, "Taxi-v4", [200, "inf"]),
    ("Taxi-v4", {"is_rainy": True}, "Taxi-v4 is_rainy=true", [200, "inf"]),
]


def solve(P, n_states, n_actions, terminal, horizon):
    """V_H (or the fixed point for "inf") and the number of backups taken."""
    v = [0.0] * n_states
    k = 0
    while horizon == "inf" or k < horizon:
        nxt = [0.0] * n_states
        for s in range(n_states):
            if s in terminal:
                continue
            best = float("-inf")
            for a in range(n_actions):
                q = 0.0
                for p, s2, r, done in P[s][a]:
                    q += p * (r + (0.0 if done else v[s2]))
                best = max(best, q)
            nxt[s] = best
        k += 1
        if nxt == v:
            break
        v = nxt
        if k > 1_000_000:
            sys.exit("no fixed point within a million backups")
    return v, k


def main() -> None:
    if gymnasium.__version__ != "1.4.0":
        sys.exit(f"expected gymnasium 1.4.0, found {gymnasium.__version__}")
    for env_id, kwargs, name, horizons in CASES:
        env = gymnasium.make(env_id, **kwargs)
        inner = env.unwrapped
        n_states = int(inner.observation_space.n)
        n_actions = int(inner.action_space.n)
        P = inner.P
        into = {}
        for s in range(n_states):
            for a in range(n_actions):
                for _, s2, _, done in P[s][a]:
                    into.setdefault(s2, set()).add(bool(done))
        terminal = {int(s) for s, flags in into.items() if flags == {True}}
        start = [(s, float(p)) for s, p in enumerate(inner.initial_state_distrib) if p > 0]
        limit = gymnasium.spec(env_id).max_episode_steps
        print(f"{name}: time limit {limit}, terminal states {sorted(terminal)}")
        for h in horizons:
            v, k = solve(P, n_states, n_actions, terminal, h)
            value = sum(p * v[s] for s, p in start)
            print(f"  horizon {h}: start value {value!r} ({k} backups)")
            if name == "FrozenLake-v1" and h == 100:
                print(f"  V_100 = {[float(x) for x in v]!r}")
        env.close()


if __name__ == "__main__":
    main()
