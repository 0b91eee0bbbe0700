"""Type stubs of the extension module ``qlab._core`` (python/src)."""

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

__version__: str

SpaceTuple = tuple[str, int] | tuple[str, npt.NDArray[np.float32], npt.NDArray[np.float32], tuple[int, ...]]

def cli(argv: Sequence[str]) -> int:
    """Runs the ``qlab`` command line (``argv[0]`` the program) and returns its exit status."""

def registered() -> list[tuple[str, str, int | None]]:
    """Every registered env: ``(id, description, time limit or None)``."""

class CoreEnv:
    """One env of qlab's registry, without its time limit."""

    def __init__(self, id: str, **params: Any) -> None: ...
    @property
    def id(self) -> str: ...
    @property
    def time_limit(self) -> int | None: ...
    @property
    def observation_space(self) -> SpaceTuple: ...
    @property
    def action_space(self) -> SpaceTuple: ...
    @property
    def has_model(self) -> bool: ...
    def reset(self, seed: int | None = None) -> tuple[Any, dict[str, Any]]: ...
    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]: ...
    def set_state(self, state: Sequence[float]) -> Any: ...
    def render_ansi(self) -> str: ...
    def render_rgb(self) -> npt.NDArray[np.uint8]: ...

class CoreCartPoleVector:
    """``num_envs`` CartPoles stepped together (qlab's batched CartPole)."""

    def __init__(self, num_envs: int, **params: Any) -> None: ...
    @property
    def num_envs(self) -> int: ...
    @property
    def time_limit(self) -> int: ...
    def reset(self, seed: int | None = None) -> npt.NDArray[np.float32]: ...
    def step(
        self, actions: npt.NDArray[np.int64]
    ) -> tuple[
        npt.NDArray[np.float32],
        npt.NDArray[np.float32],
        npt.NDArray[np.bool_],
        npt.NDArray[np.bool_],
        dict[str, Any],
    ]: ...
    def state(self, i: int) -> list[float]: ...

class CoreSyncVector:
    """``num_envs`` registered envs in qlab's ``SyncVectorEnv``."""

    def __init__(self, id: str, num_envs: int, **params: Any) -> None: ...
    @property
    def num_envs(self) -> int: ...
    @property
    def single_observation_shape(self) -> tuple[int, ...]: ...
    def reset(self, seed: int | None = None) -> tuple[npt.NDArray[Any], dict[str, Any]]: ...
    def step(
        self, actions: npt.NDArray[Any]
    ) -> tuple[
        npt.NDArray[Any],
        npt.NDArray[np.float64],
        npt.NDArray[np.bool_],
        npt.NDArray[np.bool_],
        dict[str, Any],
    ]: ...

def train(
    config: str | dict[str, Any],
    seeds: Sequence[int] | str | None = None,
    out: str | None = None,
    overrides: dict[str, Any] | None = None,
    threads: int | None = None,
    quiet: bool = False,
) -> tuple[str, str]:
    """Trains through ``qlab train``'s runner; returns the run directory and the per-seed
    summaries as JSON."""

class CoreRun:
    """A run's saved agent, reloaded."""

    def __init__(self, dir: str, seed: int | None = None, best: bool = False) -> None: ...
    @property
    def dir(self) -> str: ...
    @property
    def seed(self) -> int: ...
    def act(self, obs: Any, first: bool | None = None) -> int | np.ndarray: ...
    def new_episode(self) -> None: ...
    def evaluate(
        self, episodes: int | None = None, best: bool = False
    ) -> list[tuple[int, float, float, int]]: ...
