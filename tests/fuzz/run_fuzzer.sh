#!/usr/bin/env bash
# Builds the artifact reader fuzzer with clang's libFuzzer + ASan/UBSan and runs it.
#   tests/fuzz/run_fuzzer.sh [SECONDS]        (default 600)
# New inputs go to build/fuzz/corpus; the committed seeds in tests/fuzz/corpus are read-only.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-600}
./setup.sh
missing=()
for p in clang-19 libclang-rt-19-dev; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi
cmake -S . -B build/fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPJIT_FUZZ=ON -DPJIT_BUILD_TESTS=OFF \
  -DCMAKE_CXX_COMPILER=clang++-19 >/dev/null
cmake --build build/fuzz --target artifact_reader_fuzzer
mkdir -p build/fuzz/corpus
build/fuzz/tests/fuzz/artifact_reader_fuzzer -artifact_prefix=build/fuzz/ -max_total_time="$seconds" -max_len=262144 -timeout=10 \
  -rss_limit_mb=4096 build/fuzz/corpus tests/fuzz/corpus
