#!/usr/bin/env bash
# Grapheme-to-phoneme conversion on the CMU pronouncing dictionary: installs
# Debian's festlex-cmu (the dictionary, /usr/share/festival/dicts/cmu/) and
# what attnc needs, builds attnc and g2p_train, trains examples/g2p/g2p.attn
# (bi-LSTM encoder, additive attention, GRU decoder) for a time budget, then
# reports the phone and word error rates of beam search on the test words.
#   scripts/g2p.sh [g2p_train options, e.g. --max-seconds 600 --beam 3]
# G2P_SECONDS (default 1500) is the training budget, G2P_OUT (g2p-out) the
# output folder, BUILD_DIR the build folder. Not part of the CI: the CI never
# needs festlex-cmu.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${BUILD_DIR:-$root/build}"
"$root/scripts/install-deps.sh"
if ! dpkg-query -W -f='${Status}' festlex-cmu 2>/dev/null | grep -q "install ok installed"; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "error: the CMU dictionary comes from Debian's festlex-cmu; installing it needs root" >&2
    exit 1
  fi
  echo "installing festlex-cmu"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends festlex-cmu >/dev/null
fi
"$root/scripts/build.sh" attnc g2p_train
echo
echo "== g2p_train: training, then beam search on the test words =="
"$build/bin/g2p_train" --out "${G2P_OUT:-g2p-out}" --max-seconds "${G2P_SECONDS:-1500}" "$@" \
  | tee "${G2P_OUT:-g2p-out}.log"
echo
grep -E "^test, (greedy|beam)" "${G2P_OUT:-g2p-out}.log"
