#!/usr/bin/env bash
# On the GPU machine, call 1: keep the first half of libmlx in /tmp/mlx-rs-gpu.
set -euo pipefail
mkdir -p /tmp/mlx-rs-gpu
cp .gpu/a/libmlx.so.xz.part-00 /tmp/mlx-rs-gpu/
ls -la /tmp/mlx-rs-gpu
