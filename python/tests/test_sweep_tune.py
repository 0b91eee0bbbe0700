"""`qlab sweep` with `method = "tpe"` (Optuna's TPESampler) and `[stop]` schedulers (Optuna's
pruners), on the package's local executor: the same sweep file gives the same points and the
same decisions, a resumed sweep ends as one never stopped, and each decision is the pruner's
own on the points' evaluation curves."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

try:
    import optuna
except ImportError as e:  # pragma: no cover - only where Optuna cannot be installed
    print(f"test_sweep_tune: skipped: Optuna cannot be imported here: {e}", file=sys.stderr)
    pytest.skip(f"Optuna cannot be imported here: {e}", allow_module_level=True)

QLAB = str(Path(sys.executable).parent / "qlab")
"""The package's `qlab` command."""

MOUNTAIN_CAR = json.dumps(str(ROOT / "configs" / "mountaincar_sarsa_lambda.toml"))

TPE = """\
base = "base.toml"
seeds = [0, 1]
metric = "final_window_mean_return"

[grid]
"agent.epsilon" = [0.05, 0.2]

[search]
method = "tpe"
trials = 14
seed = 3

[search.space]
"agent.alpha" = { loguniform = [0.01, 1.0] }
"agent.gamma" = { uniform = [0.8, 1.0] }
"train.episodes" = { int = [4, 9] }
"agent.policy" = { choice = ["epsilon_greedy", "softmax"] }
"""

BASE = """\
[env]
id = "CliffWalking-v1"

[agent]
algorithm = "sarsa"
alpha = 0.5
epsilon = 0.1

[train]
episodes = 12
seeds = "0..5"
eval_every = 6
eval_episodes = 1
eval_max_steps = 60
max_steps_per_episode = 200
"""

STOP = f"""\
base = {MOUNTAIN_CAR}
seeds = [0, 1]

[grid]
"agent.alpha" = [1.0, 0.05, 0.5, 0.02, 0.8, 0.1, 0.3]
"train.episodes" = [40]
"train.eval_every" = [5]
"train.eval_episodes" = [2]

[stop]
scheduler = "SCHEDULER"
"""
"""Mountain car with tile coding over step sizes from hopeless to good: the evaluations
(minus the steps to the goal) part early."""


