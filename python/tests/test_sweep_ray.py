"""`qlab sweep --executor ray` on a real Ray head on this machine (loopback, 2 CPUs): each
point equals the local executor's, and a worker process killed in the middle of a sweep costs
only its unit, which Ray runs again, every unit kept exactly once."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import ROOT

try:
    import psutil
    import ray  # noqa: F401  (the package's `ray` extra)
except ImportError as e:  # pragma: no cover - only where Ray cannot be installed
    print(f"test_sweep_ray: skipped: Ray cannot be imported here: {e}", file=sys.stderr)
    pytest.skip(f"Ray cannot be imported here: {e}", allow_module_level=True)

BIN = Path(sys.executable).parent
"""The virtual environment's scripts: the package's `qlab` command and Ray's `ray`."""

BASE = """\
[env]
id = "CliffWalking-v1"

[agent]
algorithm = "sarsa"
alpha = 0.5
epsilon = 0.1

[train]
episodes = 40
seeds = "0..5"
eval_every = 10
eval_episodes = 2
eval_max_steps = 60
max_steps_per_episode = 200
"""

GRID = """\
base = "base.toml"
seeds = "0..4"
metric = "final_window_mean_return"

[grid]
"agent.alpha" = [0.1, 0.3, 0.5]
"""

SLOW = f"""\
base = {json.dumps(str(ROOT / "configs" / "mountaincar_sarsa_lambda.toml"))}
seeds = "0..3"

[grid]
"agent.lambda" = [0.9, 0.92]
"train.episodes" = [2500]
"""
"""Units of about a second each (a few thousand mountain-car episodes with tile coding): long
enough to be killed in the middle."""

TIMINGS = ("wall_seconds", "steps_per_second")


