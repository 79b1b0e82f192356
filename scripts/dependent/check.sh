#!/usr/bin/env bash
# Builds a throwaway crate outside the workspace that depends on mlx-rs by
# path, with the one-line build script of mlx-sys/README.md ("Shipping a
# binary"), and runs its binary directly (no cargo, no LD_LIBRARY_PATH) from
# another folder. Fails if it does not start, gets a wrong matmul, or MLX's
# CPU backend does not call the BLAS the build chose.
#
# Usage: scripts/dependent/check.sh [cargo build args...]   (CI: .ci/run)
# Shares the workspace's target folder, so mlx-sys is not built twice.
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT

mkdir -p "$dir/app/src"
cat >"$dir/app/Cargo.toml" <<TOML
[package]
name = "mlx-dependent-check"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
mlx-rs = { path = "$repo/mlx-rs" }

[workspace]
TOML
# The one line (inside fn main) a dependent's build.rs needs.
cat >"$dir/app/build.rs" <<'RS'
fn main() {
    for arg in std::env::var("DEP_MLX_RS_LINK_ARGS").unwrap_or_default().split_whitespace() {
        println!("cargo::rustc-link-arg={arg}");
    }
}
RS
cat >"$dir/app/src/main.rs" <<'RS'
use mlx_rs::{ops, Array};

fn main() -> Result<(), mlx_rs::Error> {
    let a = Array::from_slice(&[1.0f32, 2.0, 3.0, 4.0], &[2, 2])?;
    let b = Array::from_slice(&[5.0f32, 6.0, 7.0, 8.0], &[2, 2])?;
    println!("{:?}", ops::matmul(&a, &b)?.to_vec::<f32>()?);
    Ok(())
}
RS

cp "$repo/Cargo.lock" "$dir/app/Cargo.lock"
target="${CARGO_TARGET_DIR:-$repo/target}"
(cd "$dir/app" && CARGO_TARGET_DIR="$target" cargo build --quiet "$@")
profile=debug
for a in "$@"; do [ "$a" = --release ] && profile=release; done
bin="$target/$profile/mlx-dependent-check"

cd /
out="$(env -u LD_LIBRARY_PATH -u DYLD_LIBRARY_PATH "$bin")"
echo "dependent binary, run directly from /: $out"
[ "$out" = "[19.0, 22.0, 43.0, 50.0]" ] || { echo "wrong result: $out" >&2; exit 1; }

if [ "$(uname -s)" = Linux ] && command -v ldd >/dev/null; then
  blas="$(ldd "$bin" | grep -o 'libopenblas[^ ]*' || true)"
  if ldd "$bin" | grep -q 'libopenblas'; then
    where="$(LD_DEBUG=bindings "$bin" 2>&1 >/dev/null | grep -m1 "symbol \`cblas_sgemm'" || true)"
    echo "cblas_sgemm: ${where##*to }"
    case "$where" in *openblas*) ;; *) echo "libmlx's cblas_sgemm is not OpenBLAS's" >&2; exit 1;; esac
  else
    echo "no OpenBLAS in the dependent binary (${blas:-none}): the build chose another BLAS"
  fi
fi
