"""Reference numbers for qlab's `stats` module from `rliable` (Agarwal et al. 2021, "Deep RL at
the Edge of the Statistical Precipice").

Installs nothing: run it in a virtual environment made for it, e.g.

    python3 -m venv VENV && VENV/bin/pip install rliable numpy scipy "pandas<3"
    VENV/bin/python tools/rliable_reference.py

(`arch` 7.2, which rliable bootstraps with, does not import under pandas 3.) The 50,000
resamples in Python take about ten minutes.

It builds a few fixed score matrices (runs x tasks, rliable's convention) from a seeded numpy
generator and writes `tests/data/rliable_reference.json` with rliable's point estimates (IQM,
mean, median, optimality gap, probability of improvement, performance profiles) and its
stratified-bootstrap 95% percentile intervals over 50,000 resamples. The unit tests of
`src/stats.rs` read that file.

rliable's bootstraps draw their indices from numpy's global generator (`np.random.choice`),
not from `random_state`, so the script seeds that generator once before the intervals.
"""

import json
import os
import sys
from importlib.metadata import version

import numpy as np
from rliable import library as rly
from rliable import metrics

REPS = 50_000
CONFIDENCE = 0.95
OUT = os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data", "rliable_reference.json"
)


def matrices():
    """The score matrices, by name: runs x tasks."""
    rng = np.random.default_rng(20210813)
    m = {}
    # One task, 10 seeds, small integers: many ties, and int(0.25 * 10) = 2 cut at each end.
    m["ties_10x1"] = rng.integers(0, 6, size=(10, 1)).astype(float)
    m["ties_10x1_b"] = rng.integers(1, 7, size=(10, 1)).astype(float)
    # Five tasks of seven runs, one decimal (ties within and across matrices); 35 entries, 8 cut
    # at each end.
    shift = np.arange(5) * 0.5
    m["tasks_7x5"] = np.round(rng.normal(0.0, 1.0, size=(7, 5)) + shift, 1)
    m["tasks_7x5_b"] = np.round(rng.normal(0.3, 1.0, size=(7, 5)) + shift, 1)
    # Three seeds: int(0.25 * 3) = 0, so the IQM is the plain mean.
    m["tiny_3x1"] = np.round(rng.normal(0.0, 1.0, size=(3, 1)), 3)
    m["tiny_3x1_b"] = np.round(rng.normal(0.5, 1.0, size=(3, 1)), 3)
    return m


def interval(func, scores, reps=REPS):
    """rliable's point estimate and 95% percentile interval of `func` over `scores` (an array,
    or a tuple of arrays bootstrapped independently)."""
    point, ci = rly.get_interval_estimates(
        {"k": scores}, func, reps=reps, confidence_interval_size=CONFIDENCE
    )
    point = np.atleast_1d(np.asarray(point["k"], dtype=float))
    ci = np.asarray(ci["k"], dtype=float).reshape(2, -1)
    return point.tolist(), ci[0].tolist(), ci[1].tolist()


def main():
    np.random.seed(12345)
    m = matrices()
    out = {
        "generator": "tools/rliable_reference.py",
        "versions": {p: version(p) for p in ("rliable", "numpy", "scipy", "arch")},
        "reps": REPS,
        "confidence": CONFIDENCE,
        "matrices": {k: v.tolist() for k, v in m.items()},
        "aggregates": [],
        "probability_of_improvement": [],
        "profiles": [],
    }
    # The optimality gap's gamma: a level inside each matrix's range, so that the minimum bites.
    gammas = {
        "ties_10x1": 3.0,
        "ties_10x1_b": 4.0,
        "tasks_7x5": 1.0,
        "tasks_7x5_b": 1.5,
        "tiny_3x1": 0.0,
        "tiny_3x1_b": 0.5,
    }
    for name, scores in m.items():
        gamma = gammas[name]

        def aggregates(x, gamma=gamma):
            return np.array(
                [
                    metrics.aggregate_iqm(x),
                    metrics.aggregate_mean(x),
                    metrics.aggregate_median(x),
                    metrics.aggregate_optimality_gap(x, gamma),
                ]
            )

        point, low, high = interval(aggregates, scores)
        entry = {"matrix": name, "gamma": gamma}
        for i, key in enumerate(["iqm", "mean", "median", "optimality_gap"]):
            entry[key] = {"point": point[i], "low": low[i], "high": high[i]}
        out["aggregates"].append(entry)
    for x, y in [
        ("ties_10x1_b", "ties_10x1"),
        ("tasks_7x5_b", "tasks_7x5"),
        ("tasks_7x5", "tasks_7x5_b"),
        ("tiny_3x1_b", "tiny_3x1"),
        ("tiny_3x1", "ties_10x1"),
        ("tasks_7x5", "tasks_7x5"),
    ]:
        point, low, high = interval(
            metrics.probability_of_improvement, (m[x], m[y])
        )
        out["probability_of_improvement"].append(
            {"x": x, "y": y, "point": point[0], "low": low[0], "high": high[0]}
        )
    for name, taus in [
        ("ties_10x1", [-1.0, 0.0, 2.0, 2.5, 5.0]),
        ("tasks_7x5", [-1.0, 0.0, 0.5, 1.0, 2.0, 3.5]),
        ("tiny_3x1", [-2.0, 0.0, 1.0]),
    ]:
        profiles, cis = rly.create_performance_profile(
            {"k": m[name]}, np.array(taus), reps=REPS, confidence_interval_size=CONFIDENCE
        )
        ci = np.asarray(cis["k"], dtype=float)
        out["profiles"].append(
            {
                "matrix": name,
                "taus": taus,
                "point": np.asarray(profiles["k"], dtype=float).tolist(),
                "low": ci[0].tolist(),
                "high": ci[1].tolist(),
            }
        )
    # numpy's default percentile (linear between order statistics), which arch's percentile
    # intervals use.
    v = m["tasks_7x5"].ravel()
    qs = [0.0, 2.5, 50.0, 97.5, 100.0]
    out["percentiles"] = {
        "values": v.tolist(),
        "q": qs,
        "numpy": np.percentile(v, qs).tolist(),
    }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print(f"wrote {os.path.relpath(OUT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
