#!/usr/bin/env bash
# The main job: installs what is missing, builds attnc, compiles the example
# Transformer encoder model (examples/transformer_encoder) and runs its app on
# a padded batch.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${BUILD_DIR:-$root/build}"
"$root/scripts/install-deps.sh"
"$root/scripts/build.sh" attnc transformer_encoder_app bahdanau_app
echo
echo "== attnc: the optimised attn dialect of the example (first lines) =="
"$build/bin/attnc" "$root/examples/transformer_encoder/transformer_encoder.attn" --emit=mlir-opt \
  | grep -E "attn\.(attention|score|align|contract|reduce)" | head -8 | sed 's/^ */  /'
echo
echo "== transformer_encoder_app =="
"$build/bin/transformer_encoder_app" "$@"
echo
echo "== bahdanau_app: encode once, beam search over the compiled decoder step, attention =="
"$build/bin/bahdanau_app" --beam 3
