"""qlab's vector envs as ``gymnasium.vector.VectorEnv``s, for
``gymnasium.make_vec("qlab/<id>", num_envs=n, vectorization_mode="vector_entry_point")``.

Both step every sub-env in Rust, whole numpy arrays in and out, with Gymnasium's default
next-step autoreset: a sub-env that ends at step ``t`` reports its final observation there,
and at step ``t + 1`` its action is ignored and it reports its reset observation with reward 0
and both flags false. ``reset(seed=s)`` seeds sub-env ``i`` with ``s + i``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
from gymnasium import spaces
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from qlab import _core
from qlab.envs import as_float32, check_seed, to_space

_StepResult = tuple[Any, npt.NDArray[Any], npt.NDArray[np.bool_], npt.NDArray[np.bool_], dict[str, Any]]


def _check_num_envs(num_envs: Any) -> int:
    if isinstance(num_envs, bool) or not isinstance(num_envs, (int, np.integer)):
        raise TypeError(f"invalid num_envs {num_envs!r}: expected an integer >= 1")
    if num_envs < 1:
        raise ValueError(f"invalid num_envs {num_envs}: expected an integer >= 1")
    return int(num_envs)


def _discrete_actions(actions: Any, num_envs: int) -> npt.NDArray[np.int64]:
    """``actions`` as an int64 array of one action per sub-env."""
    array = np.asarray(actions)
    if array.dtype.kind not in "iu":
        raise TypeError(
            f"invalid actions of dtype {array.dtype}: expected integers, one per sub-env"
        )
    if array.shape != (num_envs,):
        raise ValueError(
            f"invalid actions of shape {array.shape}: expected ({num_envs},), one per sub-env"
        )
    if array.dtype.kind == "u" and array.size and int(array.max()) > np.iinfo(np.int64).max:
        raise ValueError(f"invalid action {int(array.max())}: too large for any action space")
    return np.ascontiguousarray(array, dtype=np.int64)


class QlabCartPoleVectorEnv(VectorEnv[Any, Any, Any]):
    """``num_envs`` CartPoles stepped together by qlab's batched CartPole, Gymnasium's
    ``CartPoleVectorEnv``'s counterpart: float32 ``(num_envs, 4)`` observations, float32
    rewards, an int array of 0s and 1s as actions, an empty info dict.

    Args:
        num_envs: The number of sub-envs.
        max_episode_steps: Each sub-env's time limit (``make_vec`` passes the registered 500).
        render_mode: Only ``None``: vector envs do not render.
        env_id: ``"CartPole-v1"`` (set by the registration).
        **params: CartPole's parameters (``sutton_barto_reward``, ``kinematics_integrator``).
    """

    metadata: dict[str, Any] = {"render_modes": [], "autoreset_mode": AutoresetMode.NEXT_STEP}

    def __init__(
        self,
        num_envs: int = 1,
        max_episode_steps: int = 500,
        render_mode: str | None = None,
        env_id: str = "CartPole-v1",
        **params: Any,
    ) -> None:
        if render_mode is not None:
            raise ValueError(f"invalid render_mode {render_mode!r}: vector envs do not render")
        if env_id != "CartPole-v1":
            raise ValueError(f"invalid env_id {env_id!r}: the batched env is CartPole-v1's")
        self.num_envs = _check_num_envs(num_envs)
        self.render_mode = render_mode
        self._core = _core.CoreCartPoleVector(
            self.num_envs, max_episode_steps=max_episode_steps, **params
        )
        single = _core.CoreEnv("CartPole-v1")
        self.single_observation_space = to_space(single.observation_space)
        self.single_action_space = spaces.Discrete(2)
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[npt.NDArray[np.float32], dict[str, Any]]:
        """Resets every sub-env; with ``seed``, sub-env ``i`` is seeded with ``seed + i``."""
        seed = check_seed(seed)
        if options:
            raise ValueError(f"unknown reset option {sorted(options)[0]!r}: there are none")
        super().reset(seed=seed)
        return self._core.reset(seed), {}

    def step(self, actions: Any) -> _StepResult:
        """Steps every sub-env: ``(obs, rewards, terminated, truncated, {})``."""
        return self._core.step(_discrete_actions(actions, self.num_envs))


class QlabSyncVectorEnv(VectorEnv[Any, Any, Any]):
    """``num_envs`` copies of one qlab env, each in its time limit, stepped one after another
    in Rust by qlab's ``SyncVectorEnv``.

    Observations are int64 ``(num_envs,)`` state indices or float32 ``(num_envs, *shape)``
    arrays; rewards float64; actions an int array (``Discrete``) or a float array of shape
    ``(num_envs, *shape)`` (``Box``). The info dict follows Gymnasium's vector convention:
    ``info["prob"]`` is an array with the mask ``info["_prob"]``.

    Args:
        num_envs: The number of sub-envs.
        env_id: The qlab registry id (set by the registration).
        max_episode_steps: Each sub-env's time limit (``make_vec`` passes the registered one).
        render_mode: Only ``None``: vector envs do not render.
        **params: The env's parameters.
    """

    metadata: dict[str, Any] = {"render_modes": [], "autoreset_mode": AutoresetMode.NEXT_STEP}

    def __init__(
        self,
        num_envs: int = 1,
        env_id: str = "CartPole-v1",
        max_episode_steps: int | None = None,
        render_mode: str | None = None,
        **params: Any,
    ) -> None:
        if render_mode is not None:
            raise ValueError(f"invalid render_mode {render_mode!r}: vector envs do not render")
        self.num_envs = _check_num_envs(num_envs)
        self.render_mode = render_mode
        if max_episode_steps is not None:
            params["max_episode_steps"] = max_episode_steps
        self._core = _core.CoreSyncVector(env_id, self.num_envs, **params)
        single = _core.CoreEnv(env_id, **params)
        self.single_observation_space = to_space(single.observation_space)
        self.single_action_space = to_space(single.action_space)
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self._box_action = isinstance(self.single_action_space, spaces.Box)

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        """Resets every sub-env; with ``seed``, sub-env ``i`` is seeded with ``seed + i``."""
        seed = check_seed(seed)
        if options:
            raise ValueError(f"unknown reset option {sorted(options)[0]!r}: there are none")
        super().reset(seed=seed)
        return self._core.reset(seed)

    def step(self, actions: Any) -> _StepResult:
        """Steps every sub-env: ``(obs, rewards, terminated, truncated, infos)``."""
        if self._box_action:
            array = as_float32(actions)
            return self._core.step(np.ascontiguousarray(array))
        return self._core.step(_discrete_actions(actions, self.num_envs))
