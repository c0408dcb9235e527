#!/usr/bin/env bash
# The CPU benchmark of issue 9: builds Release, then for every case in tests/bench/cases
# compiles it with pjit-compile --cpu native (JAX also compiles for the host CPU), times it with pjit-run --benchmark (inputs from @random,
# already on the devices as JAX's are; results allocated per run; transfers are reported apart) and times the peers
# in the same run on the same machine (tests/bench/peers.py: JAX, numpy, PyTorch if
# installed), and prints the table with ratios pjit/peer (below 1: pjit is faster), plus the
# machine's ceilings (direct OpenBLAS sgemm, STREAM triad), the memory-bound cases' bandwidth
# against a triad timed just before and after each (five rounds), the data-parallel MLP on 2 and
# 4 devices against JAX, and its scaling from 1 to 2 devices with one core each.
#
#   tests/bench/run.sh [REPEAT]        PYTHON=/path/to/python (with jax) overrides python3
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
repeat=${1:-10}
py=${PYTHON:-python3}
cmake --preset release >/dev/null
cmake --build build/release --target pjit-compile pjit-run pjit_plugin_cpu pjit_bench_peaks >/dev/null
bin=build/release/bin
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

median() { sed -n 's/.*median \([0-9.]*\) ms.*/\1/p'; }
ratio() { if [ "$2" = "-" ]; then echo "-"; else awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; fi; }
peer() { awk -v p="$2" '$1 == p { print $2 }' <<<"$1"; }
# Bytes of the entry computation's parameters and root of an HLO file.
entry_bytes() {
  sed -n '/^ENTRY/,/^}/p' "$1" | grep -E ' parameter\(|^ *ROOT ' | sed -E 's/.*= *([a-z0-9]+)\[([0-9,]*)\].*/\1 \2/' |
    awk 'BEGIN { w["f32"] = 4; w["f64"] = 8; w["bf16"] = 2; w["f16"] = 2; w["s32"] = 4; w["pred"] = 1 }
         { n = 1; k = split($2, d, ","); for (i = 1; i <= k; i++) n *= d[i]; total += n * w[$1] } END { print total }'
}
streamed=""
memory_rounds=5
triad() { peer "$($bin/pjit_bench_peaks "$(nproc)" "$repeat" triad)" triad_gbs; }

echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; $(date -u +%Y-%m-%d)"
peaks=$($bin/pjit_bench_peaks "$(nproc)" "$repeat")
echo "ceilings: OpenBLAS sgemm 2048^3 $(peer "$peaks" sgemm_ms) ms; STREAM triad $(peer "$peaks" triad_gbs) GB/s"
printf '%-10s %9s %9s %9s %6s %9s %6s %9s %6s\n' case compile_s pjit_ms jax_ms ratio torch_ms ratio numpy_ms ratio
for hlo in tests/bench/cases/*.hlo; do
  name=$(basename "$hlo" .hlo)
  start=$(date +%s.%N)
  $bin/pjit-compile "$hlo" -o "$work/$name.pjit" --cpu native --quiet
  compile=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.2f", e - s }')
  params=$(grep -c ' parameter(' <(sed -n '/^ENTRY/,/^}/p' "$hlo"))
  inputs=""
  for ((i = 0; i < params; i++)); do inputs+=" --input $i=@random"; done
  case "$name" in
    chain | softmax | layernorm)
      # Rounds of the case between two triads; its time is the median round's, its
      # bandwidth that round's against the mean of the triads beside it.
      rounds=""
      before=$(triad)
      for ((r = 0; r < memory_rounds; r++)); do
        ms=$($bin/pjit-run "$work/$name.pjit" $inputs --benchmark --repeat "$repeat" -o "$work/out" | median)
        after=$(triad)
        rounds+="$ms $(awk -v a="$before" -v b="$after" 'BEGIN { printf "%.2f", (a + b) / 2 }')"$'\n'
        before=$after
      done
      bytes=$(entry_bytes "$hlo")
      read -r ms share gbs triad_gbs low high < <(awk -v b="$bytes" 'NF == 2 {
          g = b / ($1 / 1000) / 1e9; n++; ms[n] = $1; gb[n] = g; tr[n] = $2; pct[n] = 100 * g / $2 }
        END { for (i = 1; i <= n; i++) { k[i] = i; s[i] = pct[i] }
              for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (s[j] < s[i]) { t = s[i]; s[i] = s[j]; s[j] = t; t = k[i]; k[i] = k[j]; k[j] = t }
              m = k[int((n + 1) / 2)]; printf "%s %.0f %.1f %.1f %.0f %.0f\n", ms[m], pct[m], gb[m], tr[m], s[1], s[n] }' <<<"$rounds")
      streamed+=" $name $gbs GB/s ($share% of $triad_gbs; rounds $low-$high%);" ;;
    *) ms=$($bin/pjit-run "$work/$name.pjit" $inputs --benchmark --repeat "$repeat" -o "$work/out" | median) ;;
  esac
  peers=$($py tests/bench/peers.py "$name" --repeat "$repeat")
  jax=$(peer "$peers" jax); torch=$(peer "$peers" torch); numpy=$(peer "$peers" numpy)
  printf '%-10s %9s %9s %9s %6s %9s %6s %9s %6s\n' "$name" "$compile" "$ms" "$jax" "$(ratio "$ms" "$jax")" \
    "$torch" "$(ratio "$ms" "$torch")" "$numpy" "$(ratio "$ms" "$numpy")"
  if [ "$name" = mlp ]; then base=$ms; fi
done
# The memory-bound cases (each reads its inputs and writes its output once) against the triad.
echo "bandwidth (inputs and outputs once, against the triad beside it, median of $memory_rounds rounds):$streamed"

mlp_inputs=""
for i in 0 1 2 3 4 5 6; do mlp_inputs+=" --input $i=@random"; done
for n in 2 4; do
  $bin/pjit-compile tests/bench/cases/mlp.hlo -o "$work/mlp$n.pjit" --cpu native --quiet --mesh data=$n --in-sharding 0=data --out-sharding 0=data
  ms=$($bin/pjit-run "$work/mlp$n.pjit" $mlp_inputs --benchmark --repeat "$repeat" -o "$work/out" | median)
  jax=$(peer "$($py tests/bench/peers.py mlp --devices $n --repeat "$repeat")" jax)
  echo "mlp on $n devices: pjit $ms ms, jax $jax ms, ratio $(ratio "$ms" "$jax"); throughput vs 1 device: $(ratio "$base" "$ms")x"
done
# Scaling with devices the way separate machines would give it: every device on one core.
one=$($bin/pjit-run "$work/mlp.pjit" $mlp_inputs --cores-per-device 1 --benchmark --repeat "$repeat" -o "$work/out" | median)
two=$($bin/pjit-run "$work/mlp2.pjit" $mlp_inputs --cores-per-device 1 --benchmark --repeat "$repeat" -o "$work/out" | median)
echo "mlp, one core per device: 1 device $one ms, 2 devices $two ms; throughput $(ratio "$one" "$two")x"
