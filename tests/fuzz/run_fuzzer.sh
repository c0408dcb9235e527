#!/usr/bin/env bash
# Builds the fuzzers with clang's libFuzzer + ASan/UBSan and runs one.
#   tests/fuzz/run_fuzzer.sh [SECONDS] [artifact|hlo]     (defaults: 600, artifact)
# New inputs go to build/fuzz/<name>_corpus; the committed seeds (tests/fuzz/corpus,
# tests/fuzz/hlo_corpus, testdata) are read only. Crashes land in build/fuzz/.
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
target=${2:-artifact}
case "$target" in
  artifact) seeds="tests/fuzz/corpus" ;;
  hlo) seeds="tests/fuzz/hlo_corpus testdata" ;;
  *) echo "run_fuzzer.sh: unknown fuzzer '$target' (artifact or hlo)" >&2; exit 2 ;;
esac
name=$([ "$target" = artifact ] && echo artifact_reader || echo hlo_parser)
cmake --build build/fuzz --target "${name}_fuzzer"
mkdir -p "build/fuzz/${target}_corpus"
# shellcheck disable=SC2086
"build/fuzz/tests/fuzz/${name}_fuzzer" -artifact_prefix=build/fuzz/ -max_total_time="$seconds" -max_len=262144 \
  -timeout=10 -rss_limit_mb=4096 "build/fuzz/${target}_corpus" $seeds
