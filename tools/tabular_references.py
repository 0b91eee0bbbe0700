#!/usr/bin/env python3
"""Reference figures for the learning tests of qlab-agents' tabular agents.

An independent transcription of Sutton & Barto's (2nd ed.) pseudocode in numpy, run over many
seeds on the same tasks as the Rust tests. The random streams differ from qlab's, so the Rust
tests compare means within a few standard errors of these figures, not bit for bit.

- Cliff walking (S&B Example 6.6, Figure 6.4): SARSA, Q-learning and Expected SARSA with
  epsilon = 0.1, alpha = 0.5, gamma = 1, 500 episodes, on Gymnasium's own transition table of
  `CliffWalking-v1` (stepping into the cliff costs -100 and returns to the start; the episode
  goes on). Figure: the mean return of episodes 401-500, per seed; mean and standard deviation
  over seeds.
- Windy grid world (S&B Example 6.5, Figure 6.3): SARSA, epsilon = 0.1, alpha = 0.5: episodes
  completed within the first 8000 time steps; length of the greedy path after 500 episodes
  (capped at 1000 steps), with the four moves and with king's moves. The moves follow the
  book's own code: the move plus the wind of the column left, then clipped to the grid.
- Windy grid world, SARSA(lambda) with replacing traces (S&B Section 12.7), lambda = 0.9,
  epsilon = 0.1, alpha = 0.2: episodes completed within the first 8000 time steps, and the
  greedy path after 200 episodes.
- 19-state random walk (S&B Example 7.1, Figures 12.6 and 12.8): TD(lambda) with accumulating
  traces and true online TD(lambda), values initialised to 0, gamma = 1: RMS error over the 19
  states against the true values i/10 - 1, averaged over the first 10 episodes and 100 runs,
  for a grid of alpha; and with 1000 runs near the best alpha for lambda = 0.8.
- FrozenLake-v1 (slippery): the best success probability any policy reaches within its
  100-step time limit, by finite-horizon value iteration on Gymnasium's transition table.

Usage (from the repository root, with gymnasium==1.4.0 and numpy installed):

    python3 tools/tabular_references.py [cliff|windy|windy_lambda|walk|walk_precise|lake ...]
"""

import sys

import gymnasium
import numpy as np

SEEDS = 200


def greedy(q, rng):
    best = np.flatnonzero(q == q.max())
    return int(best[0]) if len(best) == 1 else int(rng.choice(best))


def eps_greedy(q, eps, rng):
    if rng.random() < eps:
        return int(rng.integers(len(q)))
    return greedy(q, rng)


def td_control(step, start, n_states, n_actions, algo, alpha, eps, episodes, rng):
    """One run of SARSA, Q-learning or Expected SARSA (gamma = 1); the return of each episode."""
    q = np.zeros((n_states, n_actions))
    returns = []
    for _ in range(episodes):
        s = start
        a = eps_greedy(q[s], eps, rng)
        ret = 0.0
        while True:
            s2, r, term = step(s, a)
            ret += r
            if algo == "sarsa":
                a2 = eps_greedy(q[s2], eps, rng) if not term else 0
                target = r + (0.0 if term else q[s2, a2])
                q[s, a] += alpha * (target - q[s, a])
            else:
                if term:
                    target = r
                elif algo == "q_learning":
                    target = r + q[s2].max()
                else:  # expected_sarsa: (1 - eps) max + eps mean
                    target = r + (1 - eps) * q[s2].max() + eps * q[s2].mean()
                q[s, a] += alpha * (target - q[s, a])
                a2 = eps_greedy(q[s2], eps, rng) if not term else 0
            if term:
                break
            s, a = s2, a2
        returns.append(ret)
    return q, returns


def cliff():
    P = gymnasium.make("CliffWalking-v1").unwrapped.P

    def step(s, a):
        (_, s2, r, term), = P[s][a]
        return s2, r, term

    print("cliff walking: mean return of episodes 401-500 (epsilon 0.1, alpha 0.5, gamma 1)")
    for algo in ["sarsa", "q_learning", "expected_sarsa"]:
        tails = []
        for seed in range(SEEDS):
            rng = np.random.default_rng(seed)
            _, rets = td_control(step, 36, 48, 4, algo, 0.5, 0.1, 500, rng)
            tails.append(np.mean(rets[400:]))
        tails = np.array(tails)
        print(f"  {algo}: mean {tails.mean():.3f}, sd over seeds {tails.std(ddof=1):.3f},"
              f" {SEEDS} seeds")


