#!/usr/bin/env bash
# The GPU checks of issue 8, for a machine with an NVIDIA GPU: builds Release (or, with
# PJIT_PREBUILT=1, uses the binaries already in build/release, for a GPU machine that has the
# driver but not the build's dependencies), runs the CUDA tests — the GPU ones included, which
# must not skip — then prints the GPU's ceilings (cuBLAS 4096^3 products called directly, a
# device-to-device copy's bandwidth), each bench case's time on the cuda platform and on the
# cpu platform (pjit-run --benchmark with @random inputs: executions on inputs already in the
# device's memory, as a batch job's repeated runs are), the chain's transfers to and from the
# GPU, and matmul 4096^3 in f32 and bf16 through pjit against the direct cuBLAS calls.
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
peaks=$($bin/pjit_cuda_peaks 4096 "$repeat")
echo "$peaks"
peak() { sed -n "s/^$1 //p" <<<"$peaks"; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
median() { sed -n 's/.*median \([0-9.]*\) ms.*/\1/p'; }
# The bytes a case's inputs and outputs hold, from its module's entry_computation_layout.
bytes() {
  python3 -c 'import re,sys,math
head = open(sys.argv[1]).readline()
size = {"f32": 4, "bf16": 2, "f16": 2, "f64": 8, "s32": 4}
print(sum(size[t] * math.prod(int(d) for d in dims.split(",") if d) for t, dims in re.findall(r"(f32|bf16|f16|f64|s32)\[([0-9,]*)\]", head)))' "$1"
}
inputs_of() {
  local params i inputs=""
  params=$(grep -c ' parameter(' <(sed -n '/^ENTRY/,/^}/p' "$1"))
  for ((i = 0; i < params; i++)); do inputs+=" --input $i=@random"; done
  echo "$inputs"
}
time_on() {  # artifact platform hlo
  $bin/pjit-run "$1" $(inputs_of "$3") --platform "$2" --benchmark --repeat "$repeat" -o "$work/out" | median
}
# Each bench case on the GPU and on this machine's CPU; GB/s: its inputs' and outputs' bytes
# over the GPU time (against copy_gbs for the memory-bound chain, softmax and layernorm).
printf '%-10s %9s %9s %8s %8s\n' case cuda_ms cpu_ms cpu/cuda GB/s
for hlo in tests/bench/cases/*.hlo; do
  name=$(basename "$hlo" .hlo)
  $bin/pjit-compile "$hlo" -o "$work/$name.pjit" --target cpu,cuda --cpu native --quiet
  cuda=$(time_on "$work/$name.pjit" cuda "$hlo")
  cpu=$(time_on "$work/$name.pjit" cpu "$hlo")
  printf '%-10s %9s %9s %8s %8s\n' "$name" "$cuda" "$cpu" "$(awk -v a="$cpu" -v b="$cuda" 'BEGIN { printf "%.1f", a / b }')" \
    "$(awk -v n="$(bytes "$hlo")" -v t="$cuda" 'BEGIN { printf "%.0f", n / (t * 1e6) }')"
done
# Moving the chain's 64 MiB input to the GPU and its 64 MiB output back (pageable copies),
# against h2d/d2h_pageable_gbs and h2d/d2h_pinned_gbs above.
echo "chain $($bin/pjit-run "$work/chain.pjit" $(inputs_of tests/bench/cases/chain.hlo) --platform cuda --benchmark --repeat 1 -o "$work/out" | grep transfers)"
# matmul 4096^3 through pjit against the same cuBLAS call made directly.
printf '%-16s %9s %9s %10s\n' case pjit_ms cublas_ms pjit/cublas
for type in f32 bf16; do
  hlo=$work/matmul4096_$type.hlo
  sed -e 's/2048/4096/g' -e "s/f32\[/$type[/g" tests/bench/cases/matmul.hlo >"$hlo"
  $bin/pjit-compile "$hlo" -o "$work/m.pjit" --target cuda --quiet
  direct=$(peak "$([ $type = f32 ] && echo sgemm_ms || echo bf16gemm_ms)")
  t=$(time_on "$work/m.pjit" cuda "$hlo")
  printf '%-16s %9s %9s %10s\n' "matmul4096_$type" "$t" "$direct" "$(awk -v a="$t" -v b="$direct" 'BEGIN { printf "%.2f", a / b }')"
done
