"""Stable-Baselines3's DQN on CartPole-v1 with RL Zoo's tuned settings, the reference for
`configs/cartpole_dqn.toml` in BENCHMARKS.md.

    pip install stable-baselines3   # with torch (the CPU wheel is enough)
    python3 tools/sb3_cartpole_dqn.py --seeds 0 1 2
    python3 tools/sb3_cartpole_dqn.py --seeds 0 --device cuda   # the networks on a GPU

One torch thread, as `qlab train --threads 1` runs one seed per thread with one kernel
thread. For each seed: the wall time of `learn` (50,000 steps) and the mean return of 100
greedy evaluation episodes afterwards.
"""

import argparse
import time

import gymnasium as gym
import stable_baselines3
import torch
from stable_baselines3 import DQN
from stable_baselines3.common.evaluation import evaluate_policy

# rl-baselines3-zoo, hyperparams/dqn.yml, CartPole-v1.
ZOO = dict(
    learning_rate=2.3e-3,
    batch_size=64,
    buffer_size=100_000,
    learning_starts=1_000,
    gamma=0.99,
    target_update_interval=10,
    train_freq=256,
    gradient_steps=128,
    exploration_fraction=0.16,
    exploration_final_eps=0.04,
    policy_kwargs=dict(net_arch=[256, 256]),
)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--steps", type=int, default=50_000)
    p.add_argument("--eval-episodes", type=int, default=100)
    p.add_argument("--device", default="cpu", help="torch device of the networks")
    args = p.parse_args()
    torch.set_num_threads(1)
    print(f"stable-baselines3 {stable_baselines3.__version__}, torch {torch.__version__}, "
          f"gymnasium {gym.__version__}, 1 thread, device {args.device}")
    print("seed,seconds,steps_per_second,eval_mean_return,eval_std_return")
    for seed in args.seeds:
        model = DQN("MlpPolicy", gym.make("CartPole-v1"), seed=seed, device=args.device,
                    **ZOO)
        t0 = time.perf_counter()
        model.learn(total_timesteps=args.steps)
        seconds = time.perf_counter() - t0
        mean, std = evaluate_policy(
            model, gym.make("CartPole-v1"), n_eval_episodes=args.eval_episodes,
            deterministic=True)
        print(f"{seed},{seconds:.1f},{args.steps / seconds:.0f},{mean:.2f},{std:.2f}",
              flush=True)


if __name__ == "__main__":
    main()