WIND = [0, 0, 0, 1, 1, 1, 2, 2, 1, 0]
MOVES4 = [(-1, 0), (0, 1), (1, 0), (0, -1)]
MOVES8 = MOVES4 + [(-1, 1), (1, 1), (1, -1), (-1, -1)]


def windy_step(moves):
    # Sutton & Barto's own rule (their code for Example 6.5): the move plus the wind of the
    # column the move starts from, then the row and the column each clipped to the grid.
    def step(s, a):
        i, j = divmod(s, 10)
        di, dj = moves[a]
        ni = min(max(i + di - WIND[j], 0), 6)
        nj = min(max(j + dj, 0), 9)
        s2 = ni * 10 + nj
        return s2, -1.0, s2 == 37

    return step


def windy():
    print("windy grid world, SARSA (epsilon 0.1, alpha 0.5)")
    for name, moves in [("four moves", MOVES4), ("king's moves", MOVES8)]:
        step = windy_step(moves)
        by_8000, lengths = [], []
        for seed in range(SEEDS):
            rng = np.random.default_rng(seed)
            q = np.zeros((70, len(moves)))
            t, done, episodes = 0, 0, 0
            while episodes < 500:
                s = 30
                a = eps_greedy(q[s], 0.1, rng)
                while True:
                    s2, r, term = step(s, a)
                    t += 1
                    a2 = 0 if term else eps_greedy(q[s2], 0.1, rng)
                    q[s, a] += 0.5 * (r + (0.0 if term else q[s2, a2]) - q[s, a])
                    if term:
                        break
                    s, a = s2, a2
                episodes += 1
                if t <= 8000:
                    done += 1
            by_8000.append(done)
            s, n = 30, 0
            while s != 37 and n < 1000:
                s, _, _ = step(s, greedy(q[s], rng))
                n += 1
            lengths.append(n)
        by_8000, lengths = np.array(by_8000), np.array(lengths)
        print(f"  {name}: episodes completed by step 8000: mean {by_8000.mean():.2f},"
              f" sd over seeds {by_8000.std(ddof=1):.2f}; greedy path after 500 episodes:"
              f" min {lengths.min()}, median {np.median(lengths):.0f},"
              f" {np.mean(lengths == lengths.min()):.2f} of seeds at the min,"
              f" {np.mean(lengths >= 1000):.2f} looping; {SEEDS} seeds")


def windy_lambda():
    """SARSA(lambda), replacing traces (S&B Section 12.7), on the four-move windy grid world:
    epsilon = 0.1, alpha = 0.2, lambda = 0.9, gamma = 1, traces cleared each episode."""
    print("windy grid world, SARSA(lambda) (replacing, lambda 0.9, epsilon 0.1, alpha 0.2)")
    step = windy_step(MOVES4)
    by_8000, lengths = [], []
    for seed in range(SEEDS):
        rng = np.random.default_rng(seed)
        q = np.zeros((70, 4))
        t, done = 0, 0
        for episode in range(300):
            z = np.zeros((70, 4))
            s = 30
            a = eps_greedy(q[s], 0.1, rng)
            while True:
                s2, r, term = step(s, a)
                t += 1
                a2 = 0 if term else eps_greedy(q[s2], 0.1, rng)
                delta = r + (0.0 if term else q[s2, a2]) - q[s, a]
                z[s, a] = 1.0
                q += 0.2 * delta * z
                z *= 0.9
                if term:
                    break
                s, a = s2, a2
            if t <= 8000:
                done += 1
            if episode == 199:  # the greedy path after 200 episodes
                g, n = 30, 0
                while g != 37 and n < 1000:
                    g, _, _ = step(g, greedy(q[g], rng))
                    n += 1
                lengths.append(n)
        by_8000.append(done)
    by_8000, lengths = np.array(by_8000), np.array(lengths)
    finite = lengths[lengths < 1000]
    print(f"  episodes completed by step 8000: mean {by_8000.mean():.2f},"
          f" sd over seeds {by_8000.std(ddof=1):.2f}, min {by_8000.min()}, max {by_8000.max()};"
          f" greedy path after 200 episodes: min {lengths.min()},"
          f" median {np.median(lengths):.0f}, max of those reaching the goal {finite.max()},"
          f" {np.mean(lengths == lengths.min()):.2f} of seeds at the min,"
          f" {np.mean(lengths >= 1000):.2f} looping; {SEEDS} seeds")


