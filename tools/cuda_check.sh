#!/usr/bin/env bash
# Runs on a machine with an NVIDIA GPU and driver the binaries that tools/cuda_build.sh built
# (gpu/qlab, gpu/nn-tests), from the repository's root:
#
#     tools/cuda_check.sh OUT_DIR
#
# 1. the network tests of the cuda build, the GPU's results against the CPU's;
# 2. every DQN config with `device = "cuda"` at a small budget; reloading, attacking and
#    resuming a GPU run;
# 3. timed full runs of one seed, GPU and CPU: configs/cartpole_dqn.toml and
#    configs/pixel_gridworld_cnn_dqn.toml;
# 4. Stable-Baselines3 on the same GPU, where python3 has torch, from the wheels that
#    tools/cuda_build.sh put in gpu/wheels.
#
# Nothing needs a network. Each step's output goes to OUT_DIR/<step>.log, its runs under
# OUT_DIR/runs, and a line of the table at the end (OUT_DIR/summary.txt: exit status and
# seconds); a failed step does not stop the later ones. QLAB_CHECK_DEVICE=cpu runs the same
# steps on the CPU, to try the script itself on a machine without a GPU.
set -uo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: tools/cuda_check.sh OUT_DIR}
mkdir -p "$out"

# The CUDA libraries the binaries link to, wherever this machine has them (a toolkit under
# /usr/local, or NVIDIA's Python wheels next to torch).
for lib in libcublas.so.13 libcublasLt.so.13 libcurand.so.10 libnvrtc.so.13 libcuda.so.1; do
  path=$(find /usr/local /usr/lib /usr/lib64 /opt -name "$lib" 2>/dev/null | grep -v /stubs/ | head -n 1)
  [ -n "$path" ] && LD_LIBRARY_PATH="$(dirname "$path")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
done
export LD_LIBRARY_PATH
export RAYON_NUM_THREADS=1
gpu=${QLAB_CHECK_DEVICE:-cuda}

summary=()
step() {
  local name=$1
  shift
  local t0 rc ms
  t0=$(date +%s%N)
  "$@" >"$out/$name.log" 2>&1
  rc=$?
  ms=$((($(date +%s%N) - t0) / 1000000))
  summary+=("$(printf '%-40s %4s %6d.%03d' "$name" "$rc" $((ms / 1000)) $((ms % 1000)))")
  tail -n 3 "$out/$name.log"
}

step gpu nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv
step libraries bash -c 'ldd gpu/qlab gpu/nn-tests; ! ldd gpu/qlab gpu/nn-tests | grep -q "not found"'
step nn-tests gpu/nn-tests

# Every DQN config on the GPU, briefly: 2,000 steps, 5 evaluation episodes.
for config in $(grep -l '^algorithm = "dqn"' configs/*.toml); do
  name=$(basename "$config" .toml)
  step "smoke-$name" gpu/qlab train "$config" --seeds 0 --threads 1 --out "$out/runs/smoke-$name" \
    --set agent.device="$gpu" --set train.steps=2000 --set agent.learning_starts=500 \
    --set train.eval_every=1000 --set train.eval_episodes=5
done

# A saved GPU agent reloads and evaluates, and is attacked through its input gradients.
smoke=$out/runs/smoke-cartpole_dqn
step eval gpu/qlab eval "$smoke" --episodes 5
step attack gpu/qlab attack "$smoke" --attack fgsm,pgd --eps 0.05 --episodes 5

# A run killed with SIGKILL after its first checkpoint and resumed, against one never
# interrupted: which files come out byte-identical on the GPU.
resume() {
  local whole=$out/runs/resume-whole killed=$out/runs/resume-killed pid f
  local args=(--seeds 0 --threads 1 -q --set agent.device="$gpu" --set train.steps=10000
              --set train.checkpoint_every=2000 --set train.eval_every=5000)
  gpu/qlab train configs/cartpole_dqn.toml --out "$whole" "${args[@]}" || return 1
  gpu/qlab train configs/cartpole_dqn.toml --out "$killed" "${args[@]}" &
  pid=$!
  until [ -f "$killed/seed_0/checkpoint.json" ]; do
    kill -0 "$pid" 2>/dev/null || { echo "the run ended before its first checkpoint"; return 1; }
    sleep 0.01
  done
  kill -9 "$pid"
  wait "$pid"
  gpu/qlab train --resume "$killed" -q || return 1
  for f in metrics.csv eval.csv q.safetensors; do
    if cmp -s "$whole/seed_0/$f" "$killed/seed_0/$f"; then echo "$f identical"; else echo "$f differs"; fi
  done
}
step resume resume

# Whole runs of one seed, on the GPU and on one CPU core, as in RESULTS.md.
for config in cartpole_dqn pixel_gridworld_cnn_dqn; do
  for device in $(printf '%s\n' "$gpu" cpu | uniq); do
    step "$config-$device" gpu/qlab train "configs/$config.toml" --seeds 0 --threads 1 \
      --out "$out/runs/$config-$device" --set agent.device=$device
  done
done

# The reference: Stable-Baselines3 with the same settings, its networks on the GPU.
if ls gpu/wheels/*.whl >/dev/null 2>&1; then
  site=$(mktemp -d)
  python3 -m pip install -q --no-index --no-deps --target "$site" gpu/wheels/*.whl
  step "sb3-cartpole-$gpu" env PYTHONPATH="$site" PYTHONUNBUFFERED=1 \
    python3 tools/sb3_cartpole_dqn.py --seeds 0 --device "$gpu"
fi

echo
printf '%-40s %4s %10s\n' step rc seconds
printf '%s\n' "${summary[@]}" | tee "$out/summary.txt"
