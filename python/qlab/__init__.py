"""qlab from Python: qlab's envs as Gymnasium envs, its runs, and its command line.

``import qlab`` registers every qlab env with Gymnasium under the ``qlab/`` namespace::

    import gymnasium as gym
    import qlab

    env = gym.make("qlab/CartPole-v1")
    obs, info = env.reset(seed=0)
    obs, reward, terminated, truncated, info = env.step(1)

- ``gym.make("qlab/<id>", **params)``: a :class:`QlabEnv` (a ``gymnasium.Env``) in
  Gymnasium's ``TimeLimit`` of the limit qlab registers; ``params`` are the env's ``[env]``
  keys.
- ``gym.make_vec("qlab/<id>", num_envs=n, vectorization_mode="vector_entry_point")``: qlab's
  batched CartPole (:class:`QlabCartPoleVectorEnv`) for ``CartPole-v1``, qlab's
  ``SyncVectorEnv`` (:class:`QlabSyncVectorEnv`) for the others.
- :func:`train` runs a config as ``qlab train`` does; :func:`load` reloads a run's agent.

How qlab's envs map onto Gymnasium's (spaces, seeding, time limits, info, rendering, states)
is told in ``docs/python.md`` of the repository.
"""

from __future__ import annotations

import os

# One thread per candle kernel, as the `qlab` binary sets it (BENCHMARKS.md): the networks are
# small, and seeds run in parallel instead. Read when the first kernel runs.
os.environ.setdefault("RAYON_NUM_THREADS", "1")

from qlab import _core  # noqa: E402
from qlab.envs import NAMESPACE, QlabEnv, register_envs  # noqa: E402
from qlab.runs import Run, TrainResult, load, train  # noqa: E402
from qlab.vector import QlabCartPoleVectorEnv, QlabSyncVectorEnv  # noqa: E402

__version__: str = _core.__version__

ENV_IDS: list[str] = register_envs()
"""Every qlab env registered with Gymnasium, ``qlab/<id>``."""

__all__ = [
    "ENV_IDS",
    "NAMESPACE",
    "QlabCartPoleVectorEnv",
    "QlabEnv",
    "QlabSyncVectorEnv",
    "Run",
    "TrainResult",
    "__version__",
    "load",
    "register_envs",
    "train",
]
