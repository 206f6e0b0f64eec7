#!/usr/bin/env bash
# Installs what attnc needs to build and test on Debian 12, from Debian's
# packages only (LLVM/MLIR 14, Halide 14, ANTLR4, lit's FileCheck, GoogleTest,
# nlohmann-json, libpng). Does nothing for packages already installed. Needs root.
set -euo pipefail

packages=(
  cmake ninja-build g++ python3
  llvm-14-dev llvm-14-tools libmlir-14-dev mlir-14-tools
  libhalide14-0-dev
  antlr4 libantlr4-runtime-dev uuid-dev
  libgtest-dev nlohmann-json3-dev
  libpng-dev
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "installing: ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  echo "error: these Debian packages are missing and installing them needs root: ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
