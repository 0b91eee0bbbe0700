#!/usr/bin/env python3
"""Reruns the data-loss cases of the reliability probe against a built `qlab` binary.

Each case sets up a run directory the way a user (or a crash, or a full disk) would leave it,
runs the binary, and reports whether the damage was REFUSED (a clear error, nothing written
that looks valid), RECOVERED (the run finished with results equal to an undamaged run), or
LOST (a result that looks valid and is not, or one that was destroyed).

    cargo build --release
    python3 tools/reliability_probe.py [--qlab target/release/qlab]

Needs only Python's standard library. The disk-full case mounts a 1 MiB tmpfs, as root or in
an unprivileged user namespace (`unshare`); where neither is possible it is reported SKIPPED.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "configs" / "frozenlake_q_learning.toml"
# A run long enough to checkpoint several times, short enough to finish in seconds.
TINY = [
    "--set", "train.episodes=3000",
    "--set", "train.eval_every=1000",
    "--set", "train.checkpoint_every=5000",
    "--set", "train.eval_episodes=10",
]

# How long a resume of a killed run may take to refuse: checks come before any training.
RESUME_TIMEOUT = 20.0


@dataclass
class Outcome:
    """What one case showed."""

    verdict: str  # REFUSED, RECOVERED, LOST or SKIPPED
    detail: str


@dataclass
class Proc:
    """A finished `qlab` invocation."""

    code: int
    out: str
    err: str

    def line(self) -> str:
        """The first line of the error output (the one-line message), or the exit code."""
        lines = [s for s in self.err.splitlines() if s.strip()]
        return lines[-1] if lines else f"exit {self.code}"


class Probe:
    """Runs `qlab` in a scratch directory."""

    def __init__(self, qlab: Path, scratch: Path) -> None:
        self.qlab = qlab
        self.scratch = scratch

    def run(self, *args: str, timeout: float = 120.0) -> Proc:
        """Runs the binary with `args`; a hang past `timeout` counts as exit code -1."""
        try:
            p = subprocess.run(
                [str(self.qlab), *args],
                capture_output=True,
                text=True,
                timeout=timeout,
                cwd=self.scratch,
            )
        except subprocess.TimeoutExpired:
            return Proc(-1, "", f"hung for more than {timeout:.0f} s")
        return Proc(p.returncode, p.stdout, p.stderr)

    def train(self, out: Path, *extra: str, seeds: str = "0..2", timeout: float = 120.0) -> Proc:
        """A tiny FrozenLake run into `out`."""
        return self.run(
            "train", str(CONFIG), "--quiet", "--seeds", seeds, "--out", str(out), *TINY, *extra,
            timeout=timeout,
        )

    def resume(self, out: Path) -> Proc:
        """`--resume` of a damaged run. A refusal comes at once; a run that accepted the
        damage is still training at the timeout (exit code -1), which the cases judge."""
        return self.run("train", "--resume", str(out), "--quiet", timeout=RESUME_TIMEOUT)

    def fresh(self, name: str) -> Path:
        """A path in the scratch directory that does not exist yet."""
        path = self.scratch / name
        shutil.rmtree(path, ignore_errors=True)
        return path


def records(run: Path) -> dict[str, bytes]:
    """The bytes of every seed's metrics.csv and eval.csv, by relative path."""
    out: dict[str, bytes] = {}
    for f in sorted(run.glob("seed_*/*.csv")):
        out[str(f.relative_to(run))] = f.read_bytes()
    return out


