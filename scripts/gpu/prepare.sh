#!/usr/bin/env bash
# Builds the workspace's test binaries with the `cuda` feature here (no GPU or
# CUDA toolkit needed) and stages what must travel to the GPU machine in
# .gpu/ (git-ignored):
#   .gpu/a/libmlx.so.xz.part-aa   first half of the CUDA libmlx (xz)     -> call 1
#   .gpu/b/libmlx.so.xz.part-ab   second half                            -> call 2
#   .gpu/b/bin/*                  the test binaries                      -> call 2
#   .gpu/b/mlx_cuda_13.libs.tar.xz the wheel's bundled BLAS/LAPACK       -> call 2
# libmlx.so is 142 MB (68 MB as xz), over the 64 MiB one call can carry, so it
# travels in two halves on two back-to-back calls (see scripts/gpu/README.md).
#
# Usage: scripts/gpu/prepare.sh [`cargo test` package selection; default --workspace]
set -euo pipefail
cd "$(dirname "$0")/../.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target-cuda}

rm -rf .gpu && mkdir -p .gpu/a .gpu/b/bin
# Test binaries, listed from cargo's JSON messages.
cargo test --features mlx-sys/cuda --no-run --message-format=json "${@:---workspace}" \
  | python3 -c '
import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["profile"]["test"]:
        print(m["executable"])
' > .gpu/tests.txt
# Debug info is most of a test binary's size; the call can carry 64 MiB.
while read -r exe; do strip --strip-debug -o ".gpu/b/bin/$(basename "$exe")" "$exe"; done < .gpu/tests.txt

# The CUDA MLX the binaries were linked against (its path is their rpath).
lib=$(xargs -n1 readelf -d < .gpu/tests.txt | sed -n 's/.*R\(UN\)\?PATH.*\[\(.*\)\]/\2/p' \
  | tr ':' '\n' | grep 'mlx-cuda-13' | head -n1)
[ -f "$lib/libmlx.so" ] || { echo "no CUDA libmlx.so found in the binaries' rpath ($lib)" >&2; exit 1; }
tar -C "$lib/../.." -cJf .gpu/b/mlx_cuda_13.libs.tar.xz mlx_cuda_13.libs
xz -T0 -3 -c "$lib/libmlx.so" > .gpu/libmlx.so.xz
split -n 2 -d .gpu/libmlx.so.xz .gpu/libmlx.so.xz.part-
mv .gpu/libmlx.so.xz.part-00 .gpu/a/
mv .gpu/libmlx.so.xz.part-01 .gpu/b/
rm .gpu/libmlx.so.xz
du -sh .gpu/a .gpu/b
