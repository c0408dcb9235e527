#!/usr/bin/env bash
# Installs the build tree into a temporary prefix, runs an artifact with the installed tools
# (plugins found beside bin/, no PJIT_PLUGIN_PATH), and builds and runs a program that embeds
# the runtime through find_package(pjit).
set -euo pipefail
build=$1 src=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
unset PJIT_PLUGIN_PATH
prefix=$work/prefix
cmake --install "$build" --prefix "$prefix" > /dev/null
for page in man1/pjit-compile.1 man1/pjit-run.1 man1/pjit-inspect.1 man5/pjit-artifact.5; do
  test -f "$prefix/share/man/$page"
done
test -f "$prefix/include/pjit/plugin.h"
"$src/tests/rpath_check.sh" "$prefix"
t=$src/testdata
"$prefix/bin/pjit-compile" "$t/mlp.hlo" --mesh data=2,model=2 --in-sharding 0=data,_ --in-sharding 1=_,model -o "$work/mlp.pjit"
"$prefix/bin/pjit-run" "$work/mlp.pjit" -i "$t/mlp.in0.npy" -i "$t/mlp.in1.npy" -i "$t/mlp.in2.npy" \
  --expected-output "$t/mlp.out0.npy" -o "$work/out"
cmake -S "$src/tests/install/consumer" -B "$work/consumer" -G Ninja -DCMAKE_PREFIX_PATH="$prefix" > /dev/null
cmake --build "$work/consumer" > /dev/null
"$work/consumer/run_artifact" "$work/mlp.pjit" "$t/mlp.out0.npy" "$t/mlp.in0.npy" "$t/mlp.in1.npy" "$t/mlp.in2.npy"
