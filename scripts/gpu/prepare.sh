#!/usr/bin/env bash
# Builds the workspace's test binaries (and the examples that the GPU run
# uses) with the `cuda` feature here -- no GPU or CUDA toolkit needed -- and
# packs what must travel to the GPU machine into chunks small enough for one
# device call each (a call carries at most 64 MiB; libmlx.so alone is 142 MB):
#
#   .gpu/payload/              what the GPU machine needs, unpacked
#     mlx/lib/libmlx.so        the CUDA MLX the binaries were linked against
#     mlx/include/             the wheel's headers (CCCL, CuTe, CUTLASS for NVRTC)
#     mlx_cuda_13.libs/        the wheel's bundled BLAS/LAPACK (libmlx's rpath)
#     bin/                     test binaries (stripped) and example binaries
#     models/                  the SmolLM2 GGUF, when cached here (--with-model)
#     wheels/                  extra files from $GPU_EXTRA (e.g. Python wheels)
#   .gpu/chunks/part-NN        xz-compressed tar of payload/, in 45 MB pieces
#   .gpu/manifest              the list of pieces and their SHA-256
#
# Then, on the GPU machine: one call per piece, each carrying that piece and
# .gpu/manifest and .gpu/built_in, running `bash scripts/gpu/stage.sh`; the last piece's call
# (or a later one) runs `bash scripts/gpu/run.sh`. See scripts/gpu/README.md.
#
# Usage: scripts/gpu/prepare.sh [--with-model] [cargo test selection, default --workspace]
set -euo pipefail
cd "$(dirname "$0")/../.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target-cuda}
with_model=0
if [ "${1:-}" = "--with-model" ]; then with_model=1; shift; fi

rm -rf .gpu && mkdir -p .gpu/payload/bin .gpu/chunks
cargo test --features mlx-sys/cuda,mlx-rs/cuda --no-run --message-format=json "${@:---workspace}" \
  | python3 -c '
import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["profile"]["test"]:
        print(m["executable"])
' > .gpu/tests.txt
# Release builds of the examples the GPU run uses (GPU_EXAMPLES="a b", optional).
for ex in ${GPU_EXAMPLES:-}; do
  cargo build --release --features mlx-rs/cuda --example "$ex" --message-format=json \
  | python3 -c '
import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable"):
        print(m["executable"])
'
done > .gpu/examples.txt
while read -r exe; do strip --strip-debug -o ".gpu/payload/bin/$(basename "$exe")" "$exe"; done \
  < <(cat .gpu/tests.txt .gpu/examples.txt)

# The CUDA MLX the binaries were linked against (its folder is their rpath).
lib=$(xargs -n1 readelf -d < .gpu/tests.txt | sed -n 's/.*R\(UN\)\?PATH.*\[\(.*\)\]/\2/p' \
  | tr ':' '\n' | grep 'mlx-cuda-13' | head -n1 || true)
# (Only the workspace package's binaries carry an rpath; for a selection
# without them, the CUDA MLX that mlx-sys unpacked into the cache.)
if [ ! -f "${lib:-/nonexistent}/libmlx.so" ]; then
  lib=$(ls -d "${MLX_RS_CACHE_DIR:-$HOME/.cache/mlx-rs}"/mlx/mlx-cuda-13-*/mlx/lib 2>/dev/null | head -n1)
fi
[ -f "$lib/libmlx.so" ] || { echo "no CUDA libmlx.so in the binaries' rpath or the cache ($lib)" >&2; exit 1; }
mkdir -p .gpu/payload/mlx/lib
cp "$lib/libmlx.so" .gpu/payload/mlx/lib/
# The headers MLX's run-time kernel compiler (NVRTC) includes: CCCL, CuTe and
# CUTLASS (quantized and float matmuls), found at <libmlx prefix>/include.
cp -r "$lib/../include" .gpu/payload/mlx/
cp -r "$lib/../../mlx_cuda_13.libs" .gpu/payload/
if [ $with_model = 1 ]; then
  gguf=${MLX_RS_CACHE_DIR:-$HOME/.cache/mlx-rs}/models/SmolLM2-135M-Instruct.Q4_1.gguf
  mkdir -p .gpu/payload/models && cp "$gguf" .gpu/payload/models/
fi
if [ -n "${GPU_EXTRA:-}" ]; then mkdir -p .gpu/payload/wheels && cp $GPU_EXTRA .gpu/payload/wheels/; fi

tar -C .gpu/payload -cf - . | xz -T0 -3 | split -b 45M -d -a 2 - .gpu/chunks/part-
(cd .gpu/chunks && sha256sum part-*) > .gpu/manifest
pwd > .gpu/built_in
rm -rf .gpu/payload
cat .gpu/manifest
du -sh .gpu/chunks
