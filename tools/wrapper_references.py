"""Reference numbers for the qlab-envs wrapper tests (envs/src/wrappers/*.rs).

Run with Python 3.11 and gymnasium 1.4.0:

    python3 tools/wrapper_references.py

Each section prints the values pasted into one Rust test; the test names the section.
"""

import math

import numpy as np
import gymnasium as gym
from gymnasium.vector import SyncVectorEnv
from gymnasium.wrappers import DiscretizeObservation, TimeLimit
from gymnasium.wrappers.utils import RunningMeanStd


class BoxOnly(gym.Env):
    """An env that only declares spaces: the wrappers' `observation` methods are all we call."""

    def __init__(self, low, high):
        self.observation_space = gym.spaces.Box(
            np.array(low, np.float32), np.array(high, np.float32), dtype=np.float32
        )
        self.action_space = gym.spaces.Discrete(2)


def discretize():
    print("== discretize: Box([-1, 0], [1, 3]), bins (4, 3); rows (x, y, index)")
    env = DiscretizeObservation(BoxOnly([-1, 0], [1, 3]), bins=(4, 3))
    points = [
        (-1.0, 0.0), (1.0, 3.0), (-0.5, 1.0), (-0.5001, 0.999), (0.0, 2.0), (0.49, 2.99),
        (0.75, 1.5), (-3.0, 7.0), (5.0, -2.0), (0.3, 0.2), (-0.9, 2.5), (0.999, 0.0),
    ]
    for x, y in points:
        index = env.observation(np.array([x, y], np.float32))
        print(f"({x!r}, {y!r}, {index}),")


def normalize():
    # Gymnasium's NormalizeObservation keeps its statistics in the observation dtype (float32);
    # qlab keeps them in float64, so the reference runs the same updates in float64.
    print("== normalize: RunningMeanStd(float64) fed one observation at a time")
    rms = RunningMeanStd(shape=(2,), dtype=np.float64)
    observations = [(1.0, -2.0), (3.0, 0.5), (-1.5, 4.0), (2.0, 2.0), (0.25, -7.0)]
    for obs in observations:
        x = np.array(obs, np.float32).astype(np.float64)
        rms.update(np.array([x]))
        normalized = (x - rms.mean) / np.sqrt(rms.var + 1e-8)
        print(f"obs {obs}: mean {rms.mean.tolist()} var {rms.var.tolist()} "
              f"count {rms.count!r} normalized {normalized.tolist()}")


def tiles3_indices(table, n_tilings, scaled):
    """Sutton's tiles3 with an index hash table, transcribed from its published description:
    quantize each scaled value to 1/n_tilings of a tile, displace tiling t by t*(2i+1) quanta
    on dimension i, floor to whole tiles, and number each (t, coords...) in order of first use."""
    quanta = [math.floor(v * n_tilings) for v in scaled]
    out = []
    for t in range(n_tilings):
        coords = (t,) + tuple((q + t * (2 * i + 1)) // n_tilings for i, q in enumerate(quanta))
        out.append(table.setdefault(coords, len(table)))
    return out


def tiles3():
    print("== tiles3: Box([-1, 0], [1, 2]), 4 tilings of 4 x 3 tiles; one row per point")
    low, high, tiles, n_tilings = [-1.0, 0.0], [1.0, 2.0], [4, 3], 4
    scale = [n / (h - l) for n, l, h in zip(tiles, low, high)]
    points = [
        (0.0, 1.0), (0.13, 1.0), (0.3, 1.0), (0.0, 1.2), (-0.07, 0.95), (-0.9, 0.1),
        (1.3, -0.4), (-1.6, 2.5),
    ]
    table = {}
    for p in points:
        x = [float(np.float32(v)) for v in p]
        scaled = [(v - l) * s for v, l, s in zip(x, low, scale)]
        print(f"{p}: {tiles3_indices(table, n_tilings, scaled)}")


class Chain(gym.Env):
    """The Rust tests' `Chain`: the state counts steps, the episode terminates after `length`
    steps, the reward is action + 1."""

    def __init__(self, length):
        self.length = length
        self.pos = 0
        self.observation_space = gym.spaces.Discrete(16)
        self.action_space = gym.spaces.Discrete(2)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.pos = 0
        return 0, {}

    def step(self, action):
        self.pos += 1
        return self.pos, float(action) + 1.0, self.pos == self.length, False, {}


def vector():
    print("== vector: SyncVectorEnv (next-step autoreset) over TimeLimit(Chain(2), 100),")
    print("   TimeLimit(Chain(3), 100), TimeLimit(Chain(10), 2); one row per step:")
    print("   (actions, observations, rewards, terminated, truncated)")
    envs = SyncVectorEnv([
        lambda: TimeLimit(Chain(2), 100),
        lambda: TimeLimit(Chain(3), 100),
        lambda: TimeLimit(Chain(10), 2),
    ])
    envs.reset(seed=0)
    for t in range(7):
        actions = [(t + i) % 2 for i in range(3)]
        obs, rew, term, trunc, _ = envs.step(np.array(actions))
        print(f"({actions}, {obs.tolist()}, {rew.tolist()}, {term.tolist()}, {trunc.tolist()}),")


if __name__ == "__main__":
    vector()
    tiles3()
    discretize()
    normalize()
