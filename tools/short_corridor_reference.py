"""REINFORCE on Sutton & Barto's short corridor (Example 13.1), written out in NumPy from the
book's pseudocode (§13.3, §13.4), as an independent reference for qlab's `reinforce` agent
(configs/short_corridor_reinforce*.toml, RESULTS.md).

    python3 tools/short_corridor_reference.py [--runs 100] [--episodes 1000]

Prints, for each setting, the return per episode averaged over the runs, in windows of
episodes, and how the runs' last 100 episodes end up. The policy is a softmax over two preferences (right, left) shared by all states;
the start policy moves right with probability 0.05; γ = 1; episodes end at the goal or after
1,000 steps.
"""

from __future__ import annotations

import argparse

import numpy as np


def step(state: int, right: bool) -> int:
    if state == 1:  # the switched state
        return 0 if right else 2
    if right:
        return state + 1
    return max(state - 1, 0)


def run(alpha: float, alpha_w: float | None, episodes: int, rng: np.random.Generator) -> np.ndarray:
    theta = np.log(np.array([0.05, 0.95]))  # preferences of right, left
    w = 0.0
    totals = np.empty(episodes)
    for e in range(episodes):
        state, actions, rewards = 0, [], []
        while state != 3 and len(actions) < 1000:
            h = theta - theta.max()
            p_right = np.exp(h[0]) / np.exp(h).sum()
            right = rng.random() < p_right
            actions.append(right)
            state = step(state, right)
            rewards.append(-1.0)
        totals[e] = sum(rewards)
        g = np.cumsum(rewards[::-1])[::-1]  # returns, γ = 1
        for t, right in enumerate(actions):
            delta = g[t]
            if alpha_w is not None:
                delta = g[t] - w
                w += alpha_w * delta
            h = theta - theta.max()
            pi = np.exp(h) / np.exp(h).sum()
            x = np.array([1.0, 0.0]) if right else np.array([0.0, 1.0])
            theta = theta + alpha * delta * (x - pi)
    return totals


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--episodes", type=int, default=1000)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    settings = [
        ("REINFORCE alpha=2^-12", 2.0**-12, None),
        ("REINFORCE alpha=2^-13", 2.0**-13, None),
        ("REINFORCE alpha=2^-14", 2.0**-14, None),
        ("with baseline alpha=2^-9 alpha_w=2^-6", 2.0**-9, 2.0**-6),
    ]
    windows = [(0, 10), (90, 100), (190, 200), (490, 500), (900, 1000)]
    for name, alpha, alpha_w in settings:
        runs = np.array([run(alpha, alpha_w, args.episodes, rng) for _ in range(args.runs)])
        mean = runs.mean(axis=0)
        cells = ", ".join(f"{a + 1}-{b}: {mean[a:b].mean():.2f}" for a, b in windows)
        # Runs whose last 100 episodes average below -100: the policy became nearly
        # deterministic and its episodes run into the step limit.
        finals = runs[:, -100:].mean(axis=1)
        stuck = finals < -100
        others = finals[~stuck].mean() if (~stuck).any() else float("nan")
        print(f"{name}: {cells}; stuck runs {stuck.sum()}, median of the last 100 "
              f"{np.median(finals):.2f}, mean of the others {others:.2f}")


if __name__ == "__main__":
    main()
