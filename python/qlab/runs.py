"""Runs from Python: :func:`train` runs a config through the runner of ``qlab train``;
:func:`load` reloads a run's saved agent."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from qlab import _core

Config = str | os.PathLike[str] | Mapping[str, Any]
"""A config: the path of a TOML file (``configs/``), or a dict in the TOML's shape."""


class TrainResult(list[dict[str, Any]]):
    """The per-seed summaries of a run (as ``summary.json``'s ``per_seed`` holds them: ``seed``,
    ``episodes``, ``steps``, ``final_eval_mean_return``, …), with the run directory as
    :attr:`dir`."""

    dir: Path
    """The run directory."""

    def __init__(self, dir: Path, summaries: Iterable[dict[str, Any]]) -> None:
        super().__init__(summaries)
        self.dir = dir


def _seeds(seeds: int | str | Iterable[int] | None) -> list[int] | str | None:
    if seeds is None or isinstance(seeds, str):
        return seeds
    if isinstance(seeds, (bool, np.bool_)):
        raise TypeError(f"invalid seeds {seeds!r}: expected integers")
    if isinstance(seeds, (int, np.integer)):
        return [int(seeds)]
    out = []
    for s in seeds:
        if isinstance(s, (bool, np.bool_)) or not isinstance(s, (int, np.integer)):
            raise TypeError(f"invalid seed {s!r}: expected an integer")
        if not 0 <= int(s) < 2**64:
            raise ValueError(f"invalid seed {int(s)}: expected an integer in [0, 2**64)")
        out.append(int(s))
    return out


def train(
    config: Config,
    seeds: int | str | Iterable[int] | None = None,
    out: str | os.PathLike[str] | None = None,
    overrides: Mapping[str, Any] | None = None,
    threads: int | None = None,
    quiet: bool = True,
) -> TrainResult:
    """Trains ``config`` once per seed, as ``qlab train`` does, and writes the same run
    directory (bit for bit: metrics, evaluations, agents).

    Args:
        config: A TOML file's path, or a dict in its shape
            (``{"env": {"id": "CliffWalking-v1"}, "agent": {"algorithm": "sarsa"}}``).
        seeds: Replace the config's seeds: an int, a list of ints, or ``"0..10"`` as
            ``--seeds`` takes it.
        out: The run directory; it must not exist (default ``runs/<env>_<algorithm>_<time>``).
        overrides: Config values to override, as ``--set`` does: ``{"agent.alpha": 0.3}`` or
            ``{"train": {"episodes": 50}}``.
        threads: The most seeds run at once (default: the number of cores).
        quiet: No progress on stderr (the default); ``False`` shows it as ``qlab train`` does.

    Returns:
        The per-seed summaries, with the run directory as ``.dir``.

    The GIL is released while training. Ctrl-C stops the run as it stops ``qlab train``: each
    seed finishes its episode and writes a checkpoint, then ``KeyboardInterrupt`` is raised with
    the command that finishes the run (``qlab train --resume DIR``).

    Raises:
        ValueError: A config that does not load or check (qlab's message, at its key), an
            existing ``out``, a run that fails.
        TypeError: A config or value of the wrong type.
    """
    if isinstance(config, os.PathLike):
        config = os.fspath(config)
    if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int)):
        raise TypeError(f"invalid threads {threads!r}: expected an integer >= 1")
    if threads is not None and threads < 1:
        raise ValueError(f"--threads must be at least 1, got {threads}")
    if out is not None:
        out = os.fspath(out)
    if overrides is not None and not isinstance(overrides, dict):
        overrides = dict(overrides)
    if isinstance(config, Mapping) and not isinstance(config, dict):
        config = dict(config)
    dir, summaries = _core.train(
        config,
        seeds=_seeds(seeds),
        out=out,
        overrides=overrides,
        threads=threads,
        quiet=quiet,
    )
    return TrainResult(Path(dir), json.loads(summaries))


class Run:
    """A run's saved agent, reloaded (:func:`load`)."""

    def __init__(self, core: _core.CoreRun) -> None:
        self._core = core

    @property
    def dir(self) -> Path:
        """The run directory."""
        return Path(self._core.dir)

    @property
    def seed(self) -> int:
        """The seed whose agent :meth:`act` asks."""
        return self._core.seed

    def act(self, obs: Any, first: bool | None = None) -> int | np.ndarray:
        """The agent's greedy action at ``obs``, an observation of the run's env (the registered
        env in the config's ``[wrappers]``): a state index, or an array for envs that observe a
        box (read through the config's ``[features]`` by a tabular agent). The action is an
        ``int``, or a float32 array where ``[wrappers] discretize_action`` made the env's Box
        actions a grid (the grid point, mapped through the other action wrappers). ``first`` marks an episode's first observation (by default the first call
        and the one after :meth:`new_episode`); ties are broken at random, from a stream seeded
        by the seed."""
        if not isinstance(obs, (int, np.integer)):
            obs = np.asarray(obs, dtype=np.float32)
        return self._core.act(obs, first)

    def new_episode(self) -> None:
        """Marks the next :meth:`act` as the first of an episode."""
        self._core.new_episode()

    def evaluate(self, episodes: int | None = None, best: bool = False) -> list[dict[str, Any]]:
        """Evaluates every seed's agent greedily over ``episodes`` episodes (default: the
        config's ``eval_episodes``), with the run's own evaluation seeds, as ``qlab eval``
        does: one dict per seed (``seed``, ``mean_return``, ``std_return``, ``episodes``).
        With the config's ``eval_episodes`` each mean repeats the seed's final evaluation."""
        rows = self._core.evaluate(episodes, best)
        return [
            {"seed": s, "mean_return": m, "std_return": sd, "episodes": n}
            for s, m, sd, n in rows
        ]

    def __repr__(self) -> str:
        return f"Run({str(self.dir)!r}, seed={self.seed})"


def load(run_dir: str | os.PathLike[str], seed: int | None = None, best: bool = False) -> Run:
    """Reloads the saved agent of ``seed`` (default: the run's first seed with one) from a run
    directory written by ``qlab train`` or :func:`train`; ``best`` takes the best evaluation's
    agent (``[train] keep_best``)."""
    return Run(_core.CoreRun(os.fspath(run_dir), seed, best))
