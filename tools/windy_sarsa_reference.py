"""Episodes completed by time step 8,000 by SARSA on the windy grid world.

An independent transcription of Sutton & Barto's Example 6.5 (ε = 0.1, α = 0.5, Q = 0, ties
broken at random, A' chosen before the update), run for 200 seeds, as a reference for
`configs/windy_sarsa.toml` in RESULTS.md. S&B's figure shows one run (about 170 episodes).
`step` moves as the book's own code does (`windy_grid_world.py`): the move plus the wind of
the column left, then clipped to the grid; `WindyGridworld-v0` has the same transitions
(`tools/gen_windy_reference.py` pins them for every state and action).

    python3 tools/windy_sarsa_reference.py
"""

import numpy as np
H, W = 7, 10
WIND = [0, 0, 0, 1, 1, 1, 2, 2, 1, 0]
START, GOAL = (3, 0), (3, 7)
def step(s, a):
    i, j = s
    if a == 0: return (max(i - 1 - WIND[j], 0), j)
    if a == 1: return (max(min(i + 1 - WIND[j], H - 1), 0), j)
    if a == 2: return (max(i - WIND[j], 0), max(j - 1, 0))
    return (max(i - WIND[j], 0), min(j + 1, W - 1))
def run(seed, budget=8000, eps=0.1, alpha=0.5):
    rng = np.random.default_rng(seed)
    q = np.zeros((H, W, 4))
    def choose(s):
        if rng.random() < eps: return int(rng.integers(4))
        v = q[s[0], s[1]]; best = np.flatnonzero(v == v.max()); return int(rng.choice(best))
    t = 0; episodes = 0
    while True:
        s = START; a = choose(s)
        while s != GOAL:
            s2 = step(s, a); a2 = choose(s2); t += 1
            target = -1.0 + (0.0 if s2 == GOAL else q[s2[0], s2[1], a2])
            q[s[0], s[1], a] += alpha * (target - q[s[0], s[1], a])
            s, a = s2, a2
            if t == budget: return episodes
        episodes += 1
e = [run(k) for k in range(200)]
print(f"mean {np.mean(e):.1f}, std {np.std(e):.1f}, min {min(e)}, max {max(e)} over 200 seeds")
