"""Mean return over episodes 401-500 of SARSA, Q-learning and Expected SARSA on the cliff walk.

An independent transcription of Sutton & Barto's Example 6.6 and Figure 6.4 (4 × 12 grid,
−1 per step, −100 and back to the start for stepping into the cliff, ε = 0.1, α = 0.5, γ = 1,
Q = 0, ties broken at random), run for 50 seeds of 500 episodes, as a reference for the
`configs/cliffwalking_*.toml` rows of RESULTS.md. SARSA chooses A' before its update, as in
S&B's pseudocode; Q-learning and Expected SARSA choose each action after the previous update.

    python3 tools/cliff_td_reference.py
"""

import numpy as np

H, W = 4, 12
START, GOAL = (3, 0), (3, 11)
MOVES = [(-1, 0), (0, 1), (1, 0), (0, -1)]  # up, right, down, left (Gymnasium's order)
EPS, ALPHA = 0.1, 0.5


def step(s, a):
    i = min(max(s[0] + MOVES[a][0], 0), H - 1)
    j = min(max(s[1] + MOVES[a][1], 0), W - 1)
    if i == 3 and 1 <= j <= 10:
        return START, -100.0
    return (i, j), -1.0


def run(method, seed, episodes=500):
    rng = np.random.default_rng(seed)
    q = np.zeros((H, W, 4))

    def choose(s):
        if rng.random() < EPS:
            return int(rng.integers(4))
        v = q[s]
        return int(rng.choice(np.flatnonzero(v == v.max())))

    returns = []
    for _ in range(episodes):
        s, total = START, 0.0
        a = choose(s)
        while s != GOAL:
            s2, r = step(s, a)
            total += r
            if method == "sarsa":
                a2 = choose(s2)
                target = r + (0.0 if s2 == GOAL else q[s2][a2])
                q[s][a] += ALPHA * (target - q[s][a])
            else:
                if s2 == GOAL:
                    target = r
                elif method == "q_learning":
                    target = r + q[s2].max()
                else:
                    v = q[s2]
                    best = np.flatnonzero(v == v.max())
                    p = np.full(4, EPS / 4)
                    p[best] += (1 - EPS) / len(best)
                    target = r + p @ v
                q[s][a] += ALPHA * (target - q[s][a])
                a2 = choose(s2)
            s, a = s2, a2
        returns.append(total)
    return np.mean(returns[400:])


for method in ["sarsa", "q_learning", "expected_sarsa"]:
    m = [run(method, k) for k in range(50)]
    print(f"{method}: {np.mean(m):.2f} ± {np.std(m, ddof=1) / np.sqrt(len(m)):.2f} (standard error, 50 seeds)")
