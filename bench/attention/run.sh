#!/usr/bin/env bash
# Builds and runs the attention benchmark (fused vs unfused Halide kernels vs PyTorch SDPA).
#   bench/attention/run.sh [attention_bench options, e.g. --reps 20 --length 1024]
# PyTorch comes from ATTN_BENCH_PYTHON (default python3); without it the benchmark prints how
# to install it (pip install torch).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
build="${ATTN_BUILD_DIR:-$root/build}"
if [ ! -f "$build/build.ninja" ]; then
  cmake -G Ninja -S "$root" -B "$build"
fi
ninja -C "$build" -j2 attention_bench
exec "$build/bench/attention/attention_bench" "$@"
