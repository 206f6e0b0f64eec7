#!/usr/bin/env bash
# Builds and runs the LSTM benchmark (attnc vs oneDNN's LSTM primitive), once
# with 1 thread and once with all threads: each run sets OMP_NUM_THREADS
# (oneDNN's OpenMP runtime reads it at load time) and HL_NUM_THREADS (Halide)
# to the same count.
#   bench/lstm/run.sh [lstm_bench options, e.g. --reps 20 --no-parts]
# env: ATTN_BUILD_DIR (default build/), LSTM_BENCH_THREADS (default "1 <nproc>")
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
build="${ATTN_BUILD_DIR:-$root/build}"
"$root/scripts/install-deps.sh"
"$root/bench/lstm/install-deps.sh"
if [ ! -f "$build/build.ninja" ]; then
  cmake -G Ninja -S "$root" -B "$build"
elif ! grep -q "lstm_bench" "$build/build.ninja"; then
  cmake "$build" # configured before oneDNN was installed
fi
ninja -C "$build" -j2 lstm_bench
all=$(nproc)
status=0
for n in ${LSTM_BENCH_THREADS:-1 $all}; do
  echo "=== $n thread(s) ==="
  OMP_NUM_THREADS=$n HL_NUM_THREADS=$n "$build/bench/lstm/lstm_bench" "$@" || status=$?
  echo
done
exit $status
