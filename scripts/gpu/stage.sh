#!/usr/bin/env bash
# On the GPU machine: keep the pieces this call carried in /tmp/mlx-rs-gpu
# (it survives between calls while the machine stays warm).
set -euo pipefail
stage=/tmp/mlx-rs-gpu
mkdir -p $stage/chunks
cp .gpu/manifest $stage/manifest
for p in .gpu/chunks/part-*; do [ -f "$p" ] && cp "$p" $stage/chunks/; done
(cd $stage/chunks && sha256sum -c --quiet --ignore-missing ../manifest)
echo "have $(ls $stage/chunks | wc -l) of $(wc -l < $stage/manifest) pieces"
