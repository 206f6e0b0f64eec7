#!/usr/bin/env bash
# Builds and runs the training benchmark: the date model of examples/dates/dates.attn compiled by
# attnc vs the same model in PyTorch eager: a gradient check on one batch, training-step throughput
# (target tokens/s) at 1 thread and at all threads with a breakdown, and the time to 99% held-out
# greedy exact match from the same initial weights on the same batch stream.
#   bench/train/run.sh [train_bench options, e.g. --reps 5 --no-converge --no-torch]
# ATTN_BUILD_DIR: the build folder (default build/; configured here if it is not yet).
# PyTorch comes from ATTN_BENCH_PYTHON (default python3); without torch and safetensors the
# benchmark prints how to install them (pip install torch safetensors) and only times attnc.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
build="${ATTN_BUILD_DIR:-$root/build}"
if [ ! -f "$build/build.ninja" ]; then
  cmake -G Ninja -S "$root" -B "$build"
fi
ninja -C "$build" -j"${JOBS:-2}" train_bench
exec "$build/bench/train/train_bench" "$@"
