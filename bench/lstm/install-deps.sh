#!/usr/bin/env bash
# Installs what bench/lstm needs on top of scripts/install-deps.sh: oneDNN
# (Debian 12: libdnnl-dev 2.6, built with OpenMP). A benchmark-only
# dependency: CI and scripts/test.sh do not install it, and without it CMake
# simply does not define lstm_bench. Does nothing if it is installed. Needs root.
set -euo pipefail
if dpkg-query -W -f='${Status}' libdnnl-dev 2>/dev/null | grep -q "install ok installed"; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "error: installing libdnnl-dev (oneDNN) needs root: apt-get install -y libdnnl-dev" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends libdnnl-dev >/dev/null
