#!/usr/bin/env bash
# On the GPU machine, call 2: reassemble libmlx, point the loader at the CUDA
# runtime from the machine's Python (torch cu130's nvidia-* packages), and run
# every staged test binary with the GPU as MLX's default device.
# Usage: scripts/gpu/run.sh [test-binary-name-prefix ...]
set -uo pipefail
stage=/tmp/mlx-rs-gpu
[ -f $stage/libmlx.so.xz.part-00 ] || { echo "run scripts/gpu/stage.sh first (call 1)"; exit 2; }
mkdir -p $stage/mlx/lib
cat $stage/libmlx.so.xz.part-00 .gpu/b/libmlx.so.xz.part-01 | xz -d > $stage/mlx/lib/libmlx.so
rm -rf $stage/mlx_cuda_13.libs && tar -C $stage -xJf .gpu/b/mlx_cuda_13.libs.tar.xz
sp=$(python3 -c 'import site; print(site.getsitepackages()[0])')
export LD_LIBRARY_PATH=$stage/mlx/lib:$sp/nvidia/cu13/lib:$sp/nvidia/cudnn/lib:$sp/nvidia/nccl/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export MLX_RS_DEFAULT_DEVICE=gpu
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
fail=0
for exe in .gpu/b/bin/*; do
  name=$(basename "$exe")
  if [ $# -gt 0 ]; then
    keep=0; for p in "$@"; do [[ $name == "$p"* ]] && keep=1; done
    [ $keep = 1 ] || continue
  fi
  echo "=== $name"
  "$exe" --test-threads=1 2>&1 | tail -n 40 || fail=1
done
exit $fail
