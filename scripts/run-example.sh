#!/usr/bin/env bash
# The main job: installs what is missing, builds attnc, compiles the date
# normalisation model (examples/dates/dates.attn: bi-GRU encoder, Bahdanau
# attention, GRU decoder) and trains it on generated dates until the held-out
# exact match reaches 99% (or 10 minutes pass), then decodes held-out dates
# with beam search, prints them with their attention and writes alignment
# images (PNG) into dates-out/.
#   scripts/run-example.sh [dates_train options, e.g. --max-seconds 120 --beam 3]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${BUILD_DIR:-$root/build}"
"$root/scripts/install-deps.sh"
"$root/scripts/build.sh" attnc dates_train
echo
echo "== attnc: the entries compiled from examples/dates/dates.attn (attn dialect after optimisation) =="
"$build/bin/attnc" "$root/examples/dates/dates.attn" --emit=mlir-opt | awk '
  /^ *func @/ { name = $2; sub(/\(.*/, "", name); order[++n] = name }
  /= attn\./ { ops[name]++ }
  /attn\.recurrence/ { rec[name]++ }
  END { for (i = 1; i <= n; ++i) printf "  %-22s %4d ops, %d recurrences\n", order[i], ops[order[i]], rec[order[i]] }'
echo
echo "== dates_train: training, then beam search on held-out dates =="
"$build/bin/dates_train" --out "${DATES_OUT:-dates-out}" "$@"
