"""Env throughput of the reference implementation, measured like `qlab bench`.

Steps an env with uniformly random actions (resetting when an episode ends) and prints one line
`env=ID num_envs=K steps=N steps_per_second=X`, the same format as `qlab bench`.

    python3 tools/bench_gymnasium.py --env CartPole-v1 --steps 1000000
    python3 tools/bench_gymnasium.py --env CartPole-v1 --num-envs 4096 --steps 100000000
    python3 tools/bench_gymnasium.py --env Pendulum-v1 --steps 300000

Discrete actions are drawn uniformly from `Discrete(n)`; Box actions (Pendulum-v1,
MountainCarContinuous-v0) uniformly between the bounds, as float32 like the space's own
samples. The actions are drawn before the clock starts. With --num-envs > 1, CartPole-v1 uses Gymnasium's numpy-vectorized CartPoleVectorEnv
(`gymnasium.make_vec(..., vectorization_mode="vector_entry_point")`), other envs a
SyncVectorEnv. Requires `pip install gymnasium==1.4.0`.
"""

import argparse
import time

import gymnasium as gym
import numpy as np


def random_actions(space, steps: int, rng: np.random.Generator) -> list:
    """`steps` uniformly random actions of `space`, as the env takes them: Python ints for
    `Discrete`, float32 arrays of the space's shape for `Box`."""
    if isinstance(space, gym.spaces.Discrete):
        return [int(a) for a in space.start + rng.integers(0, space.n, size=steps)]
    if isinstance(space, gym.spaces.Box):
        draws = rng.uniform(space.low, space.high, size=(steps, *space.shape))
        return list(draws.astype(space.dtype))
    raise SystemExit(f"unsupported action space {space}")


def single(env_id: str, steps: int) -> float:
    env = gym.make(env_id)
    rng = np.random.default_rng(0)
    actions = random_actions(env.action_space, steps, rng)
    env.reset(seed=0)
    start = time.perf_counter()
    for a in actions:
        _, _, terminated, truncated, _ = env.step(a)
        if terminated or truncated:
            env.reset()
    return steps / (time.perf_counter() - start)


def vectorised(env_id: str, num_envs: int, steps: int) -> float:
    mode = "vector_entry_point" if env_id == "CartPole-v1" else "sync"
    envs = gym.make_vec(env_id, num_envs=num_envs, vectorization_mode=mode)
    n = envs.single_action_space.n
    rng = np.random.default_rng(0)
    rounds = -(-steps // num_envs)
    envs.reset(seed=0)
    start = time.perf_counter()
    for _ in range(rounds):
        envs.step(rng.integers(0, n, size=num_envs))
    return rounds * num_envs / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", required=True)
    parser.add_argument("--steps", type=int, default=1_000_000)
    parser.add_argument("--num-envs", type=int, default=1)
    args = parser.parse_args()
    if args.num_envs == 1:
        rate = single(args.env, args.steps)
    else:
        rate = vectorised(args.env, args.num_envs, args.steps)
    print(
        f"env={args.env} num_envs={args.num_envs} steps={args.steps} "
        f"steps_per_second={rate:.0f}"
    )


if __name__ == "__main__":
    main()
