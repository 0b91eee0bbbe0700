"""Sutton & Barto's Figure 12.10 measure over a grid of λ and α: SARSA(λ) on Mountain Car.

Runs `qlab train configs/mountaincar_sarsa_lambda.toml` once per (λ, α) with `--set`, reads
each seed's `metrics.csv` (the run's own record), and prints the mean number of steps per
episode over the first EPISODES episodes, averaged over the seeds, as a Markdown table (rows
λ, columns α × 8, i.e. qlab's `alpha`: it is already divided among the 8 active tiles), with
the standard error over seeds. The standard library is enough.

    python3 tools/mountaincar_grid.py [--qlab qlab] [--config configs/mountaincar_sarsa_lambda.toml]
        [--lambdas 0,0.68,...] [--alphas 0.1,0.2,...] [--seeds 0..100] [--episodes 50]
        [--out runs/mountaincar_grid] [--keep]

The run directories go under --out and are removed once read unless --keep is given; the
per-seed numbers are written to OUT/grid.csv (`lambda,alpha,seed,mean_steps`), and the
table to OUT/grid.md.
"""

import argparse
import csv
import math
import shutil
import statistics
import subprocess
import sys
from pathlib import Path


def floats(text):
    return [float(x) for x in text.split(",") if x]


def mean_steps(run, episodes):
    """Each seed's mean episode length over the first `episodes` episodes."""
    out = {}
    for seed_dir in sorted(run.glob("seed_*"), key=lambda p: int(p.name[5:])):
        with open(seed_dir / "metrics.csv", newline="") as f:
            lengths = [int(r["length"]) for r in csv.DictReader(f)][:episodes]
        if len(lengths) < episodes:
            sys.exit(f"{seed_dir}: {len(lengths)} episodes, fewer than {episodes}")
        out[int(seed_dir.name[5:])] = statistics.fmean(lengths)
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--qlab", default="qlab")
    p.add_argument("--config", default="configs/mountaincar_sarsa_lambda.toml")
    p.add_argument("--lambdas", default="0,0.68,0.84,0.92,0.96,0.98,0.99")
    p.add_argument("--alphas", default="0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9,1.0")
    p.add_argument("--seeds", default="0..100")
    p.add_argument("--episodes", type=int, default=50)
    p.add_argument("--threads", default="1")
    p.add_argument("--out", default="runs/mountaincar_grid")
    p.add_argument("--keep", action="store_true")
    args = p.parse_args()

    lambdas, alphas = floats(args.lambdas), floats(args.alphas)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    cells = {}
    with open(out / "grid.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["lambda", "alpha", "seed", "mean_steps"])
        for lam in lambdas:
            for alpha in alphas:
                run = out / f"lambda{lam}_alpha{alpha}"
                if run.exists():
                    sys.exit(f"{run} exists: choose another --out")
                cmd = [args.qlab, "train", args.config, "--seeds", args.seeds,
                       "--threads", args.threads, "--set", f"agent.lambda={lam}",
                       "--set", f"agent.alpha={alpha}",
                       "--set", f"train.episodes={args.episodes}",
                       "--out", str(run), "-q"]
                subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
                per_seed = mean_steps(run, args.episodes)
                for seed, m in per_seed.items():
                    w.writerow([lam, alpha, seed, repr(m)])
                xs = list(per_seed.values())
                sem = statistics.stdev(xs) / math.sqrt(len(xs)) if len(xs) > 1 else math.nan
                cells[lam, alpha] = (statistics.fmean(xs), sem, len(xs))
                if not args.keep:
                    shutil.rmtree(run)
                print(f"λ={lam} α·8={alpha}: {cells[lam, alpha][0]:.1f} ± {sem:.1f}",
                      file=sys.stderr)

    n = {c[2] for c in cells.values()}
    lines = [
        f"Steps per episode over the first {args.episodes} episodes, mean ± standard error "
        f"over {'/'.join(map(str, sorted(n)))} seeds",
        "",
        "| λ \\ α·8 | " + " | ".join(f"{a:g}" for a in alphas) + " |",
        "|---|" + "---:|" * len(alphas),
    ]
    best = min(cells, key=lambda k: cells[k][0])
    for lam in lambdas:
        row = []
        for a in alphas:
            m, sem, _ = cells[lam, a]
            text = f"{m:.1f} ± {sem:.1f}"
            row.append(f"**{text}**" if (lam, a) == best else text)
        lines.append(f"| {lam:g} | " + " | ".join(row) + " |")
    lines += ["", f"best: λ = {best[0]:g}, α·8 = {best[1]:g}: {cells[best][0]:.1f} steps"]
    table = "\n".join(lines) + "\n"
    (out / "grid.md").write_text(table)
    print(table, end="")


if __name__ == "__main__":
    main()
