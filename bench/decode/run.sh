#!/usr/bin/env bash
# Builds and runs the decoding benchmark: greedy and beam-5 decoding of bench/decode/bahdanau.attn
# compiled by attnc vs the same model in PyTorch eager, at 1 thread and at all threads, with a
# per-step breakdown (encode / step kernel / search) and the agreement of the two.
#   bench/decode/run.sh [decode_bench options, e.g. --reps 5 --threads 2 --no-torch]
# ATTN_BUILD_DIR: the build folder (default build/; configured here if it is not yet).
# PyTorch comes from ATTN_BENCH_PYTHON (default python3); without torch and safetensors the
# benchmark prints how to install them (pip install torch safetensors) and only times attnc.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
build="${ATTN_BUILD_DIR:-$root/build}"
if [ ! -f "$build/build.ninja" ]; then
  cmake -G Ninja -S "$root" -B "$build"
fi
ninja -C "$build" -j"${JOBS:-2}" decode_bench
exec "$build/bench/decode/decode_bench" "$@"
