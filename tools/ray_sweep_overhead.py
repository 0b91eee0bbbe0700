"""What the Ray executor costs per unit (one seed of one point) against the local executor on
one machine (BENCHMARKS.md, "Sweeps on Ray"): the shipped cliff-walk grid (20 points × 10 seeds,
each seed 500 episodes) and the same grid with 2 seeds a point, each run RUNS times with
`--executor local` and with `--executor ray` on a Ray head of this machine's cores that the
script starts (and stops). Prints each run's wall time and the medians.

    python tools/ray_sweep_overhead.py [RUNS]     # the package's qlab and Ray on the PATH
"""

from __future__ import annotations

import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    cpus = os.cpu_count() or 1
    grid = (ROOT / "sweeps" / "cliffwalking_sarsa_grid.toml").read_text()
    grid = grid.replace('base = "../', f'base = "{ROOT}/')
    sweeps = {"2 seeds": (re.sub(r'(?m)^seeds = .*$', 'seeds = "0..2"', grid), 40),
              "10 seeds": (grid, 200)}
    port = random.randrange(20000, 40000)
    address = f"127.0.0.1:{port}"
    subprocess.run(["ray", "start", "--head", f"--port={port}", f"--num-cpus={cpus}",
                    "--include-dashboard=false", "--disable-usage-stats"],
                   check=True, capture_output=True)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            print(f"{cpus} CPUs; Ray head at {address}")
            medians: dict[tuple[str, str], float] = {}
            for name, (text, units) in sweeps.items():
                path = Path(tmp) / f"{name.replace(' ', '_')}.toml"
                path.write_text(text)
                for executor in ("local", "ray"):
                    times = []
                    for run in range(runs):
                        out = Path(tmp) / f"{path.stem}-{executor}-{run}"
                        extra = ["--executor", "ray", "--address", address] if executor == "ray" else []
                        start = time.perf_counter()
                        subprocess.run(["qlab", "sweep", str(path), "--out", str(out), "-q",
                                        "--threads", str(cpus), *extra],
                                       check=True, capture_output=True)
                        times.append(time.perf_counter() - start)
                    m = statistics.median(times)
                    medians[(name, executor)] = m
                    shown = ", ".join(f"{t:.3f}" for t in times)
                    print(f"{name} ({units} units), {executor}: {shown} s; median {m:.3f} s, "
                          f"{1000 * m / units:.2f} ms a unit")
            for executor in ("local", "ray"):
                extra_units = sweeps["10 seeds"][1] - sweeps["2 seeds"][1]
                marginal = medians[("10 seeds", executor)] - medians[("2 seeds", executor)]
                print(f"{executor}: {1000 * marginal / extra_units:.2f} ms for each unit more "
                      f"(the difference of the medians over the {extra_units} units more)")
    finally:
        subprocess.run(["ray", "stop", "--force"], capture_output=True)


if __name__ == "__main__":
    main()
