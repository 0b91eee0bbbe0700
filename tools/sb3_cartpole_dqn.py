"""Stable-Baselines3's DQN with RL Zoo's tuned settings, the reference for
`configs/cartpole_dqn.toml` (BENCHMARKS.md, RESULTS.md), `configs/acrobot_dqn.toml` and
`configs/mountaincar_dqn.toml` (RESULTS.md).

    pip install stable-baselines3   # with torch (the CPU wheel is enough)
    python3 tools/sb3_cartpole_dqn.py --seeds 0 1 2
    python3 tools/sb3_cartpole_dqn.py --seeds 0 --device cuda   # the networks on a GPU
    python3 tools/sb3_cartpole_dqn.py --env Acrobot-v1 --seeds 0 1 2
    python3 tools/sb3_cartpole_dqn.py --env MountainCar-v0 --seeds 0 1 2
    python3 tools/sb3_cartpole_dqn.py --env qlab/CartPole-v1 --seeds 0 1 2   # qlab's env, from
                                                            # the Python package (pip install ./python)

One torch thread, as `qlab train --threads 1` runs one seed per thread with one kernel
thread. For each seed: the wall time of `learn` (RL Zoo's `n_timesteps` unless `--steps`
says otherwise) and the mean return of 100 greedy evaluation episodes afterwards. With
`--time-env`, also the part of `learn` spent inside the training env's `reset` and `step`
(timed by an outermost wrapper; its own cost is in both figures).
"""

import argparse
import time

import gymnasium as gym
import stable_baselines3
import torch
from stable_baselines3 import DQN
from stable_baselines3.common.evaluation import evaluate_policy

# rl-baselines3-zoo, hyperparams/dqn.yml: each env's settings and its n_timesteps.
ZOO = {
    "CartPole-v1": (50_000, dict(
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
    )),
    "Acrobot-v1": (100_000, dict(
        learning_rate=6.3e-4,
        batch_size=128,
        buffer_size=50_000,
        learning_starts=0,
        gamma=0.99,
        target_update_interval=250,
        train_freq=4,
        gradient_steps=-1,
        exploration_fraction=0.12,
        exploration_final_eps=0.1,
        policy_kwargs=dict(net_arch=[256, 256]),
    )),
    "MountainCar-v0": (120_000, dict(
        learning_rate=4e-3,
        batch_size=128,
        buffer_size=10_000,
        learning_starts=1_000,
        gamma=0.98,
        target_update_interval=600,
        train_freq=16,
        gradient_steps=8,
        exploration_fraction=0.2,
        exploration_final_eps=0.07,
        policy_kwargs=dict(net_arch=[256, 256]),
    )),
}


class EnvTimer(gym.Wrapper):
    """Adds up the wall time of the wrapped env's `reset` and `step` calls."""

    def __init__(self, env):
        super().__init__(env)
        self.seconds = 0.0

    def reset(self, **kwargs):
        t0 = time.perf_counter()
        out = self.env.reset(**kwargs)
        self.seconds += time.perf_counter() - t0
        return out

    def step(self, action):
        t0 = time.perf_counter()
        out = self.env.step(action)
        self.seconds += time.perf_counter() - t0
        return out


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--env", default="CartPole-v1",
                   choices=sorted(ZOO) + [f"qlab/{e}" for e in sorted(ZOO)])
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--steps", type=int, default=None, help="default: RL Zoo's n_timesteps")
    p.add_argument("--eval-episodes", type=int, default=100)
    p.add_argument("--device", default="cpu", help="torch device of the networks")
    p.add_argument("--time-env", action="store_true",
                   help="also report the seconds of learn spent in the env's reset and step")
    args = p.parse_args()
    if args.env.startswith("qlab/"):
        import qlab  # noqa: F401  (registers the qlab/ envs with Gymnasium)
    default_steps, settings = ZOO[args.env.removeprefix("qlab/")]
    steps = args.steps or default_steps
    torch.set_num_threads(1)
    print(f"stable-baselines3 {stable_baselines3.__version__}, torch {torch.__version__}, "
          f"gymnasium {gym.__version__}, 1 thread, device {args.device}, {args.env}, "
          f"{steps} steps")
    print("seed,seconds,steps_per_second,eval_mean_return,eval_std_return"
          + (",env_seconds" if args.time_env else ""))
    for seed in args.seeds:
        env = gym.make(args.env)
        if args.time_env:
            env = EnvTimer(env)
        model = DQN("MlpPolicy", env, seed=seed, device=args.device, **settings)
        t0 = time.perf_counter()
        model.learn(total_timesteps=steps)
        seconds = time.perf_counter() - t0
        mean, std = evaluate_policy(
            model, gym.make(args.env), n_eval_episodes=args.eval_episodes,
            deterministic=True)
        timed = f",{env.seconds:.3f}" if args.time_env else ""
        print(f"{seed},{seconds:.1f},{steps / seconds:.0f},{mean:.2f},{std:.2f}{timed}",
              flush=True)


if __name__ == "__main__":
    main()
