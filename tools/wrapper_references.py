"""Reference numbers for the qlab-envs wrapper tests (envs/src/wrappers/*.rs).

Run with Python 3.11 and gymnasium 1.4.0:

    python3 tools/wrapper_references.py

Each section prints the values pasted into one Rust test; the test names the section.
"""

import math

import numpy as np
import gymnasium as gym
from gymnasium.vector import SyncVectorEnv
from gymnasium.wrappers import (
    ClipAction,
    DiscretizeAction,
    DiscretizeObservation,
    FrameStackObservation,
    NormalizeReward,
    RescaleAction,
    TimeLimit,
)
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


class Echo(gym.Env):
    """The Rust tests' `Echo`: observes the Box action it was given."""

    def __init__(self, low, high):
        self.action_space = gym.spaces.Box(
            np.array(low, np.float32), np.array(high, np.float32), dtype=np.float32
        )
        self.observation_space = self.action_space

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return self.action_space.low.copy(), {}

    def step(self, action):
        return np.asarray(action), float(np.sum(action)), False, False, {}


def clip_action():
    print("== clip_action: ClipAction over Box([-1, -2, 0], [1, 2, 0.5]); rows (action, clipped)")
    env = ClipAction(Echo([-1, -2, 0], [1, 2, 0.5]))
    env.reset(seed=0)
    actions = [
        (0.5, -3.0, 0.25), (-7.5, 2.5, -0.1), (1.0, -2.0, 0.5), (1e30, -1e30, 0.75),
        (-0.0, 1.9999999, 0.49999997),
    ]
    for a in actions:
        obs = env.step(np.array(a, np.float32))[0]
        print(f"({[float(x) for x in np.float32(a)]}, {obs.tolist()}),")


def rescale_action():
    print("== rescale_action: RescaleAction(min_action, max_action) over an env acting in")
    print("   Box([-2, 0, -0.3], [2, 5, 0.7]); rows (action, what the env receives)")
    env = RescaleAction(Echo([-2, 0, -0.3], [2, 5, 0.7]), -1.0, 1.0)
    env.reset(seed=0)
    actions = [
        (-1.0, -1.0, -1.0), (1.0, 1.0, 1.0), (0.0, 0.0, 0.0), (0.5, -0.25, 0.9),
        (-0.3, 0.7, -0.77),
    ]
    for a in actions:
        obs = env.step(np.array(a, np.float32))[0]
        print(f"({list(a)}, {[repr(float(x)) for x in obs]}),")
    print("   min_action (-3.1, 0.2), max_action (0.9, 7.3) over Box([-0.3, 1e-3], [0.7, 0.1]):")
    env = RescaleAction(
        Echo([-0.3, 1e-3], [0.7, 0.1]),
        np.array([-3.1, 0.2], np.float32),
        np.array([0.9, 7.3], np.float32),
    )
    env.reset(seed=0)
    for a in [(-3.1, 0.2), (0.9, 7.3), (-1.0, 3.0)]:
        obs = env.step(np.array(a, np.float32))[0]
        print(f"({list(a)}, {[repr(float(x)) for x in obs]}),")


def discretize_action():
    # Gymnasium's DiscretizeAction: the centres of equal bins, the index unflattened row-major.
    print("== discretize_action: Box([-2, 0.5], [1, 3]), bins (3, 4); one row per index:")
    print("   Gymnasium's per-element indices, then the action it sends to the env")
    low, high, counts = [-2.0, 0.5], [1.0, 3.0], (3, 4)
    env = DiscretizeAction(Echo(low, high), bins=counts)
    for k in range(int(np.prod(counts))):
        idx = env._unflatten_index(k)
        point = [float(x) for x in env.action(k)]
        print(f"{k}: {[int(i) for i in idx]} {point}")


class Walk(gym.Env):
    """The Rust tests' `Walk` without its random `y`: x moves +1 (action 1) or -1 (action 0),
    the reward is the new x, and the episode terminates when |x| reaches `limit`."""

    def __init__(self, limit):
        self.limit = limit
        self.x = 0.0
        self.observation_space = gym.spaces.Box(-limit, limit, (1,), np.float32)
        self.action_space = gym.spaces.Discrete(2)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.x = 0.0
        return np.array([self.x], np.float32), {}

    def step(self, action):
        self.x += 1.0 if action == 1 else -1.0
        return np.array([self.x], np.float32), self.x, abs(self.x) >= self.limit, False, {}


WALK_EPISODES = [[1, 1, 1], [0, 1, 0, 1], [0, 0, 0], [1, 0, 1]]


def normalize_reward():
    for gamma in (0.9, 1.0):
        print(f"== normalize_reward: NormalizeReward(TimeLimit(Walk(3), 4), gamma={gamma}, "
              "epsilon=1e-8);")
        print(f"   episodes {WALK_EPISODES}; rows (reward, normalized, terminated, truncated)")
        env = NormalizeReward(TimeLimit(Walk(3.0), 4), gamma=gamma, epsilon=1e-8)
        for episode in WALK_EPISODES:
            env.reset(seed=0)
            for a in episode:
                _, r, term, trunc, _ = env.step(a)
                raw = env.unwrapped.x
                print(f"({raw!r}, {float(r)!r}, {term}, {trunc}),")
                if term or trunc:
                    break
        rms = env.return_rms
        print(f"G {env.discounted_reward.tolist()} mean {rms.mean!r} var {rms.var!r} "
              f"count {rms.count!r}")


def frame_stack():
    # Echo observes the box's low corner at a reset, then each action it is given.
    print("== frame_stack: FrameStackObservation(Echo(box), 3, padding_type), episodes of")
    print("   4 and 1 steps with actions 3, 4, 5, ...; each row one reset or step, oldest first")
    for low, padding in ((-1.0, "reset"), (-1.0, "zero"), (2.0, "zero")):
        print(f"-- Box({low}, 9), padding_type={padding!r}")
        env = FrameStackObservation(Echo([low], [9.0]), 3, padding_type=padding)
        action = 3.0
        for steps in (4, 1):
            rows = [env.reset(seed=0)[0]]
            for _ in range(steps):
                rows.append(env.step(np.array([action], np.float32))[0])
                action += 1.0
            for obs in rows:
                print(f"{obs.ravel().tolist()},")


if __name__ == "__main__":
    clip_action()
    rescale_action()
    discretize_action()
    normalize_reward()
    frame_stack()
    vector()
    tiles3()
    discretize()
    normalize()
