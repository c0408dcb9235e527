#!/usr/bin/env bash
# The GPU checks of issue 8, for a machine with an NVIDIA GPU: builds Release (or, with
# PJIT_PREBUILT=1, uses the binaries already in build/release, for a GPU machine that has the
# driver but not the build's dependencies), runs the CUDA tests — the GPU
# ones included, which must not skip — then times each bench case on the cuda platform and on
# the cpu platform (pjit-run --benchmark with @random inputs; the cuda time includes copying
# inputs to the GPU and outputs back, as a user's run does) and prints the GPU's ceilings:
# cuBLAS sgemm 4096^3 called directly and a device-to-device copy's bandwidth.
#
#   tests/bench/cuda.sh [REPEAT]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
repeat=${1:-10}
bin=build/release/bin
if [[ -z ${PJIT_PREBUILT:-} ]]; then
  cmake --preset release >/dev/null
  cmake --build build/release --target pjit-compile pjit-run pjit_plugin_cpu pjit_plugin_cuda cuda_codegen_test cuda_runtime_test pjit_cuda_peaks >/dev/null
fi
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
$bin/cuda_codegen_test --gtest_brief=1
out=$($bin/cuda_runtime_test --gtest_brief=1 2>&1) || { echo "$out"; exit 1; }
echo "$out"
if grep -q SKIPPED <<<"$out"; then echo "cuda_runtime_test skipped: no usable GPU" >&2; exit 1; fi
$bin/pjit_cuda_peaks 4096 "$repeat"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
median() { sed -n 's/.*median \([0-9.]*\) ms.*/\1/p'; }
printf '%-10s %9s %9s %7s\n' case cuda_ms cpu_ms cpu/cuda
for hlo in tests/bench/cases/*.hlo; do
  name=$(basename "$hlo" .hlo)
  $bin/pjit-compile "$hlo" -o "$work/$name.pjit" --target cpu,cuda --cpu native --quiet
  params=$(grep -c ' parameter(' <(sed -n '/^ENTRY/,/^}/p' "$hlo"))
  inputs=""
  for ((i = 0; i < params; i++)); do inputs+=" --input $i=@random"; done
  cuda=$($bin/pjit-run "$work/$name.pjit" $inputs --platform cuda --benchmark --repeat "$repeat" -o "$work/out" | median)
  cpu=$($bin/pjit-run "$work/$name.pjit" $inputs --platform cpu --benchmark --repeat "$repeat" -o "$work/out" | median)
  printf '%-10s %9s %9s %7s\n' "$name" "$cuda" "$cpu" "$(awk -v a="$cpu" -v b="$cuda" 'BEGIN { printf "%.1f", a / b }')"
done