TRUE_V = np.arange(1, 20) / 10.0 - 1.0


def walk_rms(alpha, lam, true_online, runs=100, episodes=10):
    return walk_runs(alpha, lam, true_online, runs, episodes).mean()


def walk_runs(alpha, lam, true_online, runs, episodes=10):
    """The RMS error averaged over the first `episodes` episodes, one value per run."""
    per_run = []
    for run in range(runs):
        total = 0.0
        rng = np.random.default_rng(run)
        w = np.zeros(21)  # states 0 and 20 are terminal and stay 0
        for _ in range(episodes):
            z = np.zeros(21)
            s, v_old = 10, 0.0
            while True:
                s2 = s + (1 if rng.random() < 0.5 else -1)
                term = s2 in (0, 20)
                r = (1.0 if s2 == 20 else -1.0) if term else 0.0
                v, v2 = w[s], (0.0 if term else w[s2])
                delta = r + v2 - v
                if true_online:
                    # z = gl z + (1 - alpha gl z.x) x; w += a (d + v - v_old) z - a (v - v_old) x
                    z *= lam
                    z[s] += 1.0 - alpha * z[s]  # z[s] is already lambda z_{t-1}[s]
                    w += alpha * (delta + v - v_old) * z
                    w[s] -= alpha * (v - v_old)
                    v_old = v2
                else:
                    z *= lam
                    z[s] += 1.0
                    w += alpha * delta * z
                if term:
                    break
                s = s2
            total += np.sqrt(np.mean((w[1:20] - TRUE_V) ** 2))
        per_run.append(total / episodes)
    return np.array(per_run)


def walk():
    alphas = np.round(np.arange(0.05, 1.0001, 0.05), 2)
    for true_online in [False, True]:
        name = "true online TD(lambda)" if true_online else "TD(lambda), accumulating"
        print(f"19-state random walk, {name}: RMS error, first 10 episodes, 100 runs")
        for lam in [0.0, 0.4, 0.8, 0.9]:
            errs = [walk_rms(a, lam, true_online) for a in alphas]
            best = int(np.argmin(errs))
            print(f"  lambda {lam}: best alpha {alphas[best]:.2f}, RMS {errs[best]:.4f};"
                  f" alpha 0.1 {errs[1]:.4f}")


def walk_precise():
    """lambda = 0.8 near the best alpha with 1000 runs, and the spread of the runs."""
    for true_online, alphas in [(False, [0.25, 0.3, 0.35]), (True, [0.35, 0.4, 0.45])]:
        name = "true online TD(lambda)" if true_online else "TD(lambda), accumulating"
        runs = [walk_runs(a, 0.8, true_online, 1000) for a in alphas]
        best = int(np.argmin([r.mean() for r in runs]))
        print(f"19-state random walk, {name}, lambda 0.8, 1000 runs: best alpha {alphas[best]},"
              f" RMS {runs[best].mean():.4f}, sd over runs {runs[best].std(ddof=1):.4f};"
              f" all: {[round(float(r.mean()), 4) for r in runs]}")


def lake():
    env = gymnasium.make("FrozenLake-v1")
    P = env.unwrapped.P
    horizon = env.spec.max_episode_steps
    v = np.zeros(16)
    for _ in range(horizon):
        v = np.array([max(sum(p * (r + (0.0 if t else v[s2])) for p, s2, r, t in P[s][a])
                          for a in range(4)) for s in range(16)])
    print(f"FrozenLake-v1: best success probability within {horizon} steps: {v[0]:.4f}")


if __name__ == "__main__":
    if gymnasium.__version__ != "1.4.0":
        sys.exit(f"expected gymnasium 1.4.0, found {gymnasium.__version__}")
    parts = {"cliff": cliff, "windy": windy, "windy_lambda": windy_lambda, "walk": walk,
             "walk_precise": walk_precise, "lake": lake}
    for name in sys.argv[1:] or list(parts):
        parts[name]()
