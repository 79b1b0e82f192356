#!/usr/bin/env bash
# On the GPU machine: unpack the staged pieces (once), point the loader at the
# CUDA 13 runtime of the machine's Python (torch cu130's nvidia-* packages) and
# MLX's JIT at the CUDA headers, then run every staged test binary with the
# GPU as MLX's default device (MLX_RS_DEFAULT_DEVICE=gpu).
# Each binary's whole output is kept in /tmp/mlx-rs-gpu/logs/<binary>.log,
# and all of them in $OUT/gpu-logs.tgz when $OUT is set (the device tool
# brings $OUT back, a few files at most).
# Usage: scripts/gpu/run.sh [test-binary-name-prefix ...]   (default: all)
#        scripts/gpu/run.sh --env   (only print the environment to source)
set -uo pipefail
stage=/tmp/mlx-rs-gpu
root=$stage/root
if [ ! -f $root/.complete ]; then
  (cd $stage/chunks && sha256sum -c --quiet ../manifest) || { echo "pieces missing: run stage.sh for each"; exit 2; }
  rm -rf $root && mkdir -p $root
  cat $stage/chunks/part-* | xz -d | tar -C $root -xf - && touch $root/.complete
fi
# Tests that read fixture files find them through the absolute source path
# they were built in; make that path lead to this copy of the tree.
built_in=$(cat .gpu/built_in 2>/dev/null || true)
if [ -n "$built_in" ] && [ ! -e "$built_in" ]; then mkdir -p "$(dirname "$built_in")" && ln -s "$PWD" "$built_in"; fi
# MLX compiles kernels at run time with NVRTC. It finds CCCL, CuTe and
# CUTLASS at <libmlx's prefix>/include (staged from the wheel) and the CUDA
# runtime headers under $CUDA_HOME/include.
sp=$(python3 -c 'import site; print(site.getsitepackages()[0])')
export LD_LIBRARY_PATH=$root/mlx/lib:$sp/nvidia/cu13/lib:$sp/nvidia/cudnn/lib:$sp/nvidia/nccl/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export CUDA_HOME=${CUDA_HOME:-/usr/local/cuda}
export MLX_RS_DEFAULT_DEVICE=gpu
export MLX_RS_CACHE_DIR=$root
if [ "${1:-}" = "--env" ]; then
  echo "export LD_LIBRARY_PATH=$LD_LIBRARY_PATH CUDA_HOME=$CUDA_HOME MLX_RS_DEFAULT_DEVICE=gpu MLX_RS_CACHE_DIR=$root"
  exit 0
fi
rm -rf $stage/logs && mkdir -p $stage/logs
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
fail=0
for exe in $root/bin/*; do
  name=$(basename "$exe")
  case "$name" in *-*) ;; *) continue ;; esac   # test binaries carry a -hash
  # Source-tree checks that need cargo or this machine's build folders:
  # trybuild (runs cargo) and the op-coverage scan (reads mlx-sys's OUT_DIR).
  case "$name" in ui-*|coverage-*) echo "=== $name: skipped (needs cargo / the build tree)"; continue ;; esac
  # The proc-macro crate's own unit tests link the toolchain's libstd.so,
  # which the machine lacks (no Rust toolchain); they test token parsing only.
  case "$name" in mlx_macros-*) echo "=== $name: skipped (proc-macro unit tests need the toolchain's libstd.so)"; continue ;; esac
  if [ $# -gt 0 ]; then
    keep=0; for p in "$@"; do [[ $name == "$p"* ]] && keep=1; done
    [ $keep = 1 ] || continue
  fi
  echo "=== $name"
  log=$stage/logs/$name.log
  "$exe" --test-threads=1 > "$log" 2>&1 || fail=1
  grep -E "^test |test result|panicked|FAILED|left:|right:|GPU-DIFF.*FAIL" "$log" | tail -n 60
done
[ -n "${OUT:-}" ] && tar -C $stage/logs -czf "$OUT/gpu-logs.tgz" .
exit $fail
