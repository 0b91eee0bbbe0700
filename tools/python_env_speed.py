"""Speed of qlab's envs from Python against Gymnasium's, side by side (BENCHMARKS.md).

    pip install ./python && python tools/python_env_speed.py [--steps 200000] [--vector-steps 2000]

1. A Python loop stepping `gymnasium.make("qlab/CartPole-v1")` against the same loop over
   Gymnasium's `CartPole-v1` (both through `gymnasium.make`, wrappers and checkers included;
   a fixed action pattern; reset when an episode ends).
2. The 4,096-env vector env (`make_vec(..., vectorization_mode="vector_entry_point")`, qlab's
   batched CartPole) against Gymnasium's `CartPoleVectorEnv`, actions drawn beforehand.

Prints steps per second (vector: sub-env steps) and qlab's ratio over Gymnasium's.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import gymnasium as gym
import numpy as np
from gymnasium.envs.classic_control.cartpole import CartPoleVectorEnv

import qlab  # noqa: F401  (registers qlab/...)


def single_loop(make: Callable[[], gym.Env], steps: int) -> float:
    env = make()
    env.reset(seed=0)
    actions = [i % 2 for i in range(64)]
    start = time.perf_counter()
    for t in range(steps):
        _, _, terminated, truncated, _ = env.step(actions[t & 63])
        if terminated or truncated:
            env.reset()
    return steps / (time.perf_counter() - start)


def vector_loop(envs: gym.vector.VectorEnv, steps: int, n: int) -> float:
    envs.reset(seed=0)
    actions = np.random.default_rng(0).integers(0, 2, size=(64, n), dtype=np.int64)
    start = time.perf_counter()
    for t in range(steps):
        envs.step(actions[t & 63])
    return steps * n / (time.perf_counter() - start)


def best_of(repeats: int, run: Callable[[], float]) -> float:
    return max(run() for _ in range(repeats))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200_000)
    parser.add_argument("--vector-steps", type=int, default=2_000)
    parser.add_argument("--num-envs", type=int, default=4096)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    ours = best_of(args.repeats, lambda: single_loop(lambda: gym.make("qlab/CartPole-v1"), args.steps))
    theirs = best_of(args.repeats, lambda: single_loop(lambda: gym.make("CartPole-v1"), args.steps))
    print(f"single env, Python loop: qlab {ours:,.0f} steps/s, Gymnasium {theirs:,.0f} steps/s, "
          f"ratio {ours / theirs:.1f}x")

    n = args.num_envs
    vec = gym.make_vec("qlab/CartPole-v1", num_envs=n, vectorization_mode="vector_entry_point")
    ours_v = best_of(args.repeats, lambda: vector_loop(vec, args.vector_steps, n))
    gym_v = CartPoleVectorEnv(num_envs=n)
    theirs_v = best_of(args.repeats, lambda: vector_loop(gym_v, args.vector_steps, n))
    print(f"vector env, {n} sub-envs: qlab {ours_v:,.0f} steps/s, Gymnasium {theirs_v:,.0f} "
          f"steps/s, ratio {ours_v / theirs_v:.1f}x")


if __name__ == "__main__":
    main()
