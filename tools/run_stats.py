"""Numbers from qlab run directories, as RESULTS.md quotes them.

Reads only a run's own records (`summary.json`, `seed_<k>/metrics.csv`); the standard library
is enough.

    python3 tools/run_stats.py window RUN_DIR FIRST LAST
        mean training return over episodes FIRST..LAST (1-based, inclusive) of each seed,
        then the mean over seeds and its standard error
    python3 tools/run_stats.py solved RUN_DIR THRESHOLD [WINDOW]
        for each seed, the first episode at which the mean return of the last WINDOW
        (default 100) episodes reached THRESHOLD, and the best such mean
    python3 tools/run_stats.py rmse RUN_DIR
        mean over episodes of `value_rmse`, averaged over seeds (Sutton & Barto's
        "average RMS error over the first episodes")
    python3 tools/run_stats.py summary RUN_DIR
        per seed: episodes, steps, final greedy evaluation
"""

import csv
import json
import math
import statistics
import sys
from pathlib import Path


def seeds(run):
    return [s["seed"] for s in json.loads((run / "summary.json").read_text())["per_seed"]]


def rows(run, seed):
    with open(run / f"seed_{seed}" / "metrics.csv", newline="") as f:
        return list(csv.DictReader(f))


def mean_and_sem(xs):
    m = statistics.fmean(xs)
    sem = statistics.stdev(xs) / math.sqrt(len(xs)) if len(xs) > 1 else float("nan")
    return m, sem


def window(run, first, last):
    per_seed = []
    for s in seeds(run):
        r = rows(run, s)[first - 1 : last]
        per_seed.append(statistics.fmean(float(x["return"]) for x in r))
    m, sem = mean_and_sem(per_seed)
    print(f"mean return over episodes {first}-{last}: {m:.3f} ± {sem:.3f} (standard error, "
          f"{len(per_seed)} seeds; min {min(per_seed):.2f}, max {max(per_seed):.2f})")


def solved(run, threshold, size):
    reached = 0
    for s in seeds(run):
        returns = [float(x["return"]) for x in rows(run, s)]
        first, best, total = None, -math.inf, 0.0
        for i, r in enumerate(returns):
            total += r
            if i >= size:
                total -= returns[i - size]
            if i + 1 >= size:
                mean = total / size
                best = max(best, mean)
                if first is None and mean >= threshold:
                    first = i + 1
        reached += first is not None
        print(f"seed {s}: first reached at episode {first}, best {size}-episode mean {best:.1f}")
    print(f"{reached} of {len(seeds(run))} seeds reached a {size}-episode mean of {threshold}")


def rmse(run):
    per_seed = [statistics.fmean(float(x["value_rmse"]) for x in rows(run, s)) for s in seeds(run)]
    m, sem = mean_and_sem(per_seed)
    print(f"value_rmse averaged over episodes and {len(per_seed)} seeds: {m:.4f} ± {sem:.4f}")


def summary(run):
    s = json.loads((run / "summary.json").read_text())
    for p in s["per_seed"]:
        print(f"seed {p['seed']}: {p['episodes']} episodes, {p['steps']} steps, "
              f"final evaluation {p['final_eval_mean_return']:.3f}")
    a = s["aggregate"]
    print(f"all: {a['episodes'] / a['seeds']:.1f} episodes per seed, "
          f"final evaluation {a['final_eval_mean_return']:.3f} "
          f"(std over seeds {a['final_eval_mean_return_std']:.3f})")


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__)
    what, run = argv[1], Path(argv[2])
    if what == "window":
        window(run, int(argv[3]), int(argv[4]))
    elif what == "solved":
        solved(run, float(argv[3]), int(argv[4]) if len(argv) > 4 else 100)
    elif what == "rmse":
        rmse(run)
    elif what == "summary":
        summary(run)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
