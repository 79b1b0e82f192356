#!/usr/bin/env bash
# On the GPU machine (after run.sh has unpacked the pieces once): makes Python
# MLX 0.32.2 importable by the machine's python3, over the staged CUDA
# libmlx.so, for the Python side of the benchmarks. The machine has no
# network; the wheels travel in the pieces (prepare.sh with
# GPU_EXTRA="mlx-0.32.2-cp3XX-*.whl ... mlx_lm-0.32.2-py3-none-any.whl").
# Prints the line to eval: `eval "$(bash scripts/gpu/python.sh)"`.
set -euo pipefail
root=/tmp/mlx-rs-gpu/root
site=$root/pysite
tag=$(python3 -c 'import sys; print("cp%d%d" % sys.version_info[:2])')
if [ ! -f "$site/.complete" ]; then
  whl=$(ls "$root"/wheels/mlx-0.32.2-"$tag"-*.whl 2>/dev/null | head -n1)
  [ -n "$whl" ] || { echo "no mlx wheel for $tag in $root/wheels" >&2; exit 2; }
  rm -rf "$site" && mkdir -p "$site"
  python3 - "$site" "$whl" "$root"/wheels/mlx_lm-*.whl <<'PY'
import sys, zipfile
site, *wheels = sys.argv[1:]
for w in wheels:
    zipfile.ZipFile(w).extractall(site)
PY
  # core.so finds libmlx.so through $ORIGIN/lib; libmlx.so finds the BLAS and
  # LAPACK it bundles through $ORIGIN/../../mlx_cuda_13.libs; MLX's NVRTC
  # JIT finds CCCL, CuTe and CUTLASS at <libmlx prefix>/include.
  mkdir -p "$site/mlx/lib" "$site/mlx/include"
  ln -sfn "$root/mlx/lib/libmlx.so" "$site/mlx/lib/libmlx.so"
  ln -sfn "$root/mlx_cuda_13.libs" "$site/mlx_cuda_13.libs"
  for d in cccl cute cutlass; do ln -sfn "$root/mlx/include/$d" "$site/mlx/include/$d"; done
  touch "$site/.complete"
fi
echo "export PYTHONPATH=$site\${PYTHONPATH:+:\$PYTHONPATH}"
