#!/usr/bin/env bash
# Installs pjit's build and test dependencies from Debian packages. Idempotent: when
# everything is already installed it prints nothing and touches nothing.
set -euo pipefail

packages=(
  cmake ninja-build g++ ccache pkg-config
  flatbuffers-compiler libflatbuffers-dev libcli11-dev libxxhash-dev
  llvm-19-dev liblld-19-dev libtbb-dev libopenblas-dev libssl-dev
  libgtest-dev libgmock-dev
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "setup.sh: installing ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
