"""PyTorch reference for `cargo bench -p qlab-nn --bench dqn_step`.

Measures, on one CPU thread, exactly what the Rust benchmark measures:

- one DQN training step for a 4-256-256-2 MLP (ReLU): target forward on the next
  observations (no grad), online forward on a batch of 64, Q of the taken actions,
  Huber loss (delta 1), backward, Adam update (lr 1e-4), and the same step with AdamW;
- single-observation forward + argmax (no grad).

Each timed call is measured on its own with a monotonic clock after a warm-up; the median
(and the 10th / 90th percentiles) are printed in microseconds.

Usage: python3 tools/bench_torch_dqn_step.py
"""

import statistics
import time

import torch
from torch import nn

torch.set_num_threads(1)
torch.set_num_interop_threads(1)
torch.manual_seed(0)

BATCH, OBS, HIDDEN, ACTIONS, GAMMA = 64, 4, 256, 2, 0.99
WARMUP, SAMPLES = 300, 3000


def mlp():
    return nn.Sequential(
        nn.Linear(OBS, HIDDEN), nn.ReLU(),
        nn.Linear(HIDDEN, HIDDEN), nn.ReLU(),
        nn.Linear(HIDDEN, ACTIONS),
    )


def percentiles(samples_ns):
    xs = sorted(samples_ns)
    pick = lambda q: xs[min(len(xs) - 1, int(q * len(xs)))] / 1e3
    return statistics.median(xs) / 1e3, pick(0.1), pick(0.9)


def time_calls(f):
    for _ in range(WARMUP):
        f()
    out = []
    for _ in range(SAMPLES):
        t0 = time.perf_counter_ns()
        f()
        out.append(time.perf_counter_ns() - t0)
    return percentiles(out)


def dqn_bench(opt_name):
    online, target = mlp(), mlp()
    target.load_state_dict(online.state_dict())
    if opt_name == "adam":
        opt = torch.optim.Adam(online.parameters(), lr=1e-4)
    else:
        opt = torch.optim.AdamW(online.parameters(), lr=1e-4, weight_decay=0.01)
    g = torch.Generator().manual_seed(1)
    obs = torch.randn(BATCH, OBS, generator=g)
    next_obs = torch.randn(BATCH, OBS, generator=g)
    actions = torch.randint(0, ACTIONS, (BATCH,), generator=g)
    rewards = torch.rand(BATCH, generator=g)
    dones = (torch.rand(BATCH, generator=g) < 0.1).float()

    def step():
        with torch.no_grad():
            next_q = target(next_obs).max(dim=1).values
            y = rewards + GAMMA * (1.0 - dones) * next_q
        q = online(obs).gather(1, actions.unsqueeze(1)).squeeze(1)
        loss = nn.functional.smooth_l1_loss(q, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    return time_calls(step)


def act_bench():
    net = mlp()
    x = torch.randn(1, OBS)

    def act():
        with torch.no_grad():
            return int(net(x).argmax(dim=1).item())

    return time_calls(act)


if __name__ == "__main__":
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}")
    for name, res in [
        ("dqn_step adam  (64 x 4-256-256-2)", dqn_bench("adam")),
        ("dqn_step adamw (64 x 4-256-256-2)", dqn_bench("adamw")),
        ("act: forward + argmax (1 x 4)", act_bench()),
    ]:
        med, p10, p90 = res
        print(f"{name}: median {med:8.1f} us  (p10 {p10:.1f}, p90 {p90:.1f})")
