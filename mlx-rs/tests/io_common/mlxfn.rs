//! Hostile `.mlxfn` files, derived from the small Python exports stored
//! as goldens (`tests/golden/export/`, `scripts/golden/export.py`): every
//! truncation, header fields set to absurd values, and bytes overwritten
//! across the graph.

/// The stored Python exports: (name, bytes).
pub fn mlxfn_valid() -> Vec<(&'static str, &'static [u8])> {
    vec![
        ("mlp", include_bytes!("../golden/export/mlp.mlxfn")),
        (
            "quantized",
            include_bytes!("../golden/export/quantized.mlxfn"),
        ),
        ("kwargs", include_bytes!("../golden/export/kwargs.mlxfn")),
        (
            "shapeless",
            include_bytes!("../golden/export/shapeless.mlxfn"),
        ),
    ]
}

/// Every proper prefix of every stored export (each must be refused).
pub fn mlxfn_truncations() -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for (name, bytes) in mlxfn_valid() {
        for n in 0..bytes.len() {
            out.push((format!("{name} cut at {n}"), bytes[..n].to_vec()));
        }
    }
    out
}

/// Files whose header is damaged (each must be refused).
pub fn mlxfn_bad_headers() -> Vec<(String, Vec<u8>)> {
    let (_, base) = mlxfn_valid()[0];
    let version_len = u64::from_le_bytes(base[..8].try_into().unwrap()) as usize;
    let count_at = 8 + version_len;
    let with = |at: usize, patch: &[u8]| {
        let mut v = base.to_vec();
        v[at..at + patch.len()].copy_from_slice(patch);
        v
    };
    vec![
        ("empty".to_owned(), vec![]),
        (
            "not mlxfn: text".to_owned(),
            b"digraph { a -> b }\n".repeat(4),
        ),
        (
            "version length 2^63".to_owned(),
            with(0, &(1u64 << 63).to_le_bytes()),
        ),
        (
            "version length u64::MAX".to_owned(),
            with(0, &u64::MAX.to_le_bytes()),
        ),
        ("version length 0".to_owned(), with(0, &0u64.to_le_bytes())),
        ("version not text".to_owned(), with(8, &[0xff, 0x00])),
        (
            "trace count -1".to_owned(),
            with(count_at, &(-1i32).to_le_bytes()),
        ),
        (
            "trace count i32::MAX".to_owned(),
            with(count_at, &i32::MAX.to_le_bytes()),
        ),
        (
            "trace count 2".to_owned(),
            with(count_at, &2i32.to_le_bytes()),
        ),
        ("shapeless flag 7".to_owned(), with(count_at + 4, &[7])),
        (
            "metadata length u64::MAX".to_owned(),
            with(count_at + 5, &u64::MAX.to_le_bytes()),
        ),
        (
            "metadata length 2^40".to_owned(),
            with(count_at + 5, &(1u64 << 40).to_le_bytes()),
        ),
    ]
}

/// Each stored export with one 8-byte window overwritten by a pattern
/// (all ones, a huge length, zeros), at every 8th offset after the
/// header: damaged ids, lengths, shapes, dtypes, primitive names and
/// constant data. Some still import (damaged weights are still weights);
/// some crash MLX's reader (the census in `io_hostile_mlxfn.rs`).
pub fn mlxfn_overwrites() -> Vec<(String, Vec<u8>)> {
    let patterns: [(&str, [u8; 8]); 3] = [
        ("ones", [0xff; 8]),
        ("2^40", (1u64 << 40).to_le_bytes()),
        ("zeros", [0; 8]),
    ];
    let mut out = Vec::new();
    for (name, bytes) in mlxfn_valid() {
        for at in (8..bytes.len().saturating_sub(8)).step_by(8) {
            for (p, pattern) in &patterns {
                let mut v = bytes.to_vec();
                v[at..at + 8].copy_from_slice(pattern);
                if v != bytes {
                    out.push((format!("{name} {p} at {at}"), v));
                }
            }
        }
    }
    out
}
