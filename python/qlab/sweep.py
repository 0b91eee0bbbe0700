"""The sweeps only this package runs: ``qlab sweep`` with ``--executor ray``, with
``[search] method = "tpe"``, or with a ``[stop]`` scheduler.

The ``qlab`` command (Rust, through ``qlab._core``) reads and checks the sweep file, makes the
sweep directory and hands it to :func:`drive`, which only schedules: it decides which units
run where and when, and tells the sweep how each point ended. Everything else stays in Rust,
one implementation for every executor: each point's directory and config, each unit's run
(``_core.sweep_unit``: one seed of one point, through the runner ``qlab train`` uses),
``summary.json``, ``sweep.csv`` and ``best.toml``.

- **Executors.** ``local``: units on a pool of ``--threads`` threads of this process. ``ray``:
  each unit one Ray task of one CPU on the cluster at ``--address`` (or ``RAY_ADDRESS``),
  retried by Ray (``max_retries``) when its worker process or node dies. A unit writes into
  a directory of its own and moves the finished seed into place with one rename, so a unit
  killed half-way leaves nothing behind and a unit run twice is kept once; ``--resume`` skips
  every unit whose seed has finished.
- **Order.** Without ``tpe`` or ``[stop]``, every unit of every point is queued at once. With
  them, points run one after another (each point's seeds in parallel), because a ``tpe``
  trial depends on the results of the trials before it and a pruner compares a point with
  the points before it: run in order, the same sweep file gives the same points and the
  same decisions, on any executor and on ``--resume``.
- **TPE** is Optuna's ``TPESampler(seed=[search] seed)``; ``[stop]``'s schedulers are Optuna's
  pruners: ``asha`` is ``SuccessiveHalvingPruner()``, ``median`` is ``MedianPruner()``, each
  with Optuna's defaults. A point's intermediate value at an evaluation is the mean over its
  seeds of that evaluation's mean return; the point's seeds train from one evaluation to the
  next (each piece a unit that pauses at a checkpoint), and a point the pruner stops ends
  there: each seed's last piece ends at its checkpoint, and ``sweep.csv`` says ``stopped``
  with the evaluation it stopped after.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import signal
import socket
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_futures
from dataclasses import dataclass, field
from typing import Any, Protocol

from qlab import _core

RAY_INSTALL = 'pip install "./python[ray]" (or "qlab[ray]")'
"""What installs Ray beside this package."""

TUNE_INSTALL = 'pip install "./python[tune]" (or "qlab[tune]")'
"""What installs Optuna beside this package."""

MAX_RETRIES = 3
"""How many times Ray runs a unit again whose worker process or node died."""

POLL_SECONDS = 0.2
"""How often the driver looks for a stop request while it waits for units."""


@dataclass(frozen=True)
class Job:
    """One unit to run: seed ``seed`` of point ``point`` (its directory ``point_dir``);
    ``pause_after`` pauses it after the evaluation there, ``end_here`` ends it at its
    checkpoint (a ``[stop]`` scheduler's pieces)."""

    point: int
    seed: int
    point_dir: str
    pause_after: int | None = None
    end_here: bool = False


@dataclass
class Done:
    """A unit that ran: what ``_core.sweep_unit`` returned, or why it failed."""

    job: Job
    result: dict[str, Any] | None
    error: str | None = None

    @property
    def status(self) -> str:
        """``finished``, ``paused``, ``interrupted`` or ``failed``."""
        return "failed" if self.result is None else str(self.result["status"])

    @property
    def evals(self) -> list[tuple[int, float]]:
        """The seed's evaluations so far: where (env steps or episodes) and mean return."""
        if self.result is None:
            return []
        return [(int(x), float(m)) for x, m in self.result["evals"]]


def run_unit(point_dir: str, seed: int, pause_after: int | None, end_here: bool) -> str:
    """Runs one unit in this process (a Ray worker's): ``_core.sweep_unit``."""
    return _core.sweep_unit(point_dir, seed, pause_after=pause_after, end_here=end_here)


class Executor(Protocol):
    """Where units run."""

    def submit(self, job: Job) -> None:
        """Queues ``job``."""

    def wait(self, timeout: float) -> list[Done]:
        """The units that ended since the last call, waiting up to ``timeout`` seconds for
        one."""

    def in_flight(self) -> int:
        """Units queued or running."""

    def capacity(self) -> int:
        """How many units can run at once."""

    def cancel(self) -> None:
        """Stops every unit queued or running."""

    def close(self) -> None:
        """Lets go of the threads or the cluster."""


class ThreadExecutor:
    """Units on ``threads`` threads of this process; a stop (a signal) stops each unit at its
    next episode end."""

    def __init__(self, threads: int, stop: _core.CoreStop) -> None:
        self._threads = threads
        self._pool = ThreadPoolExecutor(max_workers=threads)
        self._stop = stop
        self._futures: dict[Future[str], Job] = {}

    def submit(self, job: Job) -> None:
        future = self._pool.submit(
            _core.sweep_unit,
            job.point_dir,
            job.seed,
            pause_after=job.pause_after,
            end_here=job.end_here,
            stop=self._stop,
        )
        self._futures[future] = job

    def wait(self, timeout: float) -> list[Done]:
        if not self._futures:
            return []
        ready, _ = wait_futures(list(self._futures), timeout=timeout, return_when=FIRST_COMPLETED)
        out = []
        for future in ready:
            job = self._futures.pop(future)
            try:
                out.append(Done(job, json.loads(future.result())))
            except Exception as e:  # noqa: BLE001 - a unit's failure is its point's
                out.append(Done(job, None, one_line(e)))
        return out

    def in_flight(self) -> int:
        return len(self._futures)

    def capacity(self) -> int:
        return self._threads

    def cancel(self) -> None:
        for future in self._futures:
            future.cancel()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


class RayExecutor:
    """Each unit one Ray task of one CPU on the cluster at ``address``."""

    def __init__(self, address: str, quiet: bool) -> None:
        try:
            import ray
        except ImportError as e:
            raise ValueError(f"--executor ray needs Ray: {RAY_INSTALL} ({e})") from e
        import logging

        self._ray = ray
        try:
            ray.init(
                address=address,
                logging_level=logging.WARNING if quiet else logging.INFO,
                log_to_driver=False,
                configure_logging=True,
            )
        except (ConnectionError, RuntimeError, ValueError) as e:
            raise ValueError(
                f"--executor ray: cannot connect to the Ray cluster at {address}: {one_line(e)}; "
                "start one with `ray start --head` and give the address it prints"
            ) from e
        self._remote = ray.remote(num_cpus=1, max_retries=MAX_RETRIES, retry_exceptions=False)(
            run_unit
        )
        self._refs: dict[Any, Job] = {}

    def submit(self, job: Job) -> None:
        ref = self._remote.remote(job.point_dir, job.seed, job.pause_after, job.end_here)
        self._refs[ref] = job

    def wait(self, timeout: float) -> list[Done]:
        ray = self._ray
        if not self._refs:
            return []
        refs = list(self._refs)
        ready, rest = ray.wait(refs, num_returns=1, timeout=timeout)
        if ready and rest:
            more, _ = ray.wait(rest, num_returns=len(rest), timeout=0)
            ready += more
        out = []
        for ref in ready:
            job = self._refs.pop(ref)
            try:
                out.append(Done(job, json.loads(ray.get(ref))))
            except ray.exceptions.RayTaskError as e:
                out.append(Done(job, None, one_line(e.cause if e.cause is not None else e)))
            except ray.exceptions.RayError as e:
                # The worker died more often than Ray retries it, or the node went away.
                out.append(Done(job, None, f"{type(e).__name__}: {one_line(e)}"))
        return out

    def in_flight(self) -> int:
        return len(self._refs)

    def capacity(self) -> int:
        return max(1, int(self._ray.cluster_resources().get("CPU", 1)))

    def cancel(self) -> None:
        for ref in self._refs:
            self._ray.cancel(ref, force=True)
        self._refs.clear()

    def close(self) -> None:
        self._ray.shutdown()


def one_line(e: BaseException | str) -> str:
    """An error's message on one line."""
    return " ".join(str(e).split())


def ray_address(options: dict[str, Any]) -> str:
    """The Ray cluster ``options`` name: ``address``, else ``RAY_ADDRESS``."""
    address = options.get("address") or os.environ.get("RAY_ADDRESS")
    if not address:
        raise ValueError(
            "--executor ray connects to a running Ray cluster: give --address HOST:PORT "
            "(as `ray start --head` prints it) or set RAY_ADDRESS"
        )
    return str(address)


def check(options: dict[str, Any], tune: bool) -> None:
    """Checks, before the sweep directory is made, that the sweep can run: Optuna installed
    (``tune``: a ``tpe`` search or a ``[stop]`` scheduler), and with ``--executor ray``, Ray
    installed and the cluster's address answering."""
    if tune:
        try:
            import optuna  # noqa: F401
        except ImportError as e:
            raise ValueError(
                f'`method = "tpe"` and [stop] use Optuna: {TUNE_INSTALL} ({e})'
            ) from e
    if options["executor"] != "ray":
        return
    try:
        import ray  # noqa: F401
    except ImportError as e:
        raise ValueError(f"--executor ray needs Ray: {RAY_INSTALL} ({e})") from e
    address = ray_address(options)
    host, _, port = address.rpartition(":")
    if address == "auto" or "://" in address or not port.isdigit():
        return
    try:
        socket.create_connection((host, int(port)), timeout=10).close()
    except OSError as e:
        raise ValueError(
            f"--executor ray: cannot reach the Ray cluster at {address}: {one_line(e)}; "
            "start one with `ray start --head` and give the address it prints"
        ) from e


def make_executor(core: _core.CoreSweep, options: dict[str, Any]) -> Executor:
    """The executor ``options`` name: ``local`` on ``threads`` threads, or ``ray`` at
    ``address`` (else ``RAY_ADDRESS``)."""
    if options["executor"] == "ray":
        executor = RayExecutor(ray_address(options), bool(options.get("quiet")))
        keep_stopping_on_signals(core)
        return executor
    threads = options.get("threads") or os.cpu_count() or 1
    return ThreadExecutor(int(threads), core.stop_token())


def keep_stopping_on_signals(core: _core.CoreSweep) -> None:
    """Puts back what SIGINT, SIGTERM and SIGHUP do in the ``qlab`` command where a library
    changed it: ``ray.init`` makes SIGTERM end the driver (``sys.exit``). The first such
    signal stops the sweep cleanly, a second ends the process at once (128 + its number), as
    the command's own handlers do."""

    def stop(signum: int, frame: object) -> None:
        if core.request_stop(signum):
            os._exit(128 + signum)

    for name in ("SIGINT", "SIGTERM", "SIGHUP"):
        number = getattr(signal, name, None)
        # The command's own handlers are not Python's: Python sees SIG_DFL there.
        if number is not None and callable(signal.getsignal(number)):
            signal.signal(number, stop)


class Interrupted(Exception):
    """A stop (a signal) came while the sweep ran: the driver returns at once."""


@dataclass
class Point:
    """A point being run: its seeds' latest outcomes (``ended``: finished or failed)."""

    index: int
    dir: str
    seeds: Sequence[int]
    began: float = field(default_factory=time.monotonic)
    finished: set[int] = field(default_factory=set)
    ended: set[int] = field(default_factory=set)
    curves: dict[int, list[tuple[int, float]]] = field(default_factory=dict)
    error: str | None = None

    def record(self, done: Done) -> None:
        """Takes a unit's outcome."""
        seed = done.job.seed
        if done.status == "failed":
            self.error = self.error or f"seed {seed}: {done.error}"
            self.ended.add(seed)
        elif done.status != "interrupted":
            self.curves[seed] = done.evals
            if done.status == "finished":
                self.finished.add(seed)
                self.ended.add(seed)

    @property
    def wall(self) -> float:
        """Seconds since the point began."""
        return time.monotonic() - self.began


def run_jobs(
    core: _core.CoreSweep, executor: Executor, jobs: Sequence[Job], on_done: Callable[[Done], None]
) -> None:
    """Runs ``jobs``, calling ``on_done`` for each as it ends; raises :class:`Interrupted`
    once a stop is requested, the units in flight cancelled."""
    for job in jobs:
        executor.submit(job)
    while executor.in_flight():
        if core.stop_requested():
            executor.cancel()
            raise Interrupted
        for done in executor.wait(POLL_SECONDS):
            on_done(done)
    if core.stop_requested():
        raise Interrupted


class Reporter:
    """A line on stderr per point, as the local executor prints it."""

    def __init__(self, core: _core.CoreSweep, quiet: bool) -> None:
        self.core = core
        self.quiet = quiet
        self.count = 0

    def point(self, i: int, mean: float | None, at: int | None = None) -> None:
        """Point ``i`` ended, with the metric's mean (if any)."""
        self.count += 1
        if self.quiet:
            return
        core = self.core
        metric = "" if mean is None else f", mean {mean:.3f}"
        status = core.status(i) if at is None else f"stopped after {at}"
        print(
            f"{core.name(i)} ({self.count}/{core.total_points}) {' '.join(core.params(i))}: "
            f"{status}{metric}",
            file=sys.stderr,
        )


def run_all(core: _core.CoreSweep, executor: Executor, reporter: Reporter) -> None:
    """Runs every unit of every point at once (no ``tpe``, no ``[stop]``), filling the
    executor as units end; each point's summary and row are written once its seeds have
    run."""
    seeds = core.seeds
    points: dict[int, Point] = {}
    pending: queue.SimpleQueue[Job] = queue.SimpleQueue()
    # Enough queued to keep every worker busy, without handing a cluster a whole sweep at once.
    window = 4 * executor.capacity()
    next_point = 0

    def top_up() -> None:
        nonlocal next_point
        while executor.in_flight() < window:
            if pending.empty():
                if next_point == core.points:
                    return
                i = next_point
                next_point += 1
                points[i] = Point(i, core.start_point(i), seeds)
                for seed in seeds:
                    pending.put(Job(i, seed, points[i].dir))
            executor.submit(pending.get())

    top_up()
    while executor.in_flight():
        if core.stop_requested():
            executor.cancel()
            raise Interrupted
        for done in executor.wait(POLL_SECONDS):
            point = points[done.job.point]
            point.record(done)
            if done.status != "interrupted" and len(point.ended) == len(seeds):
                if point.error is None:
                    mean = core.finish_point(point.index, "finished", point.wall)
                else:
                    mean = core.finish_point(point.index, "failed", point.wall, why=point.error)
                reporter.point(point.index, mean)
        top_up()
    if core.stop_requested():
        raise Interrupted


def optuna_study(core: _core.CoreSweep) -> tuple[Any, dict[str, Any]]:
    """The Optuna study of a ``tpe`` search or a ``[stop]`` scheduler, and ``tpe``'s
    distributions by key."""
    try:
        import optuna
    except ImportError as e:
        raise ValueError(
            f"`method = \"tpe\"` and [stop] use Optuna: {TUNE_INSTALL} ({e})"
        ) from e
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    pruners: dict[str | None, Any] = {
        None: optuna.pruners.NopPruner(),
        "asha": optuna.pruners.SuccessiveHalvingPruner(),
        "median": optuna.pruners.MedianPruner(),
    }
    sampler = optuna.samplers.TPESampler(seed=core.search_seed)
    study = optuna.create_study(
        direction="maximize" if core.mode == "max" else "minimize",
        sampler=sampler,
        pruner=pruners[core.scheduler],
    )
    distributions: dict[str, Any] = {}
    for key, kind, args in core.space:
        if kind == "uniform":
            distributions[key] = optuna.distributions.FloatDistribution(args[0], args[1])
        elif kind == "loguniform":
            distributions[key] = optuna.distributions.FloatDistribution(args[0], args[1], log=True)
        elif kind == "int":
            distributions[key] = optuna.distributions.IntDistribution(int(args[0]), int(args[1]))
        else:
            distributions[key] = optuna.distributions.CategoricalDistribution(
                list(range(int(args[0])))
            )
    return study, distributions


def run_in_order(core: _core.CoreSweep, executor: Executor, reporter: Reporter) -> None:
    """Runs the points one after another through an Optuna study: ``tpe`` draws each trial
    once the trials before it have run, and a ``[stop]`` scheduler decides at each
    evaluation whether a point goes on."""
    study, distributions = optuna_study(core)
    import optuna
    planned = core.points
    for k in range(core.total_points):
        if k < planned:
            trial = study.ask()
            i = k
        else:
            trial = study.ask(distributions)
            i = core.add_trial(k - planned, [trial.params[key] for key in distributions])
        ended, mean, at = run_point(core, executor, i, trial if core.scheduler else None)
        if ended == "stopped":
            study.tell(trial, state=optuna.trial.TrialState.PRUNED)
        elif ended == "finished" and mean is not None:
            study.tell(trial, mean)
        else:
            study.tell(trial, state=optuna.trial.TrialState.FAIL)
        reporter.point(i, mean, at)


def run_point(
    core: _core.CoreSweep, executor: Executor, i: int, trial: Any | None
) -> tuple[str, float | None, int | None]:
    """Runs point ``i``'s seeds; with ``trial`` (a ``[stop]`` scheduler's), from one
    evaluation to the next, reporting each evaluation's mean over seeds to the trial and
    ending the point where the pruner says. Returns how it ended (``finished``, ``stopped``,
    ``failed``), the metric's mean over seeds, and where it stopped."""
    point = Point(i, core.start_point(i), core.seeds)
    unit, every, budget = core.schedule(i)
    seeds = list(point.seeds)

    def run(jobs: list[Job]) -> bool:
        run_jobs(core, executor, jobs, point.record)
        return point.error is None

    if trial is None or every == 0:
        ok = run([Job(i, s, point.dir) for s in seeds])
        return finish(core, point, ok)
    reported = 0
    pruning = True
    while True:
        # The next evaluation to report, made by a piece that pauses after it; past the last
        # one inside the budget, the seeds run to their end.
        x = (reported + 1) * every
        pause = x if pruning and x < budget else None
        jobs = [
            Job(i, s, point.dir, pause_after=pause)
            for s in seeds
            if s not in point.finished and len(point.curves.get(s, [])) <= reported
        ]
        if jobs and not run(jobs):
            return finish(core, point, False)
        while pruning and all(len(point.curves.get(s, [])) > reported for s in seeds):
            at = {point.curves[s][reported][0] for s in seeds}
            if len(at) != 1:
                # The seeds evaluated at different places (`[train] stop_at` ended some
                # early): no value to report, so no more pruning.
                pruning = False
                break
            step = at.pop()
            value = sum(point.curves[s][reported][1] for s in seeds) / len(seeds)
            trial.report(value, step)
            reported += 1
            if step < budget and trial.should_prune():
                left = [Job(i, s, point.dir, end_here=True) for s in seeds if s not in point.finished]
                if left and not run(left):
                    return finish(core, point, False)
                mean = core.finish_point(i, "stopped", point.wall, at=step)
                return "stopped", mean, step
        if len(point.finished) == len(seeds):
            return finish(core, point, True)


def finish(core: _core.CoreSweep, point: Point, ok: bool) -> tuple[str, float | None, None]:
    """Ends ``point``: finished when every seed has, else failed."""
    if ok and len(point.finished) == len(point.seeds):
        return "finished", core.finish_point(point.index, "finished", point.wall), None
    why = point.error or "not every seed finished"
    core.finish_point(point.index, "failed", point.wall, why=why)
    return "failed", None, None


def drive(core: _core.CoreSweep, options: dict[str, Any]) -> None:
    """Runs every point of the sweep ``core`` as ``options`` (the command line's
    ``executor``, ``address``, ``threads``, ``quiet``) ask; returns early, the points in
    flight cancelled, once a signal asks the sweep to stop (the command then names the
    ``--resume`` command that finishes it)."""
    # stdout is the command's table: what Ray prints from its threads (a worker that died,
    # say) goes to stderr with the rest of the progress.
    with contextlib.redirect_stdout(sys.stderr):
        executor = make_executor(core, options)
        reporter = Reporter(core, bool(options.get("quiet")))
        try:
            if core.method == "tpe" or core.scheduler is not None:
                run_in_order(core, executor, reporter)
            else:
                run_all(core, executor, reporter)
        except Interrupted:
            pass
        finally:
            executor.close()