def sweep(path: Path, out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    """Runs `qlab sweep PATH --out OUT -q EXTRA…` with the package's command."""
    result = subprocess.run([QLAB, "sweep", str(path), "--out", str(out), "-q", *extra],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    return result


def rows(out: Path) -> list[dict[str, str]]:
    """`sweep.csv`'s rows."""
    with open(out / "sweep.csv", newline="") as f:
        return list(csv.DictReader(f))


def write(tmp: Path, name: str, text: str) -> Path:
    """The sweep file `text` as `name`, beside the cliff-walk base config."""
    (tmp / "base.toml").write_text(BASE)
    path = tmp / name
    path.write_text(text)
    return path


def test_tpe_draws_the_same_points_from_the_same_sweep_file(tmp_path: Path) -> None:
    path = write(tmp_path, "tpe.toml", TPE)
    sweep(path, tmp_path / "one")
    sweep(path, tmp_path / "two", "--threads", "1")
    one = (tmp_path / "one" / "sweep.csv").read_bytes()
    assert one == (tmp_path / "two" / "sweep.csv").read_bytes()
    table = rows(tmp_path / "one")
    assert [r["point"] for r in table] == [f"p{i:03}" for i in range(16)]
    assert all(r["status"] == "finished" for r in table)
    for r in table[2:]:
        assert 0.01 <= float(r["agent.alpha"]) <= 1.0
        assert 0.8 <= float(r["agent.gamma"]) <= 1.0
        assert 4 <= int(r["train.episodes"]) <= 9
        assert r["agent.policy"] in ("epsilon_greedy", "softmax")
        config = (tmp_path / "one" / r["point"] / "config.toml").read_text()
        assert f"alpha = {r['agent.alpha']}\n" in config
    # The trials are Optuna's TPESampler's, seeded with [search] seed: before it has 10
    # trials to model (its n_startup_trials), it draws them at random, whatever the results.
    study = optuna.create_study(direction="maximize",
                                sampler=optuna.samplers.TPESampler(seed=3))
    distributions = {
        "agent.alpha": optuna.distributions.FloatDistribution(0.01, 1.0, log=True),
        "agent.gamma": optuna.distributions.FloatDistribution(0.8, 1.0),
        "train.episodes": optuna.distributions.IntDistribution(4, 9),
        "agent.policy": optuna.distributions.CategoricalDistribution([0, 1]),
    }
    for _ in range(2):
        study.tell(study.ask(), 0.0)
    for r in table[2:10]:
        trial = study.ask(distributions)
        assert repr(trial.params["agent.alpha"]) == r["agent.alpha"]
        assert repr(trial.params["agent.gamma"]) == r["agent.gamma"]
        assert trial.params["train.episodes"] == int(r["train.episodes"])
        assert ["epsilon_greedy", "softmax"][trial.params["agent.policy"]] == r["agent.policy"]
        study.tell(trial, 0.0)
    # A sweep stopped before its last trials ran (their directories gone) resumes to the
    # same points: the study is rebuilt from the trials on disk.
    for name in ("p013", "p014", "p015"):
        shutil.rmtree(tmp_path / "one" / name)
    (tmp_path / "one" / "best.toml").unlink()
    sweep(path, tmp_path / "one", "--resume")
    assert (tmp_path / "one" / "sweep.csv").read_bytes() == one


def curve(point: Path, seeds: list[int]) -> list[tuple[int, float]]:
    """The point's evaluations, each its episode and its mean return over `seeds`."""
    per_seed = []
    for s in seeds:
        with open(point / f"seed_{s}" / "eval.csv", newline="") as f:
            per_seed.append([(int(r["episode"]), float(r["mean_return"]))
                             for r in csv.DictReader(f)])
    n = min(len(c) for c in per_seed)
    return [(per_seed[0][k][0], sum(c[k][1] for c in per_seed) / len(per_seed))
            for k in range(n)]


@pytest.mark.parametrize("scheduler", ["median", "asha"])
def test_a_pruner_stops_points_where_optuna_says(tmp_path: Path, scheduler: str) -> None:
    path = tmp_path / "stop.toml"
    path.write_text(STOP.replace("SCHEDULER", scheduler))
    out = tmp_path / "one"
    sweep(path, out)
    table = rows(out)
    stopped = [r for r in table if r["status"] == "stopped"]
    assert stopped, table
    assert any(r["status"] == "finished" for r in table)
    # Each point's curve, told to the pruner in point order, gives the sweep's decisions.
    pruner = {"median": optuna.pruners.MedianPruner(),
              "asha": optuna.pruners.SuccessiveHalvingPruner()}[scheduler]
    study = optuna.create_study(direction="maximize", pruner=pruner)
    for r in table:
        trial = study.ask()
        point = out / r["point"]
        stopped_at = None
        for step, value in curve(point, [0, 1]):
            trial.report(value, step)
            if step < 40 and trial.should_prune():
                stopped_at = step
                break
        if stopped_at is None:
            assert r["status"] == "finished" and r["stopped_at"] == "", r
            study.tell(trial, float(r["metric_mean"]))
        else:
            assert r["status"] == "stopped" and int(r["stopped_at"]) == stopped_at, r
            study.tell(trial, state=optuna.trial.TrialState.PRUNED)
            # Its seeds ended at that evaluation, each a whole run directory.
            summary = json.loads((point / "summary.json").read_text())
            assert summary["status"] == "complete"
            for line in summary["per_seed"]:
                assert line["episodes"] == stopped_at
                assert line["stopped_at_step"] == line["steps"]
            assert sorted(p.name for p in (point / "seed_0").iterdir()) == [
                "agent.bin", "agent.json", "eval.csv", "metrics.csv", "seed_summary.json"]
    # The same sweep again, and resumed after its last points were lost, decides the same.
    sweep(path, tmp_path / "two", "--threads", "1")
    assert (tmp_path / "two" / "sweep.csv").read_bytes() == (out / "sweep.csv").read_bytes()
    for r in table[-3:]:
        shutil.rmtree(out / r["point"])
    sweep(path, out, "--resume")
    assert (tmp_path / "two" / "sweep.csv").read_bytes() == (out / "sweep.csv").read_bytes()


def test_a_stop_scheduler_needs_the_package_and_a_maximum(tmp_path: Path) -> None:
    path = tmp_path / "min.toml"
    path.write_text(STOP.replace("SCHEDULER", "median").replace("seeds =", 'mode = "min"\nseeds ='))
    result = subprocess.run([QLAB, "sweep", str(path), "--out", str(tmp_path / "x")],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.startswith(f"error: {path}:12: [stop] a [stop] scheduler"), result.stderr
    assert not (tmp_path / "x").exists()
