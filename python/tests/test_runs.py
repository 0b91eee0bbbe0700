"""Runs from Python: `qlab.train` writes the run directory `qlab train` writes, `qlab.load`
reloads its agents, Ctrl-C stops a run cleanly; and the `qlab` console command."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import qlab
from conftest import ROOT, run_qlab

CONFIG = ROOT / "configs" / "cliffwalking_sarsa.toml"
OVERRIDES = {"train.episodes": 30, "train.eval_every": 10, "train.eval_episodes": 2}
SEEDS = [3, 0]
TRAIN = {"episodes": 5}


def records(run: Path) -> dict[str, bytes]:
    """Every file of every seed but those with timings (train.csv, seed_summary.json)."""
    out = {}
    for seed in SEEDS:
        for path in sorted((run / f"seed_{seed}").rglob("*")):
            if path.is_file() and path.name not in ("train.csv", "seed_summary.json"):
                out[str(path.relative_to(run))] = path.read_bytes()
    return out


def test_train_writes_the_run_directory_qlab_train_writes(tmp_path: Path) -> None:
    ours = qlab.train(CONFIG, seeds=SEEDS, out=tmp_path / "py", overrides=OVERRIDES)
    sets = [f"--set={k}={v}" for k, v in OVERRIDES.items()]
    run_qlab("train", str(CONFIG), "--seeds", "3,0", "--out", str(tmp_path / "cli"), "--quiet",
             *sets)
    assert ours.dir == tmp_path / "py"
    got, want = records(tmp_path / "py"), records(tmp_path / "cli")
    names = {Path(n).name for n in got}
    assert {"metrics.csv", "eval.csv", "agent.json"} <= names, names
    assert got.keys() == want.keys()
    for name in got:
        assert got[name] == want[name], name
    assert (tmp_path / "py" / "config.toml").read_bytes() == (
        tmp_path / "cli" / "config.toml"
    ).read_bytes()
    assert [s["seed"] for s in ours] == SEEDS
    summary = json.loads((tmp_path / "py" / "summary.json").read_text())
    assert [s["final_eval_mean_return"] for s in ours] == [
        s["final_eval_mean_return"] for s in summary["per_seed"]
    ]


def test_a_config_as_a_dict_and_overrides_as_sections(tmp_path: Path) -> None:
    config = {
        "env": {"id": "FrozenLake-v1", "is_slippery": False},
        "agent": {"algorithm": "q_learning", "alpha": 0.5, "epsilon": 0.2, "gamma": 0.95},
        "train": {"episodes": 300, "eval_every": 100, "eval_episodes": 3},
    }
    result = qlab.train(config, seeds="0..2", out=tmp_path / "run",
                        overrides={"train": {"episodes": 200}})
    assert [s["seed"] for s in result] == [0, 1]
    assert all(s["episodes"] == 200 for s in result)
    run = qlab.load(result.dir)
    assert run.seed == 0
    # The greedy agent walks from the start to the goal.
    env = qlab.QlabEnv("FrozenLake-v1", is_slippery=False)
    obs, _ = env.reset(seed=0)
    for _ in range(20):
        obs, reward, terminated, _, _ = env.step(run.act(obs))
        if terminated:
            break
    assert reward == 1.0
    evaluated = run.evaluate()
    assert [e["mean_return"] for e in evaluated] == [s["final_eval_mean_return"] for s in result]
    assert run.evaluate(episodes=5)[0]["episodes"] == 5
    with pytest.raises(TypeError, match="act: expected a state index"):
        run.act(np.array([0.5]))


def test_act_reads_features_and_gives_the_actions_the_env_takes(tmp_path: Path) -> None:
    """A tabular agent over tile coding reads the env's observation array; with
    `discretize_action` its action is the Box action the env takes, through `rescale_action`."""
    import gymnasium

    config = {
        "env": {"id": "Pendulum-v1"},
        "wrappers": {"rescale_action": [-1.0, 1.0], "discretize_action": 5},
        "features": {"kind": "tile_coding", "tilings": 4, "tiles": [4, 4, 4],
                     "memory_size": 4096},
        "agent": {"algorithm": "sarsa", "alpha": 0.1, "gamma": 0.99, "epsilon": 0.1},
        "train": {"episodes": 3, "eval_every": 0, "eval_episodes": 1},
    }
    run = qlab.load(qlab.train(config, seeds=[0], out=tmp_path / "pendulum").dir)
    env = gymnasium.make("qlab/Pendulum-v1")
    obs, _ = env.reset(seed=1)
    seen = set()
    for t in range(200):
        action = run.act(obs)
        assert isinstance(action, np.ndarray) and action.dtype == np.float32, action
        assert action.shape == (1,)
        seen.add(float(action[0]))
        obs, _, terminated, truncated, _ = env.step(action)
        if terminated or truncated:
            break
    assert t == 199 and truncated
    # The centres of five equal bins over [−1, 1], rescaled to the torque's [−2, 2].
    grid = np.array([-1.6, -0.8, 0.0, 0.8, 1.6])
    assert all(np.abs(grid - a).min() < 1e-6 for a in seen), seen
    with pytest.raises(TypeError, match="act: expected a float32 array"):
        run.act(3)
    with pytest.raises(ValueError, match="act: expected 3 finite values"):
        run.act(np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match="act: expected 3 finite values"):
        run.act(np.array([0.0, np.nan, 1.0]))

    config = {
        "env": {"id": "MountainCar-v0"},
        "features": {"kind": "discretize", "bins": [6, 6]},
        "agent": {"algorithm": "q_learning", "alpha": 0.1, "epsilon": 0.1},
        "train": {"episodes": 2, "eval_every": 0, "eval_episodes": 1},
    }
    run = qlab.load(qlab.train(config, seeds=[0], out=tmp_path / "car").dir)
    obs, _ = gymnasium.make("qlab/MountainCar-v0").reset(seed=0)
    action = run.act(obs)
    assert isinstance(action, int) and 0 <= action < 3


@pytest.mark.parametrize(
    ("config", "overrides", "error", "needle"),
    [
        ({"env": {"id": "Nope-v0"}, "agent": {"algorithm": "sarsa"}, "train": TRAIN}, None,
         ValueError, "Nope-v0"),
        ({"env": {"id": "CliffWalking-v1"}, "agent": {"algorithm": "sarsa", "alpha": 2.0},
          "train": TRAIN}, None, ValueError, "alpha"),
        ({"env": {"id": "CliffWalking-v1"}}, None, ValueError, "agent"),
        ({"env": {"id": "CliffWalking-v1"}, "agent": {"algorithm": "sarsa"}, "train": TRAIN},
         {"agent.alpha": "high"}, ValueError, "alpha"),
        ({"env": {"id": "CliffWalking-v1"}, "agent": {"algorithm": "sarsa"}},
         {"alpha": 0.3}, ValueError, "SECTION.KEY"),
        ({"env": {"id": None}}, None, TypeError, "env.id"),
        ({"env": {"id": object()}}, None, TypeError, "env.id"),
        (42, None, TypeError, "config must be"),
        ("configs/does_not_exist.toml", None, ValueError, "does_not_exist"),
    ],
)
def test_garbage_configs_raise_value_or_type_errors(
    config: object, overrides: dict[str, object] | None, error: type[Exception], needle: str,
    tmp_path: Path,
) -> None:
    with pytest.raises(error, match=needle):
        qlab.train(config, out=tmp_path / "run", overrides=overrides)  # type: ignore[arg-type]


def test_bad_train_arguments_raise(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="must not exist|exists"):
        qlab.train(CONFIG, seeds=0, out=tmp_path, overrides=OVERRIDES)
    for seeds, error in [([-1], ValueError), (["a"], TypeError), ("x..y", ValueError),
                         ([], ValueError), (True, TypeError)]:
        with pytest.raises(error):
            qlab.train(CONFIG, seeds=seeds, out=tmp_path / "x", overrides=OVERRIDES)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="no config.toml"):
        qlab.load(tmp_path)


def test_ctrl_c_stops_a_run_cleanly_with_the_resume_command(tmp_path: Path) -> None:
    script = textwrap.dedent(f"""
        import os, signal, threading, qlab
        threading.Timer(1.0, lambda: os.kill(os.getpid(), signal.SIGINT)).start()
        try:
            qlab.train({str(CONFIG)!r}, seeds="0..4", out={str(tmp_path / "run")!r}, threads=1,
                       overrides={{"train.episodes": 10**9}})
        except KeyboardInterrupt as e:
            print("interrupted:", e)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120)
    assert "interrupted: interrupted by SIGINT" in done.stdout, done.stdout + done.stderr
    assert "qlab train --resume" in done.stdout
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["status"] == "interrupted"


def test_the_console_command_runs_the_cli_with_its_exit_codes(tmp_path: Path) -> None:
    from qlab._cli import main  # noqa: F401  (the entry point exists)

    command = [sys.executable, "-c", "from qlab._cli import main; main()"]
    envs = subprocess.run([*command, "envs"], capture_output=True, text=True)
    assert envs.returncode == 0 and envs.stdout == run_qlab("envs").stdout
    bad = subprocess.run([*command, "train", "nope.toml"], capture_output=True, text=True)
    assert bad.returncode == 2 and bad.stderr.startswith("error: "), bad.stderr
    usage = subprocess.run([*command, "frobnicate"], capture_output=True, text=True)
    assert usage.returncode == 2 and "frobnicate" in usage.stderr
    version = subprocess.run([*command, "--version"], capture_output=True, text=True)
    assert version.returncode == 0 and version.stdout == f"qlab {qlab.__version__}\n"
    rollout = subprocess.run([*command, "rollout", "--env", "FrozenLake-v1", "--seed", "4"],
                             capture_output=True, text=True)
    assert rollout.stdout == run_qlab("rollout", "--env", "FrozenLake-v1", "--seed", "4").stdout
