#!/usr/bin/env python3
"""The windy grid world's transitions under Sutton & Barto's own rule, as reference data.

Sutton & Barto's code for Example 6.5 (`chapter06/windy_grid_world.py` in
ShangtongZhang/reinforcement-learning-an-introduction) moves the agent from row i, column j by
adding the move and the wind of column j (the column it leaves) and then clipping to the grid:
Up goes to row i - 1 - WIND[j], Down to row i + 1 - WIND[j], Left and Right stay in row
i - WIND[j], each row clipped to 0..H-1, and Left and Right change the column by one, clipped
to 0..W-1. So a move down off the bottom row under wind 1 ends where it started, the push
undoing the move, and the row and the column are clipped each on its own.

This script applies that rule, written once for any displacement (di, dj) and push w:

    row = clip(i + di - w, 0, H - 1),  col = clip(j + dj, 0, W - 1)

to every state and action of the variants qlab registers under `WindyGridworld-v0`:

- `four`: the four moves of Example 6.5;
- `king`: king's moves (Exercise 6.9), the four diagonals added, each sliding along an edge
  it runs into, as the clipping makes it;
- `king_stay`: king's moves and staying put (the ninth action of Exercise 6.9);
- `stochastic`: the four moves with the stochastic wind of Exercise 6.10: in a column with wind
  w != 0 the push is w - 1, w or w + 1 with probability 1/3 each (the book's code has no such
  variant; the same clipping rule is applied to each push);
- `stochastic_king_stay`: the stochastic wind with the nine actions.

Actions are numbered as qlab numbers them: 0 Up, 1 Right, 2 Down, 3 Left, 4 UpRight,
5 DownRight, 6 DownLeft, 7 UpLeft, 8 Stay. Every step costs -1; entering the goal (row 3,
column 7) terminates. The goal itself is listed as qlab lists terminal cells (one entry staying
put, reward 0, terminated); the book's code never steps from it. A stochastic push is listed as
three entries in the order w - 1, w, w + 1, even where two land on the same cell.

It writes `windy_reference.csv`: `variant,state,action,index,prob,next_state,reward,terminated`
(the state is row * 10 + column), and prints, for each variant, the fewest steps from the start
to the goal and the optimal undiscounted value of the start (value iteration on these
transitions until the values stop changing): the numbers `qlab solve` must print.

Usage (from the repository root; plain Python 3, no packages):

    python3 tools/gen_windy_reference.py [OUT_DIR]

OUT_DIR defaults to `envs/tests/data`.
"""

import collections
import csv
import os
import sys

H, W = 7, 10
WIND = [0, 0, 0, 1, 1, 1, 2, 2, 1, 0]
START, GOAL = (3, 0), (3, 7)
# (row, column) displacement of each action, in qlab's action order.
MOVES = [(-1, 0), (0, 1), (1, 0), (0, -1), (-1, 1), (1, 1), (1, -1), (-1, -1), (0, 0)]
VARIANTS = [
    ("four", 4, False),
    ("king", 8, False),
    ("king_stay", 9, False),
    ("stochastic", 4, True),
    ("stochastic_king_stay", 9, True),
]


def clip(x, lo, hi):
    return min(max(x, lo), hi)


def pushes(j, stochastic):
    """(probability, push) of column j's wind."""
    w = WIND[j]
    if stochastic and w != 0:
        return [(1 / 3, w - 1), (1 / 3, w), (1 / 3, w + 1)]
    return [(1.0, w)]


def outcomes(i, j, a, stochastic):
    """The entries (prob, next_state, reward, terminated) of action a from (i, j)."""
    if (i, j) == GOAL:
        return [(1.0, i * W + j, 0.0, True)]
    di, dj = MOVES[a]
    out = []
    for p, w in pushes(j, stochastic):
        r, c = clip(i + di - w, 0, H - 1), clip(j + dj, 0, W - 1)
        out.append((p, r * W + c, -1.0, (r, c) == GOAL))
    return out


def shortest_path(n_actions, stochastic):
    """Fewest steps from the start into the goal over every listed outcome (BFS)."""
    start = START[0] * W + START[1]
    dist = {start: 0}
    queue = collections.deque([start])
    while queue:
        s = queue.popleft()
        for a in range(n_actions):
            for _, s2, _, term in outcomes(*divmod(s, W), a, stochastic):
                if term:
                    return dist[s] + 1
                if s2 not in dist:
                    dist[s2] = dist[s] + 1
                    queue.append(s2)
    return None


def optimal_start_value(n_actions, stochastic):
    """Value iteration (undiscounted, synchronous) until no value changes; the start's value."""
    v = [0.0] * (H * W)
    for sweep in range(100_000):
        new = [
            max(
                sum(p * (r + (0.0 if term else v[s2])) for p, s2, r, term in outcomes(*divmod(s, W), a, stochastic))
                for a in range(n_actions)
            )
            if divmod(s, W) != GOAL
            else 0.0
            for s in range(H * W)
        ]
        if new == v:
            return v[START[0] * W + START[1]], sweep
        v = new
    raise RuntimeError("value iteration did not settle")


def main() -> None:
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join("envs", "tests", "data")
    path = os.path.join(out_dir, "windy_reference.csv")
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["variant", "state", "action", "index", "prob", "next_state", "reward", "terminated"])
        for name, n_actions, stochastic in VARIANTS:
            for s in range(H * W):
                for a in range(n_actions):
                    for k, (p, s2, r, term) in enumerate(outcomes(*divmod(s, W), a, stochastic)):
                        w.writerow([name, s, a, k, repr(p), s2, repr(r), int(term)])
    print(f"wrote {path}")
    for name, n_actions, stochastic in VARIANTS:
        value, sweeps = optimal_start_value(n_actions, stochastic)
        print(f"{name}: shortest path {shortest_path(n_actions, stochastic)},"
              f" optimal start value {value!r} ({sweeps} sweeps)")


if __name__ == "__main__":
    main()
