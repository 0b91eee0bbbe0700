#!/usr/bin/env bash
# Runs every shipped tabular config (seeds 0..3) with two builds of `qlab` and compares each
# seed's metrics.csv and eval.csv byte for byte.
#
#   tools/compare_builds.sh OLD_QLAB NEW_QLAB [OUT_DIR]
#
# A config whose agent is `dqn` is skipped (its bits are checked by its own runs). Exits 1 when
# any file differs, naming it.
set -euo pipefail
old=$1
new=$2
out=${3:-$(mktemp -d)}
cd "$(dirname "$0")/.."
status=0
for config in configs/*.toml; do
  if grep -q '^algorithm *= *"dqn"' "$config"; then
    continue
  fi
  name=$(basename "$config" .toml)
  for build in old new; do
    bin=$old
    [ "$build" = new ] && bin=$new
    rm -rf "$out/$build/$name"
    "$bin" train "$config" --seeds 0..3 --quiet --out "$out/$build/$name" >/dev/null
  done
  for seed in 0 1 2; do
    for file in metrics.csv eval.csv; do
      a=$out/old/$name/seed_$seed/$file
      b=$out/new/$name/seed_$seed/$file
      if ! cmp -s "$a" "$b"; then
        echo "DIFFERS: $name seed $seed $file"
        status=1
      fi
    done
  done
  echo "$name: compared"
done
exit $status
