#!/usr/bin/env bash
# Configures and builds attnc, its runtime, examples and tests into build/
# (override with BUILD_DIR). Uses every core unless JOBS is set.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${BUILD_DIR:-$root/build}"
jobs="${JOBS:-$(nproc)}"
cmake -G Ninja -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
ninja -C "$build" -j "$jobs" "$@"