def killed_run(p: Probe, name: str) -> Path | None:
    """A run killed (SIGKILL) after its first checkpoint; None if it finished first."""
    out = p.fresh(name)
    args = [
        str(p.qlab), "train", str(CONFIG), "--quiet", "--seeds", "0", "--out", str(out),
        "--set", "train.episodes=2000000", "--set", "train.eval_every=100000",
        "--set", "train.checkpoint_every=2000", "--set", "train.eval_episodes=10",
    ]
    proc = subprocess.Popen(args, cwd=p.scratch, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    sidecar = out / "seed_0" / "checkpoint.json"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if sidecar.is_file():
            time.sleep(0.3)
            break
        time.sleep(0.05)
    if proc.poll() is not None:
        return None
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    return out


def case_huge_seed(p: Probe) -> Outcome:
    out = p.fresh("huge_seed")
    r = p.train(out, seeds=str(2**63))
    config = out / "config.toml"
    if r.code != 0 and not config.exists():
        return Outcome("REFUSED", r.line())
    if r.code == 0 and config.exists():
        e = p.run("eval", str(out))
        if e.code == 0 and str(2**63) in config.read_text():
            return Outcome("RECOVERED", "written losslessly; the run evaluates again")
        return Outcome("LOST", f"config.toml no longer loads: {e.line()}")
    return Outcome("LOST", f"exit {r.code}, config.toml left behind")


def case_many_seeds(p: Probe) -> Outcome:
    out = p.fresh("many_seeds")
    t = time.monotonic()
    r = p.train(out, seeds="0..100000000", timeout=60)
    took = time.monotonic() - t
    if r.code == -1 and (out / "config.toml").is_file():
        return Outcome("RECOVERED", "checked at once; the run started its seeds")
    if r.code == -1:
        return Outcome("LOST", "hung checking 10^8 seeds")
    if r.code != 0 and took < 30:
        return Outcome("REFUSED", f"{r.line()} (in {took:.1f} s)")
    return Outcome("LOST", f"exit {r.code} after {took:.1f} s")


def case_failed_resume_keeps_summary(p: Probe) -> Outcome:
    out = p.fresh("failed_resume")
    if p.train(out).code != 0:
        return Outcome("LOST", "the undamaged run failed")
    # No seed's summary can be read or rewritten any more: every seed's resume fails.
    for seed in (0, 1):
        damaged = out / f"seed_{seed}" / "seed_summary.json"
        damaged.unlink()
        damaged.mkdir()
    r = p.run("train", "--resume", str(out), "--quiet")
    try:
        kept = [s["seed"] for s in json.loads((out / "summary.json").read_text())["per_seed"]]
    except (OSError, ValueError, KeyError, TypeError):
        kept = []
    if r.code != 0 and kept == [0, 1]:
        return Outcome("REFUSED", f"{r.line()}; summary.json keeps seeds {kept}")
    return Outcome("LOST", f"exit {r.code}; summary.json keeps seeds {kept}")

def case_every_seed_fails(p: Probe) -> Outcome:
    out = p.fresh("all_fail")
    out.mkdir()
    # Two seed directories that are files: no seed can write its records.
    (out / "seed_0").write_text("")
    (out / "seed_1").write_text("")
    shutil.copy(CONFIG, out / "config.toml")
    r = p.run("train", "--resume", str(out), "--quiet")
    summary = out / "summary.json"
    looks_valid = False
    if summary.exists():
        try:
            s = json.loads(summary.read_text())
            looks_valid = isinstance(s, dict) and s.get("per_seed") == []
        except json.JSONDecodeError:
            looks_valid = False
    failed = r.err.count("seed 0") >= 1 and r.err.count("seed 1") >= 1
    if r.code != 0 and not looks_valid and failed:
        return Outcome("REFUSED", "no empty summary; both seeds reported")
    return Outcome("LOST", f"exit {r.code}; empty summary={looks_valid}; every seed named={failed}")


def case_short_metrics(p: Probe) -> Outcome:
    out = killed_run(p, "short_metrics")
    if out is None:
        return Outcome("SKIPPED", "the run finished before it could be killed")
    metrics = out / "seed_0" / "metrics.csv"
    data = metrics.read_bytes()
    metrics.write_bytes(data[: len(data) // 4])
    r = p.resume(out)
    has_nul = b"\0" in metrics.read_bytes()
    if has_nul:
        return Outcome("LOST", f"exit {r.code}; metrics.csv padded with NUL bytes")
    if r.code not in (0, -1):
        return Outcome("REFUSED", r.line())
    return Outcome("RECOVERED", "resumed from a consistent point, no NUL bytes")


def case_disk_full(p: Probe) -> Outcome:
    mount = p.fresh("disk_full")
    mount.mkdir()
    out = mount / "run"
    inner = (
        f"mount -t tmpfs -o size=1m tmpfs {mount} && "
        f"{p.qlab} train {CONFIG} --quiet --seeds 0..20 --out {out} "
        + " ".join(TINY)
        + f"; code=$?; ls {out} > {p.scratch}/disk_full.ls 2>&1; "
        + f"rm -f {p.scratch}/disk_full.summary; [ -e {out}/summary.json ] && "
        + f"cp {out}/summary.json {p.scratch}/disk_full.summary; exit $code"
    )
    if os.geteuid() == 0:
        cmd = ["unshare", "--mount", "sh", "-c", inner]
    else:
        cmd = ["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", inner]
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=p.scratch)
    except (OSError, subprocess.TimeoutExpired) as e:
        return Outcome("SKIPPED", f"no small filesystem to fill: {e}")
    if "mount:" in r.stderr or "unshare:" in r.stderr:
        return Outcome("SKIPPED", "no small filesystem to fill: " + r.stderr.strip().splitlines()[0])
    summary = p.scratch / "disk_full.summary"
    named = len(re.findall(r"^(?:error: )?seed \d+: ", r.stderr, re.MULTILINE))
    if r.returncode == 0:
        return Outcome("RECOVERED", "the run fit")
    if summary.exists():
        try:
            json.loads(summary.read_text())
        except ValueError:
            return Outcome("LOST", f"summary.json torn or empty; {named} failing seeds named")
    lines = [s for s in r.stderr.splitlines() if s.strip()]
    kept = "a whole summary.json" if summary.exists() else "no summary.json (none could be written)"
    return Outcome("REFUSED", f"{named} failing seeds named, one line each; {kept}; "
                   f"last line: {lines[-1] if lines else ''}")


def case_render_fps_zero(p: Probe) -> Outcome:
    target = p.scratch / "keep.gif"
    target.write_bytes(b"a user's file")
    r = p.run("render", "--env", "CliffWalking-v1", "--fps", "0", "--out", str(target))
    kept = target.read_bytes() == b"a user's file"
    if r.code != 0 and kept:
        return Outcome("REFUSED", f"{r.line()}; --out untouched")
    return Outcome("LOST", f"exit {r.code}; --out {'kept' if kept else 'truncated'}")


def case_flipped_byte(p: Probe) -> Outcome:
    out = killed_run(p, "flipped_byte")
    if out is None:
        return Outcome("SKIPPED", "the run finished before it could be killed")
    c = json.loads((out / "seed_0" / "checkpoint.json").read_text())
    agent = out / "seed_0" / c.get("checkpoint", c)["agent"]
    data = bytearray(agent.read_bytes())
    # A digit in the middle of the state file: still parses, different numbers.
    for i in range(len(data) // 2, len(data)):
        if chr(data[i]).isdigit() and data[i] != ord("7"):
            data[i] = ord("7")
            break
    agent.write_bytes(bytes(data))
    r = p.resume(out)
    if r.code not in (0, -1):
        return Outcome("REFUSED", r.line())
    return Outcome("LOST", "resumed from a corrupted checkpoint")


def case_changed_config(p: Probe) -> Outcome:
    out = killed_run(p, "changed_config")
    if out is None:
        return Outcome("SKIPPED", "the run finished before it could be killed")
    config = out / "config.toml"
    # A different learning rate under the same checkpoint.
    lines = [("alpha = 0.25" if s.startswith("alpha = ") else s)
             for s in config.read_text().splitlines()]
    changed = "\n".join(lines) + "\n"
    config.write_text(changed)
    r = p.resume(out)
    if r.code not in (0, -1):
        return Outcome("REFUSED", r.line())
    return Outcome("LOST", "resumed under a different learning rate")


def case_missing_sidecar(p: Probe) -> Outcome:
    out = killed_run(p, "missing_sidecar")
    if out is None:
        return Outcome("SKIPPED", "the run finished before it could be killed")
    seed = out / "seed_0"
    (seed / "checkpoint.json").unlink()
    before = records(out)
    r = p.resume(out)
    after = records(out)
    if r.code not in (0, -1) and before == after:
        return Outcome("REFUSED", f"{r.line()}; records kept")
    return Outcome("LOST", f"exit {r.code}; the seed's records were {'kept' if before == after else 'deleted and restarted'}")


def case_outside_path(p: Probe) -> Outcome:
    out = killed_run(p, "outside_path")
    if out is None:
        return Outcome("SKIPPED", "the run finished before it could be killed")
    victim = p.scratch / "victim.txt"
    victim.write_text("a user's file")
    sidecar = out / "seed_0" / "checkpoint.json"
    c = json.loads(sidecar.read_text())
    c.get("checkpoint", c)["agent"] = "../../victim.txt"
    sidecar.write_text(json.dumps(c))
    r = p.resume(out)
    kept = victim.is_file() and victim.read_text() == "a user's file"
    if r.code not in (0, -1) and kept:
        return Outcome("REFUSED", f"{r.line()}; the named file untouched")
    return Outcome("LOST", f"exit {r.code}; the named file {'kept' if kept else 'touched'}")


CASES: list[tuple[str, Callable[[Probe], Outcome]]] = [
    ("a seed >= 2^63", case_huge_seed),
    ("--seeds 0..100000000", case_many_seeds),
    ("a failed --resume of a finished run", case_failed_resume_keeps_summary),
    ("every seed fails", case_every_seed_fails),
    ("metrics.csv shorter than its checkpoint", case_short_metrics),
    ("the disk fills during a 20-seed run", case_disk_full),
    ("render --fps 0 over an existing --out", case_render_fps_zero),
    ("a flipped byte in a checkpoint", case_flipped_byte),
    ("config.toml changed under a checkpoint", case_changed_config),
    ("checkpoint.json missing beside records", case_missing_sidecar),
    ("checkpoint.json naming a file outside the run", case_outside_path),
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--qlab", type=Path, default=ROOT / "target" / "release" / "qlab")
    args = parser.parse_args()
    qlab = args.qlab.resolve()
    if not qlab.is_file():
        print(f"{qlab}: no such binary; build it with `cargo build --release`", file=sys.stderr)
        return 2
    lost = 0
    with tempfile.TemporaryDirectory(prefix="qlab-probe-") as scratch:
        p = Probe(qlab, Path(scratch))
        print("| case | verdict | what qlab did |")
        print("|---|---|---|")
        for name, case in CASES:
            o = case(p)
            lost += o.verdict == "LOST"
            detail = o.detail.replace(str(scratch), "SCRATCH").replace("|", "\\|")
            print(f"| {name} | {o.verdict} | {detail} |", flush=True)
    return 1 if lost else 0


if __name__ == "__main__":
    sys.exit(main())
