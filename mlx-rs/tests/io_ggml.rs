//! GGML block types: every dequantizer against llama.cpp's gguf-py 0.19
//! (`mlx-rs/tests/golden/ggml/`, from `scripts/golden/ggml.py`), the
//! every-type GGUF through the public load API, the Rust reader against
//! MLX's on the types MLX reads, and hostile blocks.

mod io_common;

use std::collections::HashMap;

use io_common::*;
use mlx_rs::io::{self, ggml, GgmlType, GgufValue};
use mlx_rs::{f16, Array, Dtype, Error};
use serde_json::Value;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/ggml");

fn manifest() -> Value {
    let text = std::fs::read_to_string(format!("{DIR}/manifest.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn fixture(name: &str) -> (Vec<u8>, Vec<f32>) {
    let blocks = std::fs::read(format!("{DIR}/{name}.blocks")).unwrap();
    let f = std::fs::read(format!("{DIR}/{name}.f32")).unwrap();
    let expect = f
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    (blocks, expect)
}

fn types() -> Vec<(String, GgmlType, usize, usize)> {
    let m = manifest();
    m["types"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(name, e)| {
            let code = e["code"].as_u64().unwrap() as u32;
            let (r, c) = (e["rows"].as_u64().unwrap(), e["cols"].as_u64().unwrap());
            (
                name.clone(),
                GgmlType::from_code(code),
                r as usize,
                c as usize,
            )
        })
        .collect()
}

#[test]
fn every_type_dequantizes_bit_exactly_as_gguf_py() {
    let types = types();
    assert_eq!(types.len(), 19);
    for (name, ty, rows, cols) in &types {
        assert_eq!(&ty.name(), name);
        assert!(!matches!(ty, GgmlType::Other(_)), "{name}");
        let (blocks, expect) = fixture(name);
        assert_eq!(expect.len(), rows * cols, "{name}");
        let got = ggml::dequantize(*ty, &blocks).unwrap();
        assert_eq!(got.len(), expect.len(), "{name}");
        for (i, (g, e)) in got.iter().zip(&expect).enumerate() {
            assert_eq!(g.to_bits(), e.to_bits(), "{name}[{i}]: {g} vs gguf-py {e}");
        }
        let half = ggml::dequantize_f16(*ty, &blocks).unwrap();
        for (i, (g, e)) in half.iter().zip(&expect).enumerate() {
            assert_eq!(
                g.to_bits(),
                f16::from_f32(*e).to_bits(),
                "{name}[{i}] as f16"
            );
        }
    }
}

/// The every-type file (written by gguf-py's `GGUFWriter`): names, dtypes,
/// shapes and values through `load_gguf`.
#[test]
fn a_file_with_every_type_loads_with_the_right_dtypes_and_values() {
    let path = format!("{DIR}/all_types.gguf");
    let info = io::inspect_gguf(&path).unwrap();
    assert_eq!(info.tensors.len(), 20);
    // Copied: MLX is not involved, but the load must not need write access.
    let dir = TempDir::new("ggml-all");
    let p = dir.write("all.gguf", &std::fs::read(&path).unwrap());
    let mut perms = std::fs::metadata(&p).unwrap().permissions();
    perms.set_readonly(true);
    std::fs::set_permissions(&p, perms).unwrap();
    let g = io::load_gguf(&p).unwrap();
    assert_eq!(g.metadata["general.name"].as_str(), Some("every GGML type"));
    let u = g.metadata["test.u32"].as_array().unwrap();
    assert_eq!(
        (u.dtype(), u.to_vec::<u32>().unwrap()),
        (Dtype::Uint32, vec![7])
    );
    for (name, ty, rows, cols) in types() {
        if name == "Q8_1" {
            continue;
        }
        let key = format!("{}.weight", name.to_lowercase());
        let t = info.tensors.iter().find(|t| t.name == key).unwrap();
        assert_eq!(
            (t.ggml_type, t.shape.as_slice()),
            (ty, &[rows as i32, cols as i32][..])
        );
        let a = &g.arrays[&key];
        let (_, expect) = fixture(&name);
        if ty.is_mlx_quantized() {
            let bits = if ty == GgmlType::Q8_0 { 8 } else { 4 };
            let shape = [rows as i32, (cols * bits / 32) as i32];
            assert_eq!((a.dtype(), a.shape()), (Dtype::Uint32, &shape[..]), "{key}");
            let s = &g.arrays[&format!("{}.scales", name.to_lowercase())];
            let b = &g.arrays[&format!("{}.biases", name.to_lowercase())];
            let gshape = [rows as i32, (cols / 32) as i32];
            assert_eq!((s.dtype(), s.shape()), (Dtype::Float16, &gshape[..]));
            assert_eq!((b.dtype(), b.shape()), (Dtype::Float16, &gshape[..]));
            // scale * code + bias reproduces gguf-py's values up to MLX's
            // float16 arithmetic (a few float16 steps of the row's largest
            // value).
            let q = mlx_rs::quantization::Quantized {
                weights: a.clone(),
                scales: s.clone(),
                biases: Some(b.clone()),
                mode: mlx_rs::quantization::QuantMode::affine(bits as i32, 32).unwrap(),
            };
            let w = mlx_rs::quantization::dequantize(&q, Some(Dtype::Float32))
                .unwrap()
                .to_vec::<f32>()
                .unwrap();
            for (row, (w, e)) in w.chunks(cols).zip(expect.chunks(cols)).enumerate() {
                let max = e.iter().fold(0f32, |m, v| m.max(v.abs()));
                if bits == 8 && 2.0 * max > 65504.0 {
                    // MLX's Q8_0 mapping (codes + 128, bias -128 d) computes
                    // d * code in float16: rows past 32752 overflow (here
                    // the row scaled by 1e4), in MLX's reader as in ours.
                    assert!(w.iter().any(|x| x.is_infinite()), "{key} row {row}");
                    continue;
                }
                for (x, e) in w.iter().zip(e) {
                    assert!((x - e).abs() <= 4e-3 * max, "{key} row {row}: {x} vs {e}");
                }
            }
        } else {
            assert_eq!(
                (a.dtype(), a.shape()),
                (Dtype::Float16, &[rows as i32, cols as i32][..]),
                "{key}"
            );
            let got = a.to_vec::<f16>().unwrap();
            for (i, (g, e)) in got.iter().zip(&expect).enumerate() {
                assert_eq!(g.to_bits(), f16::from_f32(*e).to_bits(), "{key}[{i}]");
            }
        }
    }
    let f = &g.arrays["f32.weight"];
    assert_eq!((f.dtype(), f.shape()), (Dtype::Float32, &[3, 32][..]));
    let (_, f32s) = (0, std::fs::read(format!("{DIR}/F32.f32")).unwrap());
    let expect: Vec<f32> = f32s
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    assert_eq!(f.to_vec::<f32>().unwrap(), expect);
    assert_eq!(g.arrays["f16.weight"].dtype(), Dtype::Float16);
}

fn bytes_of(a: &Array) -> (Dtype, Vec<i32>, Vec<u8>) {
    let b = match a.dtype() {
        Dtype::Float16 => bytemuck_vec(&a.to_vec::<f16>().unwrap()),
        Dtype::Float32 => bytemuck_vec(&a.to_vec::<f32>().unwrap()),
        Dtype::Uint32 => bytemuck_vec(&a.to_vec::<u32>().unwrap()),
        Dtype::Int32 => bytemuck_vec(&a.to_vec::<i32>().unwrap()),
        Dtype::Int16 => bytemuck_vec(&a.to_vec::<i16>().unwrap()),
        Dtype::Int8 => bytemuck_vec(&a.to_vec::<i8>().unwrap()),
        Dtype::Uint8 => a.to_vec::<u8>().unwrap(),
        Dtype::Uint16 => bytemuck_vec(&a.to_vec::<u16>().unwrap()),
        Dtype::Uint64 => bytemuck_vec(&a.to_vec::<u64>().unwrap()),
        Dtype::Int64 => bytemuck_vec(&a.to_vec::<i64>().unwrap()),
        Dtype::Bool => a
            .to_vec::<bool>()
            .unwrap()
            .iter()
            .map(|&b| b as u8)
            .collect(),
        d => panic!("unexpected dtype {d:?}"),
    };
    (a.dtype(), a.shape().to_vec(), b)
}

fn bytemuck_vec<T: Copy>(v: &[T]) -> Vec<u8> {
    let n = std::mem::size_of_val(v);
    // SAFETY: plain numbers, read as bytes within the slice.
    unsafe { std::slice::from_raw_parts(v.as_ptr().cast::<u8>(), n) }.to_vec()
}

/// A file MLX reads (Q4_0/Q4_1/Q8_0, floats, ints, every metadata type):
/// the Rust reader gives exactly what MLX's gives.
#[test]
fn the_rust_reader_matches_mlx_on_the_types_mlx_reads() {
    let mut b = GgufBuilder::new()
        .kv_str("general.name", "mlx types")
        .kv_raw(b"u8", 0, &[200])
        .kv_raw(b"i8", 1, &[253])
        .kv_raw(b"u16", 2, &60000u16.to_le_bytes())
        .kv_raw(b"i16", 3, &(-300i16).to_le_bytes())
        .kv_u32("u32", 4_000_000_000)
        .kv_raw(b"i32", 5, &(-5i32).to_le_bytes())
        .kv_raw(b"f32", 6, &1.5f32.to_le_bytes())
        .kv_raw(b"bool", 7, &[1])
        .kv_raw(b"u64", 10, &(1u64 << 40).to_le_bytes())
        .kv_raw(b"i64", 11, &(-(1i64 << 40)).to_le_bytes())
        .kv_strings("strings", &["a", "bé"]);
    let mut ints = 5u32.to_le_bytes().to_vec();
    ints.extend(3u64.to_le_bytes());
    for v in [1i32, -2, 3] {
        ints.extend(v.to_le_bytes());
    }
    b = b.kv_raw(b"ints", 9, &ints);
    let mut floats = 6u32.to_le_bytes().to_vec();
    floats.extend(2u64.to_le_bytes());
    for v in [0.25f32, -4.0] {
        floats.extend(v.to_le_bytes());
    }
    b = b.kv_raw(b"floats", 9, &floats);
    for name in ["Q4_0", "Q4_1", "Q8_0", "BF16"] {
        let (blocks, _) = fixture(name);
        let code = types().iter().find(|t| t.0 == name).unwrap().1.code();
        b = b.tensor(
            &format!("{}.weight", name.to_lowercase()),
            &[512, 4],
            code,
            &blocks,
        );
    }
    let f: Vec<u8> = (0..64)
        .flat_map(|i| (i as f32 * 0.5 - 3.0).to_le_bytes())
        .collect();
    b = b.tensor("f32.weight", &[32, 2], 0, &f);
    let h: Vec<u8> = (0..64)
        .flat_map(|i| f16::from_f32(i as f32 - 9.0).to_le_bytes())
        .collect();
    b = b.tensor("f16.weight", &[64], 1, &h);
    let i8s: Vec<u8> = (0..32).map(|i| (i * 7) as u8).collect();
    b = b.tensor("ints.i8", &[32], 24, &i8s);
    let i32s: Vec<u8> = (0..8).flat_map(|i| (i * -1000i32).to_le_bytes()).collect();
    b = b.tensor("ints.i32", &[8], 26, &i32s);
    let dir = TempDir::new("ggml-vs-mlx");
    let p = dir.write("m.gguf", &b.build());
    let mlx = io::load_gguf(&p).unwrap();
    let rust = io::load_gguf_native(&p).unwrap();
    let keys = |m: &HashMap<String, Array>| {
        let mut k: Vec<String> = m.keys().cloned().collect();
        k.sort();
        k
    };
    assert_eq!(keys(&rust.arrays), keys(&mlx.arrays));
    assert_eq!(rust.arrays.len(), 14);
    for (k, a) in &mlx.arrays {
        assert_eq!(bytes_of(&rust.arrays[k]), bytes_of(a), "tensor {k}");
    }
    let mut mk: Vec<&String> = mlx.metadata.keys().collect();
    let mut rk: Vec<&String> = rust.metadata.keys().collect();
    mk.sort();
    rk.sort();
    assert_eq!(rk, mk);
    for (k, v) in &mlx.metadata {
        match (v, &rust.metadata[k]) {
            (GgufValue::Array(a), GgufValue::Array(b)) => {
                assert_eq!(bytes_of(b), bytes_of(a), "metadata {k}")
            }
            (GgufValue::String(a), GgufValue::String(b)) => assert_eq!(a, b),
            (GgufValue::Strings(a), GgufValue::Strings(b)) => assert_eq!(a, b),
            (a, b) => panic!("metadata {k}: MLX {a:?}, Rust {b:?}"),
        }
    }
}

fn expect_invalid(r: Result<impl std::fmt::Debug, Error>, what: &str, needle: &str) {
    match r {
        Err(e @ Error::InvalidFile { .. }) => {
            assert!(
                e.to_string().contains(needle),
                "{what}: {e} lacks {needle:?}"
            )
        }
        other => panic!("{what}: expected InvalidFile, got {other:?}"),
    }
}

fn one_tensor(ttype: u32, dims: &[u64], data: &[u8]) -> Vec<u8> {
    GgufBuilder::new()
        .kv_str("general.name", "x")
        .tensor("t.weight", dims, ttype, data)
        .build()
}

#[test]
fn hostile_blocks_are_errors() {
    let dir = TempDir::new("ggml-hostile");
    let (q4k, _) = fixture("Q4_K");
    let block = &q4k[..144];
    // A NaN and an infinite super-block scale, and a NaN min.
    for (what, off, bits) in [
        ("NaN d", 0, 0x7E00u16),
        ("inf d", 0, 0x7C00),
        ("NaN dmin", 2, 0xFE00),
    ] {
        let mut b = block.to_vec();
        b[off..off + 2].copy_from_slice(&bits.to_le_bytes());
        expect_invalid(
            ggml::dequantize(GgmlType::Q4K, &b),
            what,
            "NaN or infinite scale",
        );
        let p = dir.write("nan.gguf", &one_tensor(12, &[256], &b));
        expect_invalid(io::load_gguf(&p).map(drop), what, "NaN or infinite scale");
    }
    // Every type: a NaN scale, where the block has one.
    for (name, ty, _, _) in types() {
        let (blocks, _) = fixture(&name);
        let off = match name.as_str() {
            "Q2_K" => 80,
            "Q3_K" => 108,
            "Q6_K" => 208,
            "Q8_K" => {
                let mut b = blocks.clone();
                b[..4].copy_from_slice(&f32::NAN.to_le_bytes());
                expect_invalid(ggml::dequantize(ty, &b[..292]), &name, "NaN");
                continue;
            }
            "BF16" | "MXFP4" | "NVFP4" => continue,
            "TQ1_0" => 52,
            "TQ2_0" => 64,
            _ => 0,
        };
        let mut b = blocks.clone();
        b[off..off + 2].copy_from_slice(&0x7E00u16.to_le_bytes());
        expect_invalid(ggml::dequantize(ty, &b), &name, "NaN or infinite scale");
    }
    // A Q8_0 block with a NaN scale in a file the Rust reader takes.
    let (q80, _) = fixture("Q8_0");
    let mut b = q80[..34].to_vec();
    b[..2].copy_from_slice(&0x7E00u16.to_le_bytes());
    let file = GgufBuilder::new()
        .tensor("a.weight", &[32], 8, &b)
        .tensor("k.weight", &[256], 12, block)
        .build();
    expect_invalid(
        io::load_gguf(dir.write("q8.gguf", &file)).map(drop),
        "Q8_0 NaN",
        "NaN or infinite scale",
    );
    // Truncated block data, a row that is not whole blocks, grid types,
    // unknown codes, overflowing dimensions.
    let file = one_tensor(13, &[512], &q4k[..300]);
    let cut = &file[..file.len() - 40];
    expect_invalid(
        io::load_gguf(dir.write("cut.gguf", cut)).map(drop),
        "truncated",
        "truncated",
    );
    let file = one_tensor(13, &[128, 2], &q4k[..176]);
    expect_invalid(
        io::load_gguf(dir.write("rows.gguf", &file)).map(drop),
        "rows",
        "divisible by 256",
    );
    let file = one_tensor(16, &[256], &[0; 66]);
    expect_invalid(
        io::load_gguf(dir.write("iq2.gguf", &file)).map(drop),
        "IQ2_XXS",
        "IQ2_XXS needs llama.cpp's grid tables",
    );
    let file = one_tensor(99, &[256], &[0; 64]);
    expect_invalid(
        io::load_gguf(dir.write("99.gguf", &file)).map(drop),
        "code 99",
        "GGML type code 99 is unknown",
    );
    let file = one_tensor(11, &[1 << 30, 1 << 30, 1 << 30, 1 << 30], &[0; 110]);
    expect_invalid(
        io::load_gguf(dir.write("big.gguf", &file)).map(drop),
        "dims",
        "t.weight",
    );
    // The in-memory API: lengths that are not whole blocks, unknown types.
    expect_invalid(
        ggml::dequantize(GgmlType::Q5K, &q4k[..100]),
        "partial",
        "not 0 whole blocks",
    );
    expect_invalid(
        ggml::dequantize(GgmlType::Other(19), &[0; 50]),
        "IQ1_S",
        "IQ1_S needs",
    );
    expect_invalid(ggml::dequantize(GgmlType::Other(77), &[0; 50]), "77", "77");
}

#[test]
fn every_stored_type_name_round_trips() {
    for code in 0..64u32 {
        let t = GgmlType::from_code(code);
        assert_eq!(t.code(), code);
        if !matches!(t, GgmlType::Other(_)) {
            assert!(t.mlx_dtype().is_some(), "{t}");
        }
    }
    assert_eq!(GgmlType::from_code(13), GgmlType::Q5K);
    assert_eq!(GgmlType::Q5K.name(), "Q5_K");
    assert_eq!(GgmlType::from_code(22).name(), "IQ2_S");
    assert!(GgmlType::Q8_0.mlx_reads() && !GgmlType::Q4K.mlx_reads());
}
