#!/usr/bin/env bash
# The test command: the Rust workspace's tests, then the Python package's (python/tests) in a
# virtual environment under target/ that this script creates and fills.
#
#   tools/test.sh            # both halves
#   QLAB_VENV=DIR tools/test.sh   # another place for the virtual environment
set -euo pipefail
cd "$(dirname "$0")/.."

cargo test --workspace --features qlab-envs/serde,qlab-envs/gymnasium-rs

# The extension is built into the workspace's target/ (profile `python`), so that a second
# run, and CI with a cached target/, rebuild only what changed.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
venv="${QLAB_VENV:-$PWD/target/python-venv}"
python="${PYTHON:-python3.11}"
if [ ! -x "$venv/bin/python" ]; then
  "$python" -m venv "$venv"
fi
pip=("$venv/bin/python" -m pip --disable-pip-version-check --quiet)
# Torch's CPU-only wheels are a tenth of the default ones; PyPI's are the fallback.
if ! "$venv/bin/python" -c "import torch" 2>/dev/null; then
  if curl -sfI --max-time 10 https://download.pytorch.org/whl/cpu/ >/dev/null 2>&1; then
    "${pip[@]}" install torch --index-url https://download.pytorch.org/whl/cpu
  fi
fi
# The test requirements pin the package's `ray` and `tune` extras (Ray, Optuna) too: the sweep
# executor's tests start a Ray head of their own.
"${pip[@]}" install -r python/requirements-test.txt
"${pip[@]}" install --force-reinstall --no-deps ./python
# The cargo-built binary the tests compare the package's command with.
export QLAB_BIN="$CARGO_TARGET_DIR/debug/qlab"
cd python/tests
"$venv/bin/python" -m pytest -q
