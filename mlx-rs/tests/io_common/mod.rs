//! Shared helpers of the `io_*` tests: temporary directories and the
//! generator of hostile files (built here byte by byte, never committed as
//! blobs).

#![allow(dead_code)]

mod mlxfn;

#[allow(unused_imports)] // only io_hostile_mlxfn uses it
pub use mlxfn::*;

use std::path::{Path, PathBuf};

/// A directory removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static N: AtomicUsize = AtomicUsize::new(0);
        let p = std::env::temp_dir().join(format!(
            "mlx-rs-io-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    pub fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let p = self.0.join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

// ------------------------------------------------------------ safetensors

/// A safetensors file from a raw header and data.
pub fn safetensors_raw(header: &[u8], data: &[u8]) -> Vec<u8> {
    let mut v = (header.len() as u64).to_le_bytes().to_vec();
    v.extend_from_slice(header);
    v.extend_from_slice(data);
    v
}

/// A valid safetensors file: `a` (F32 [2,2]) and `b` (I16 [3]), metadata.
pub fn safetensors_valid() -> Vec<u8> {
    let header = br#"{"__metadata__":{"k":"v"},"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},"b":{"dtype":"I16","shape":[3],"data_offsets":[16,22]}}"#;
    let mut data = Vec::new();
    for x in [1.0f32, 2.0, 3.0, 4.0] {
        data.extend_from_slice(&x.to_le_bytes());
    }
    for x in [-1i16, 0, 1] {
        data.extend_from_slice(&x.to_le_bytes());
    }
    safetensors_raw(header, &data)
}

/// Hostile safetensors files: (name, bytes).
pub fn safetensors_corpus() -> Vec<(String, Vec<u8>)> {
    let t = |h: &str, data_len: usize| safetensors_raw(h.as_bytes(), &vec![0u8; data_len]);
    let mut c: Vec<(String, Vec<u8>)> = vec![
        ("empty".into(), vec![]),
        ("seven bytes".into(), vec![1, 0, 0, 0, 0, 0, 0]),
        ("header length beyond file".into(), {
            let mut v = 1000u64.to_le_bytes().to_vec();
            v.extend_from_slice(b"{}");
            v
        }),
        ("header length u64::MAX".into(), {
            let mut v = u64::MAX.to_le_bytes().to_vec();
            v.extend_from_slice(b"{}");
            v
        }),
        ("header length 2^40".into(), {
            let mut v = (1u64 << 40).to_le_bytes().to_vec();
            v.extend_from_slice(&[b' '; 64]);
            v
        }),
        ("header length zero".into(), 0u64.to_le_bytes().to_vec()),
        ("header not json".into(), t("not json at all", 0)),
        ("header json array".into(), t("[1,2,3]", 0)),
        (
            "header truncated json".into(),
            t(r#"{"a":{"dtype":"F32","#, 0),
        ),
        ("non-utf8 key".into(), {
            let mut h = b"{\"".to_vec();
            h.extend_from_slice(&[0xff, 0xfe, 0x80]);
            h.extend_from_slice(br#"":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}"#);
            safetensors_raw(&h, &[0])
        }),
        (
            "nul in key".into(),
            t(
                r#"{"a\u0000b":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}"#,
                1,
            ),
        ),
        (
            "unknown dtype".into(),
            t(
                r#"{"a":{"dtype":"Q9","shape":[1],"data_offsets":[0,1]}}"#,
                1,
            ),
        ),
        (
            "f64 (MLX cannot load)".into(),
            t(
                r#"{"a":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}}"#,
                8,
            ),
        ),
        (
            "f8_e5m2".into(),
            t(
                r#"{"a":{"dtype":"F8_E5M2","shape":[1],"data_offsets":[0,1]}}"#,
                1,
            ),
        ),
        (
            "dtype not a string".into(),
            t(r#"{"a":{"dtype":7,"shape":[1],"data_offsets":[0,1]}}"#, 1),
        ),
        (
            "missing shape".into(),
            t(r#"{"a":{"dtype":"U8","data_offsets":[0,1]}}"#, 1),
        ),
        (
            "negative dim".into(),
            t(
                r#"{"a":{"dtype":"U8","shape":[-1],"data_offsets":[0,1]}}"#,
                1,
            ),
        ),
        (
            "float dim".into(),
            t(
                r#"{"a":{"dtype":"U8","shape":[1.5],"data_offsets":[0,1]}}"#,
                1,
            ),
        ),
        (
            "dim beyond i32".into(),
            t(
                r#"{"a":{"dtype":"U8","shape":[4294967296],"data_offsets":[0,1]}}"#,
                1,
            ),
        ),
        (
            "huge shape, tiny file".into(),
            t(
                r#"{"a":{"dtype":"F32","shape":[2147483647,2147483647,2147483647],"data_offsets":[0,4]}}"#,
                4,
            ),
        ),
        (
            "huge shape matching offsets".into(),
            t(
                r#"{"a":{"dtype":"U8","shape":[65536,65536],"data_offsets":[0,4294967296]}}"#,
                16,
            ),
        ),
        (
            "reversed offsets".into(),
            t(
                r#"{"a":{"dtype":"U8","shape":[0],"data_offsets":[4,0]}}"#,
                4,
            ),
        ),
        (
            "offsets size mismatch".into(),
            t(
                r#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}"#,
                8,
            ),
        ),
        (
            "offsets beyond end".into(),
            t(
                r#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#,
                4,
            ),
        ),
        (
            "offsets u64 max".into(),
            t(
                r#"{"a":{"dtype":"U8","shape":[1],"data_offsets":[18446744073709551615,18446744073709551615]}}"#,
                1,
            ),
        ),
        (
            "three offsets".into(),
            t(
                r#"{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1,2]}}"#,
                2,
            ),
        ),
        (
            "duplicate key".into(),
            t(
                r#"{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}}"#,
                2,
            ),
        ),
        (
            "metadata not strings".into(),
            t(r#"{"__metadata__":{"k":1}}"#, 0),
        ),
        (
            "metadata not object".into(),
            t(r#"{"__metadata__":[1]}"#, 0),
        ),
        ("tensor not object".into(), t(r#"{"a":5}"#, 0)),
    ];
    // Every proper prefix of a valid file.
    let valid = safetensors_valid();
    for n in 0..valid.len() {
        c.push((
            format!("valid file truncated to {n} bytes"),
            valid[..n].to_vec(),
        ));
    }
    c
}

// ------------------------------------------------------------------- GGUF

/// Builds GGUF files field by field.
#[derive(Default, Clone)]
pub struct GgufBuilder {
    pub version: u32,
    pub kv: Vec<u8>,
    pub n_kv: u64,
    pub tensors: Vec<u8>,
    pub n_tensors: u64,
    pub data: Vec<u8>,
    /// Overrides for the counts written in the header.
    pub claim_kv: Option<u64>,
    pub claim_tensors: Option<u64>,
}

pub fn gstr(s: &[u8]) -> Vec<u8> {
    let mut v = (s.len() as u64).to_le_bytes().to_vec();
    v.extend_from_slice(s);
    v
}

impl GgufBuilder {
    pub fn new() -> Self {
        GgufBuilder {
            version: 3,
            ..Default::default()
        }
    }

    /// A key and a raw (type, value bytes) pair.
    pub fn kv_raw(mut self, key: &[u8], vtype: u32, value: &[u8]) -> Self {
        self.kv.extend(gstr(key));
        self.kv.extend(vtype.to_le_bytes());
        self.kv.extend_from_slice(value);
        self.n_kv += 1;
        self
    }

    pub fn kv_u32(self, key: &str, v: u32) -> Self {
        self.kv_raw(key.as_bytes(), 4, &v.to_le_bytes())
    }

    pub fn kv_str(self, key: &str, v: &str) -> Self {
        self.kv_raw(key.as_bytes(), 8, &gstr(v.as_bytes()))
    }

    pub fn kv_strings(self, key: &str, v: &[&str]) -> Self {
        let mut b = 8u32.to_le_bytes().to_vec();
        b.extend((v.len() as u64).to_le_bytes());
        for s in v {
            b.extend(gstr(s.as_bytes()));
        }
        self.kv_raw(key.as_bytes(), 9, &b)
    }

    /// A tensor info; `dims` in GGML order; data appended (aligned to 32).
    pub fn tensor_raw(mut self, name: &[u8], dims: &[u64], ttype: u32, offset: u64) -> Self {
        self.tensors.extend(gstr(name));
        self.tensors.extend((dims.len() as u32).to_le_bytes());
        for d in dims {
            self.tensors.extend(d.to_le_bytes());
        }
        self.tensors.extend(ttype.to_le_bytes());
        self.tensors.extend(offset.to_le_bytes());
        self.n_tensors += 1;
        self
    }

    /// A tensor whose data is `bytes`, placed at the next aligned offset.
    pub fn tensor(mut self, name: &str, dims: &[u64], ttype: u32, bytes: &[u8]) -> Self {
        while self.data.len() % 32 != 0 {
            self.data.push(0);
        }
        let off = self.data.len() as u64;
        self.data.extend_from_slice(bytes);
        self.tensor_raw(name.as_bytes(), dims, ttype, off)
    }

    pub fn build(&self) -> Vec<u8> {
        let mut v = b"GGUF".to_vec();
        v.extend(self.version.to_le_bytes());
        v.extend(self.claim_tensors.unwrap_or(self.n_tensors).to_le_bytes());
        v.extend(self.claim_kv.unwrap_or(self.n_kv).to_le_bytes());
        v.extend_from_slice(&self.kv);
        v.extend_from_slice(&self.tensors);
        while v.len() % 32 != 0 {
            v.push(0);
        }
        v.extend_from_slice(&self.data);
        v
    }
}

/// A small valid GGUF: an F32 tensor, a Q8_0 tensor, and metadata.
pub fn gguf_valid_builder() -> GgufBuilder {
    let f32_bytes: Vec<u8> = (0..32).flat_map(|i| (i as f32).to_le_bytes()).collect();
    // One Q8_0 block: f16 scale 1.0 (0x3c00) and 32 int8 quants.
    let mut q8 = vec![0x00, 0x3c];
    q8.extend((0..32).map(|i| (i as i8 - 16) as u8));
    GgufBuilder::new()
        .kv_str("general.name", "tiny")
        .kv_u32("general.alignment", 32)
        .kv_strings("tokenizer.ggml.tokens", &["<s>", "a", "b"])
        .tensor("norm.weight", &[32], 0, &f32_bytes)
        .tensor("proj.weight", &[32, 1], 8, &q8)
}

/// Hostile GGUF files: (name, bytes).
pub fn gguf_corpus() -> Vec<(String, Vec<u8>)> {
    let valid = gguf_valid_builder();
    let f32x32: Vec<u8> = vec![0; 128];
    let base = || GgufBuilder::new().kv_str("general.name", "x");
    let mut c: Vec<(String, Vec<u8>)> = vec![
        ("empty".into(), vec![]),
        ("wrong magic".into(), {
            let mut v = valid.build();
            v[..4].copy_from_slice(b"GGML");
            v
        }),
        ("safetensors bytes".into(), safetensors_valid()),
        ("version 1".into(), {
            let mut b = valid.clone();
            b.version = 1;
            b.build()
        }),
        ("version 99".into(), {
            let mut b = valid.clone();
            b.version = 99;
            b.build()
        }),
        ("big-endian version".into(), {
            let mut b = valid.clone();
            b.version = 3u32.swap_bytes();
            b.build()
        }),
        ("huge kv count".into(), {
            let mut b = valid.clone();
            b.claim_kv = Some(u64::MAX);
            b.build()
        }),
        ("huge tensor count".into(), {
            let mut b = valid.clone();
            b.claim_tensors = Some(1 << 40);
            b.build()
        }),
        ("one more kv than present".into(), {
            let mut b = valid.clone();
            b.claim_kv = Some(b.n_kv + 1);
            b.build()
        }),
        ("key length u64::MAX".into(), {
            let mut v = b"GGUF".to_vec();
            v.extend(3u32.to_le_bytes());
            v.extend(0u64.to_le_bytes());
            v.extend(1u64.to_le_bytes());
            v.extend(u64::MAX.to_le_bytes());
            v.extend([0u8; 32]);
            v
        }),
        (
            "string value length beyond file".into(),
            base().kv_raw(b"k", 8, &(1u64 << 50).to_le_bytes()).build(),
        ),
        (
            "unknown value type".into(),
            base().kv_raw(b"k", 77, &[0; 8]).build(),
        ),
        (
            "unknown array element type".into(),
            base()
                .kv_raw(
                    b"k",
                    9,
                    &[&99u32.to_le_bytes()[..], &1u64.to_le_bytes()[..]].concat(),
                )
                .build(),
        ),
        (
            "array length beyond file".into(),
            base()
                .kv_raw(
                    b"k",
                    9,
                    &[&4u32.to_le_bytes()[..], &(1u64 << 60).to_le_bytes()[..]].concat(),
                )
                .build(),
        ),
        (
            "string array length beyond file".into(),
            base()
                .kv_raw(
                    b"k",
                    9,
                    &[&8u32.to_le_bytes()[..], &u64::MAX.to_le_bytes()[..]].concat(),
                )
                .build(),
        ),
        ("deeply nested arrays".into(), {
            let mut v = Vec::new();
            for _ in 0..64 {
                v.extend(9u32.to_le_bytes());
                v.extend(1u64.to_le_bytes());
            }
            v.extend(4u32.to_le_bytes());
            v.extend(0u64.to_le_bytes());
            base().kv_raw(b"k", 9, &v).build()
        }),
        (
            "bool value 2".into(),
            base().kv_raw(b"flag", 7, &[2]).build(),
        ),
        (
            "non-utf8 key".into(),
            base().kv_raw(&[0xff, 0xfe], 4, &1u32.to_le_bytes()).build(),
        ),
        (
            "non-utf8 string value".into(),
            base().kv_raw(b"k", 8, &gstr(&[0xc3, 0x28])).build(),
        ),
        (
            "non-utf8 token".into(),
            base()
                .kv_raw(
                    b"tokenizer.ggml.tokens",
                    9,
                    &[
                        &8u32.to_le_bytes()[..],
                        &1u64.to_le_bytes()[..],
                        &gstr(&[0x80])[..],
                    ]
                    .concat(),
                )
                .build(),
        ),
        (
            "duplicate key".into(),
            base().kv_str("general.name", "y").build(),
        ),
        (
            "alignment 64".into(),
            base().kv_u32("general.alignment", 64).build(),
        ),
        (
            "alignment as string".into(),
            base().kv_str("general.alignment", "32").build(),
        ),
        (
            "non-utf8 tensor name".into(),
            base().tensor_raw(&[0xff], &[32], 0, 0).build(),
        ),
        (
            "ndim 5".into(),
            base().tensor_raw(b"t", &[1, 1, 1, 1, 32], 0, 0).build(),
        ),
        ("ndim u32::MAX".into(), {
            let mut b = base();
            b.tensors.extend(gstr(b"t"));
            b.tensors.extend(u32::MAX.to_le_bytes());
            b.n_tensors = 1;
            b.build()
        }),
        (
            "unsupported grid type IQ2_XXS".into(),
            base().tensor("t", &[256], 16, &[0; 66]).build(),
        ),
        (
            "Q4_K data one byte short".into(),
            base().tensor("t", &[256], 12, &[0; 143]).build(),
        ),
        (
            "Q6_K row of 128 elements".into(),
            base().tensor("t", &[128, 2], 14, &[0; 210]).build(),
        ),
        (
            "Q3_K two blocks claimed, one present".into(),
            base().tensor("t", &[512], 11, &[0; 110]).build(),
        ),
        (
            "Q5_K dimensions overflow".into(),
            base()
                .tensor("t", &[1 << 31, 1 << 31, 1 << 31, 1 << 31], 13, &[0; 176])
                .build(),
        ),
        (
            "IQ4_XS block size times count overflows".into(),
            base()
                .tensor("t", &[1 << 30, 1 << 30, 1 << 20], 23, &[0; 136])
                .build(),
        ),
        (
            "unknown type 1000".into(),
            base().tensor("t", &[32], 1000, &[0; 64]).build(),
        ),
        (
            "Q4_0 dim not divisible by 32".into(),
            base().tensor("t", &[31], 2, &[0; 18]).build(),
        ),
        (
            "dim beyond i32".into(),
            base().tensor("t", &[1 << 31], 24, &[0; 32]).build(),
        ),
        (
            "element count overflow".into(),
            base()
                .tensor("t", &[1 << 30, 1 << 30, 1 << 30, 1 << 30], 24, &[0; 32])
                .build(),
        ),
        (
            "misaligned offset".into(),
            base().tensor_raw(b"t", &[4], 24, 3).build(),
        ),
        (
            "offset beyond file".into(),
            base().tensor_raw(b"t", &[32], 0, 1 << 40).build(),
        ),
        (
            "offset u64 max".into(),
            base().tensor_raw(b"t", &[32], 0, !31u64).build(),
        ),
        ("truncated tensor data".into(), {
            let v = base().tensor("t", &[32], 0, &f32x32).build();
            v[..v.len() - 1].to_vec()
        }),
        ("truncated quantized data".into(), {
            let v = base().tensor("t", &[64], 3, &[0; 40]).build();
            v[..v.len() - 7].to_vec()
        }),
        (
            "duplicate tensor".into(),
            base()
                .tensor("t", &[32], 0, &f32x32)
                .tensor("t", &[32], 0, &f32x32)
                .build(),
        ),
    ];
    let v = valid.build();
    for n in 0..v.len() {
        c.push((
            format!("valid file truncated to {n} bytes"),
            v[..n].to_vec(),
        ));
    }
    c
}

// -------------------------------------------------------------------- npy

/// A `.npy` file from a header dict and data.
pub fn npy_raw(dict: &str, data: &[u8]) -> Vec<u8> {
    let mut h = dict.as_bytes().to_vec();
    while (10 + h.len() + 1) % 64 != 0 {
        h.push(b' ');
    }
    h.push(b'\n');
    let mut v = b"\x93NUMPY\x01\x00".to_vec();
    v.extend((h.len() as u16).to_le_bytes());
    v.extend(h);
    v.extend_from_slice(data);
    v
}

pub fn npy_valid() -> Vec<u8> {
    let data: Vec<u8> = [1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0]
        .iter()
        .flat_map(|x| x.to_le_bytes())
        .collect();
    npy_raw(
        "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }",
        &data,
    )
}

/// Hostile `.npy` files: (name, bytes).
pub fn npy_corpus() -> Vec<(String, Vec<u8>)> {
    let d = |dict: &str, n: usize| npy_raw(dict, &vec![0; n]);
    let mut c: Vec<(String, Vec<u8>)> = vec![
        ("wrong magic".into(), {
            let mut v = npy_valid();
            v[1] = b'X';
            v
        }),
        ("version 9".into(), {
            let mut v = npy_valid();
            v[6] = 9;
            v
        }),
        ("header length beyond file".into(), {
            let mut v = npy_valid();
            v[8] = 0xff;
            v[9] = 0xff;
            v
        }),
        ("v2 header length u32::MAX".into(), {
            let mut v = b"\x93NUMPY\x02\x00".to_vec();
            v.extend(u32::MAX.to_le_bytes());
            v.extend([b' '; 64]);
            v
        }),
        ("unsupported dtype".into(), d("{'descr': '<U8', 'fortran_order': False, 'shape': (1,), }", 32)),
        ("object dtype".into(), d("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", 8)),
        ("not a dict".into(), d("[1, 2]", 0)),
        ("missing shape".into(), d("{'descr': '<f4', 'fortran_order': False, }", 4)),
        ("bad shape".into(), d("{'descr': '<f4', 'fortran_order': False, 'shape': (a, b), }", 4)),
        ("negative dim".into(), d("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }", 4)),
        ("dim beyond i32".into(), d("{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296,), }", 4)),
        ("huge shape".into(), d(
            "{'descr': '<f8', 'fortran_order': False, 'shape': (2147483647, 2147483647, 2147483647), }",
            8,
        )),
        ("too little data".into(), d("{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }", 8)),
        ("non-utf8 header".into(), {
            let mut v = npy_valid();
            v[12] = 0xff;
            v
        }),
    ];
    let v = npy_valid();
    for n in 0..v.len() {
        c.push((
            format!("valid file truncated to {n} bytes"),
            v[..n].to_vec(),
        ));
    }
    c
}