def qlab(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Runs the package's `qlab` command."""
    result = subprocess.run([str(BIN / "qlab"), *args], capture_output=True, text=True,
                            timeout=600)
    if check and result.returncode != 0:
        raise AssertionError(f"qlab {' '.join(args)}: {result.returncode}\n{result.stderr}")
    return result


def free_port() -> int:
    """A TCP port nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def ray_head(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Ray head of 2 CPUs on the loopback address; its address. Stopped at the end."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    env["RAY_TMPDIR"] = str(tmp_path_factory.mktemp("ray"))
    start = [
        str(BIN / "ray"), "start", "--head", f"--port={port}", "--node-ip-address=127.0.0.1",
        "--num-cpus=2", "--include-dashboard=false", "--disable-usage-stats",
    ]
    try:
        started = subprocess.run(start, capture_output=True, text=True, env=env, timeout=120)
        assert started.returncode == 0, started.stderr
        yield f"127.0.0.1:{port}"
    finally:
        subprocess.run([str(BIN / "ray"), "stop", "--force"], capture_output=True, env=env,
                       timeout=120)


def write_sweep(tmp: Path, text: str) -> Path:
    """The sweep file `text` beside the base config of these tests."""
    (tmp / "base.toml").write_text(BASE)
    path = tmp / "sweep.toml"
    path.write_text(text)
    return path


def untimed(path: Path) -> object:
    """A summary (a run's or a seed's) without its timings."""
    data = json.loads(path.read_text())

    def strip(d: dict[str, object]) -> None:
        for k in TIMINGS:
            assert k in d, (path, k)
            del d[k]

    if "per_seed" in data:
        for line in data["per_seed"]:
            strip(line)
        strip(data["aggregate"])
    else:
        strip(data)
    return data


def same_points(a: Path, b: Path) -> list[str]:
    """Checks that the sweep directories `a` and `b` hold the same files with the same bytes,
    but the timings of the summaries; returns the files compared."""
    files = sorted(str(p.relative_to(a)) for p in a.rglob("*") if p.is_file())
    assert files == sorted(str(p.relative_to(b)) for p in b.rglob("*") if p.is_file())
    for name in files:
        if name.endswith("summary.json"):
            assert untimed(a / name) == untimed(b / name), name
        else:
            assert (a / name).read_bytes() == (b / name).read_bytes(), name
    return files


def test_each_point_on_ray_equals_the_local_executors(tmp_path: Path, ray_head: str) -> None:
    sweep = write_sweep(tmp_path, GRID)
    qlab("sweep", str(sweep), "--out", str(tmp_path / "local"), "-q")
    ray_run = qlab("sweep", str(sweep), "--out", str(tmp_path / "ray"), "--executor", "ray",
                   "--address", ray_head, "-q")
    files = same_points(tmp_path / "local", tmp_path / "ray")
    # 3 points × 4 seeds, each with its records and agent; nothing else left behind.
    seeds = [f for f in files if f.endswith("seed_summary.json")]
    assert len(seeds) == 12, seeds
    assert {f.split("/")[0] for f in files} == {
        "p000", "p001", "p002", "sweep.csv", "sweep.toml", "best.toml"}
    rows = (tmp_path / "ray" / "sweep.csv").read_text().splitlines()
    assert [r.split(",")[-1] for r in rows[1:]] == ["finished"] * 3
    assert ray_run.stdout.splitlines()[0] == str(tmp_path / "ray")
    # RAY_ADDRESS stands for --address, as in Ray's own tools; --resume keeps every unit.
    env = {**os.environ, "RAY_ADDRESS": ray_head}
    again = subprocess.run(
        [str(BIN / "qlab"), "sweep", str(sweep), "--out", str(tmp_path / "ray"), "--resume",
         "--executor", "ray", "-q"], capture_output=True, text=True, env=env, timeout=600)
    assert again.returncode == 0, again.stderr
    same_points(tmp_path / "local", tmp_path / "ray")


def unit_workers() -> list[psutil.Process]:
    """Ray worker processes running a sweep unit (Ray titles them `ray::run_unit`)."""
    found = []
    for p in psutil.process_iter(["cmdline"]):
        cmdline = p.info["cmdline"] or []
        if cmdline and cmdline[0].startswith("ray::run_unit"):
            found.append(p)
    return found


def test_a_killed_worker_costs_only_its_unit(tmp_path: Path, ray_head: str) -> None:
    sweep = write_sweep(tmp_path, SLOW)
    out = tmp_path / "ray"
    command = [str(BIN / "qlab"), "sweep", str(sweep), "--out", str(out), "--executor", "ray",
               "--address", ray_head, "-q"]
    running = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    killed: tuple[int, Path] | None = None
    try:
        deadline = time.monotonic() + 120
        while killed is None and running.poll() is None and time.monotonic() < deadline:
            # A unit under way: its worker's own directory (named with its pid) has records.
            busy = {p.pid: p for p in unit_workers()}
            for records in out.glob("p*/.seed_*.tmp/seed_*/metrics.csv"):
                unit_dir = records.parents[1]
                pid = int(unit_dir.name.split(".")[2].split("-")[0])
                if pid in busy:
                    busy[pid].kill()
                    killed = (pid, unit_dir)
                    break
            time.sleep(0.02)
        stdout, stderr = running.communicate(timeout=600)
    finally:
        if running.poll() is None:
            running.kill()
    assert killed is not None, "no unit was seen running"
    assert running.returncode == 0, stderr
    pid, unit_dir = killed
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    # The killed unit ran again: its seed is in place, its own directory gone.
    assert not unit_dir.exists()
    assert (unit_dir.parent / unit_dir.name.split(".")[1] / "seed_summary.json").is_file()
    # Every unit once: each point's seeds, no unit's directory left behind, each seed once
    # in its point's summary, every point finished.
    for point in ("p000", "p001"):
        names = sorted(p.name for p in (out / point).iterdir())
        assert names == ["config.toml", "seed_0", "seed_1", "seed_2", "summary.json"], names
        summary = json.loads((out / point / "summary.json").read_text())
        assert [s["seed"] for s in summary["per_seed"]] == [0, 1, 2]
        assert summary["status"] == "complete"
    rows = (out / "sweep.csv").read_text().splitlines()
    assert [r.split(",")[-1] for r in rows[1:]] == ["finished"] * 2
    # The unit run again gives what the local executor gives.
    qlab("sweep", str(sweep), "--out", str(tmp_path / "local"), "-q")
    same_points(tmp_path / "local", out)
    assert stdout.startswith(str(out))


STOP = f"""\
base = {json.dumps(str(ROOT / "configs" / "mountaincar_sarsa_lambda.toml"))}
seeds = [0, 1]

[grid]
"agent.alpha" = [1.0, 0.05, 0.5, 0.02, 0.8]
"train.episodes" = [30]
"train.eval_every" = [5]
"train.eval_episodes" = [2]

[stop]
scheduler = "asha"
"""


def test_a_pruned_sweep_on_ray_equals_the_local_one(tmp_path: Path, ray_head: str) -> None:
    pytest.importorskip("optuna")
    sweep = tmp_path / "stop.toml"
    sweep.write_text(STOP)
    qlab("sweep", str(sweep), "--out", str(tmp_path / "local"), "-q")
    qlab("sweep", str(sweep), "--out", str(tmp_path / "ray"), "--executor", "ray", "--address",
         ray_head, "-q")
    same_points(tmp_path / "local", tmp_path / "ray")
    rows = (tmp_path / "ray" / "sweep.csv").read_text().splitlines()
    assert any(r.endswith(",stopped") for r in rows), rows


def test_sigterm_stops_a_ray_sweep_cleanly_and_resume_finishes_it(
    tmp_path: Path, ray_head: str
) -> None:
    # `ray.init` makes SIGTERM end its driver; the command keeps stopping cleanly on it.
    sweep = write_sweep(tmp_path, SLOW)
    out = tmp_path / "ray"
    command = [str(BIN / "qlab"), "sweep", str(sweep), "--out", str(out), "--executor", "ray",
               "--address", ray_head, "-q"]
    running = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    try:
        deadline = time.monotonic() + 120
        while running.poll() is None and time.monotonic() < deadline:
            if list(out.glob("p*/.seed_*.tmp/seed_*/metrics.csv")):
                running.terminate()
                break
            time.sleep(0.02)
        stdout, stderr = running.communicate(timeout=120)
    finally:
        if running.poll() is None:
            running.kill()
    assert running.returncode == 143, stderr
    assert stdout == ""
    assert f"to finish it: qlab sweep {sweep} --out {out} --resume" in stderr.splitlines()
    assert "pending" in (out / "sweep.csv").read_text()
    qlab("sweep", str(sweep), "--out", str(out), "--resume", "--executor", "ray", "--address",
         ray_head, "-q")
    qlab("sweep", str(sweep), "--out", str(tmp_path / "local"), "-q")
    same_points(tmp_path / "local", out)


def test_a_cluster_that_does_not_answer_is_refused_before_anything_is_made(
    tmp_path: Path,
) -> None:
    sweep = write_sweep(tmp_path, GRID)
    out = tmp_path / "never"
    result = qlab("sweep", str(sweep), "--out", str(out), "--executor", "ray", "--address",
                  f"127.0.0.1:{free_port()}", check=False)
    assert result.returncode == 2
    assert result.stderr.startswith("error: --executor ray: cannot reach the Ray cluster at "), \
        result.stderr
    assert not out.exists()
