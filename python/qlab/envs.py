"""qlab's envs as Gymnasium envs: :class:`QlabEnv` and their registration under ``qlab/``."""

from __future__ import annotations

import operator
from typing import Any, SupportsFloat

import gymnasium as gym
import numpy as np
import numpy.typing as npt
from gymnasium import spaces

from qlab import _core

NAMESPACE = "qlab"
"""The Gymnasium namespace of qlab's envs: ``gymnasium.make("qlab/CartPole-v1")``."""

_F32_MAX = float(np.finfo(np.float32).max)


def to_space(description: tuple[Any, ...]) -> spaces.Space[Any]:
    """A ``gymnasium.spaces`` object for a space of ``qlab._core``.

    ``("discrete", n)`` is ``Discrete(n)``; ``("box", low, high, shape)`` is a float32
    ``Box``, with infinite bounds as float32's largest values, as Gymnasium's CartPole declares
    them (no float32 observation lies past them, and ``check_env`` warns on infinite bounds).
    """
    if description[0] == "discrete":
        return spaces.Discrete(int(description[1]))
    _, low, high, shape = description
    low = np.nan_to_num(np.asarray(low, dtype=np.float32), neginf=-_F32_MAX).reshape(shape)
    high = np.nan_to_num(np.asarray(high, dtype=np.float32), posinf=_F32_MAX).reshape(shape)
    return spaces.Box(low, high, shape=tuple(shape), dtype=np.float32)


def check_seed(seed: Any) -> int | None:
    """``seed`` as Gymnasium's seeding takes it: ``None`` or an integer in ``[0, 2**64)``.

    Raises ``TypeError`` for anything but an integer (a bool included) and ``ValueError`` for
    one out of range.
    """
    if seed is None:
        return None
    if isinstance(seed, (bool, np.bool_)):
        raise TypeError(f"invalid seed {seed!r}: expected an integer in [0, 2**64) or None")
    try:
        value = operator.index(seed)
    except TypeError:
        raise TypeError(
            f"invalid seed {seed!r} of type {type(seed).__name__}: expected an integer in "
            "[0, 2**64) or None"
        ) from None
    if not 0 <= value < 2**64:
        raise ValueError(f"invalid seed {value}: expected an integer in [0, 2**64)")
    return value


def state_values(state: Any) -> list[float]:
    """``options["state"]`` as the values ``qlab rollout --state`` takes."""
    try:
        values = np.asarray(state, dtype=np.float64).ravel()
    except (TypeError, ValueError):
        raise ValueError(
            f"invalid state {state!r}: expected a number or a sequence of numbers"
        ) from None
    return [float(v) for v in values]


class QlabEnv(gym.Env[Any, Any]):
    """One of qlab's envs as a ``gymnasium.Env``; ``gymnasium.make("qlab/<id>")`` builds it.

    Args:
        env_id: The qlab registry id (``qlab envs`` lists them), e.g. ``"CartPole-v1"``.
        render_mode: ``None``, ``"rgb_array"`` (a ``(height, width, 3)`` uint8 array) or
            ``"ansi"`` (text).
        **params: The env's parameters, the keys of a config's ``[env]`` table
            (``is_slippery=False``).

    Observations are numpy float32 arrays of the observation space's shape, or ints for a
    state index. ``reset(seed=s)`` seeds the env's own generator with ``s``: the episode is the
    one ``qlab rollout --seed s`` plays. ``reset(options={"state": values})`` then sets the
    state as ``qlab rollout --state`` does. The time limit is Gymnasium's ``TimeLimit``
    wrapper, which ``gymnasium.make`` adds with the limit qlab registers.
    """

    metadata: dict[str, Any] = {"render_modes": ["rgb_array", "ansi"], "render_fps": 50}

    def __init__(self, env_id: str, render_mode: str | None = None, **params: Any) -> None:
        if render_mode is not None and render_mode not in QlabEnv.metadata["render_modes"]:
            raise ValueError(
                f"invalid render_mode {render_mode!r}: expected one of "
                f"{', '.join(QlabEnv.metadata['render_modes'])} or None"
            )
        self._core = _core.CoreEnv(env_id, **params)
        self.env_id = env_id
        self.render_mode = render_mode
        self.observation_space = to_space(self._core.observation_space)
        self.action_space = to_space(self._core.action_space)
        self._box_action = isinstance(self.action_space, spaces.Box)
        if not self._box_action:
            # A discrete action goes to Rust as it is: one Python call less per step (the
            # speed of a Python loop over the env is most of what the package offers).
            self.step = self._core.step  # type: ignore[method-assign]
        # Grid worlds are shown at 4 frames a second, the physics envs at 50.
        fps = 4 if self._core.has_model else 50
        self.metadata = {**QlabEnv.metadata, "render_fps": fps}

    @property
    def time_limit(self) -> int | None:
        """The time limit qlab registers for the env (``gymnasium.make`` applies it)."""
        return self._core.time_limit

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        """Starts an episode; see the class docs for ``seed`` and ``options``."""
        seed = check_seed(seed)
        super().reset(seed=seed)
        state = None
        if options:
            unknown = sorted(set(options) - {"state"})
            if unknown:
                raise ValueError(
                    f"unknown reset option {unknown[0]!r}: the options are 'state'"
                )
            state = options.get("state")
        obs, info = self._core.reset(seed)
        if state is not None:
            obs = self._core.set_state(state_values(state))
        return obs, info

    def step(self, action: Any) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        """Applies ``action``: an int for a ``Discrete`` action space, an array (or a
        sequence) of the ``Box``'s shape otherwise."""
        if self._box_action:
            action = as_float32(action)
        return self._core.step(action)

    def render(self) -> npt.NDArray[np.uint8] | str | None:  # type: ignore[override]
        """The frame of the render mode: an RGB array or text."""
        if self.render_mode == "rgb_array":
            return self._core.render_rgb()
        if self.render_mode == "ansi":
            return self._core.render_ansi()
        gym.logger.warn(
            "You are calling render method without specifying any render mode. You can "
            "specify the render_mode at initialization, e.g. "
            f'gymnasium.make("{NAMESPACE}/{self.env_id}", render_mode="rgb_array")'
        )
        return None


def as_float32(action: Any) -> npt.NDArray[np.float32]:
    """A Box action as a float32 array; ``TypeError`` for what numpy cannot read as numbers."""
    try:
        # A value past float32's range becomes infinite, which the env then refuses by name.
        with np.errstate(over="ignore"):
            return np.asarray(action, dtype=np.float32)
    except (TypeError, ValueError) as e:
        raise TypeError(
            f"invalid action {action!r}: expected numbers for a Box action space ({e})"
        ) from None


def register_envs() -> list[str]:
    """Registers every qlab env with Gymnasium as ``qlab/<id>``, with the time limit qlab
    gives it, and a vector entry point (qlab's batched CartPole for ``CartPole-v1``, qlab's
    ``SyncVectorEnv`` for the others). Returns the ids; ids already registered are kept."""
    ids = []
    for env_id, _description, limit in _core.registered():
        full = f"{NAMESPACE}/{env_id}"
        ids.append(full)
        if full in gym.registry:
            continue
        vector = (
            "qlab.vector:QlabCartPoleVectorEnv"
            if env_id == "CartPole-v1"
            else "qlab.vector:QlabSyncVectorEnv"
        )
        gym.register(
            id=full,
            entry_point="qlab.envs:QlabEnv",
            vector_entry_point=vector,
            max_episode_steps=limit,
            kwargs={"env_id": env_id},
        )
    return ids
