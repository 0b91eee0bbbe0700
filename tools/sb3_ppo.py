"""Stable-Baselines3's PPO and A2C with RL Zoo's tuned settings: the reference for
`configs/cartpole_ppo.toml`, `configs/acrobot_ppo.toml`, `configs/pendulum_ppo.toml` and
`configs/cartpole_a2c.toml`
(RESULTS.md, BENCHMARKS.md).

    pip install stable-baselines3   # with torch (the CPU wheel is enough)
    python3 tools/sb3_ppo.py --seeds 0 1 2 3 4
    python3 tools/sb3_ppo.py --env Acrobot-v1 --seeds 0 1 2 3 4
    python3 tools/sb3_ppo.py --env Pendulum-v1 --seeds 0 1 2 3 4
    python3 tools/sb3_ppo.py --algo a2c --env CartPole-v1 --seeds 0 1 2 3 4
    python3 tools/sb3_ppo.py --env CartPole-v1 --seeds 0 --steps 20000

One torch thread, as `qlab train --threads 1` runs one seed per thread. Each seed trains
on RL Zoo's vector of `n_envs` envs (`make_vec_env(env, n_envs, seed=seed)`, the envs seeded
`seed + i`) for RL Zoo's `n_timesteps` unless `--steps` says otherwise; printed per seed: the
wall time of `learn`, and the mean and standard deviation of the return over 100 greedy
(deterministic) evaluation episodes afterwards.
"""

import argparse
import time

import gymnasium as gym
import stable_baselines3
import torch
from stable_baselines3 import A2C, PPO
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.vec_env import VecNormalize


def linear(start: float):
    """RL Zoo's `lin_<start>`: `start × progress_remaining`."""

    def schedule(progress_remaining: float) -> float:
        return start * progress_remaining

    return schedule


# rl-baselines3-zoo, hyperparams/ppo.yml and a2c.yml: each env's n_envs, n_timesteps, whether
# it runs under VecNormalize (`normalize: true`), and its settings.
PPO_ZOO = {
    "CartPole-v1": (8, 100_000, False, dict(
        n_steps=32,
        batch_size=256,
        gae_lambda=0.8,
        gamma=0.98,
        n_epochs=20,
        ent_coef=0.0,
        learning_rate=linear(0.001),
        clip_range=linear(0.2),
    )),
    "Pendulum-v1": (4, 100_000, False, dict(
        n_steps=1024,
        gae_lambda=0.95,
        gamma=0.9,
        n_epochs=10,
        ent_coef=0.0,
        learning_rate=1e-3,
        clip_range=0.2,
        use_sde=True,
        sde_sample_freq=4,
    )),
    "Acrobot-v1": (16, 1_000_000, True, dict(
        n_steps=256,
        gae_lambda=0.94,
        gamma=0.99,
        n_epochs=4,
        ent_coef=0.0,
    )),
}
A2C_ZOO = {
    "CartPole-v1": (8, 500_000, False, dict(ent_coef=0.0)),
}
ALGOS = {"ppo": (PPO, PPO_ZOO), "a2c": (A2C, A2C_ZOO)}


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--algo", default="ppo", choices=sorted(ALGOS))
    p.add_argument("--env", default="CartPole-v1")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    p.add_argument("--steps", type=int, default=None, help="default: RL Zoo's n_timesteps")
    p.add_argument("--eval-episodes", type=int, default=100)
    args = p.parse_args()
    algo, zoo = ALGOS[args.algo]
    if args.env not in zoo:
        p.error(f"--env: {args.algo} has settings for {', '.join(sorted(zoo))}")
    n_envs, default_steps, normalize, settings = zoo[args.env]
    steps = args.steps or default_steps
    torch.set_num_threads(1)
    print(f"stable-baselines3 {stable_baselines3.__version__}, torch {torch.__version__}, "
          f"gymnasium {gym.__version__}, 1 thread, {args.algo}, {args.env}, {n_envs} envs, {steps} steps")
    print("seed,seconds,steps_per_second,eval_mean_return,eval_std_return")
    for seed in args.seeds:
        env = make_vec_env(args.env, n_envs=n_envs, seed=seed)
        if normalize:
            # As RL Zoo: the returns behind the reward scale discount with the agent's gamma.
            env = VecNormalize(env, gamma=settings.get("gamma", 0.99))
        model = algo("MlpPolicy", env, seed=seed, device="cpu", **settings)
        t0 = time.perf_counter()
        model.learn(total_timesteps=steps)
        seconds = time.perf_counter() - t0
        eval_env = make_vec_env(args.env, n_envs=1, seed=seed + 10_000)
        if normalize:
            # Observations scaled by the training statistics, frozen; rewards as the env gives.
            eval_env = VecNormalize(eval_env, training=False, norm_reward=False)
            eval_env.obs_rms = env.obs_rms.copy()
        mean, std = evaluate_policy(
            model, eval_env, n_eval_episodes=args.eval_episodes, deterministic=True)
        print(f"{seed},{seconds:.1f},{model.num_timesteps / seconds:.0f},{mean:.2f},{std:.2f}",
              flush=True)


if __name__ == "__main__":
    main()
