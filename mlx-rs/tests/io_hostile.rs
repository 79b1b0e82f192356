//! Hostile files: every one must be an `Err` (an `InvalidFile` found by
//! the Rust-side header checks), never a crash, an abort, or a huge
//! allocation. The corpus is generated in `io_common`.

mod io_common;

use io_common::*;
use mlx_rs::{io, Error};

fn assert_invalid(what: &str, name: &str, r: Result<(), Error>) {
    match r {
        Err(Error::InvalidFile { .. }) => {}
        other => panic!("{what} {name:?}: expected InvalidFile, got {other:?}"),
    }
}

#[test]
fn safetensors_corpus_is_rejected() {
    let dir = TempDir::new("hostile-st");
    let corpus = safetensors_corpus();
    eprintln!("safetensors_corpus: {} files", corpus.len());
    assert!(corpus.len() > 100);
    for (i, (name, bytes)) in corpus.into_iter().enumerate() {
        let p = dir.write(&format!("{i}.safetensors"), &bytes);
        assert_invalid("file", &name, io::load_safetensors(&p).map(drop));
        assert_invalid("inspect", &name, io::inspect_safetensors(&p).map(drop));
        assert_invalid(
            "bytes",
            &name,
            io::load_safetensors_from_bytes(bytes.clone()).map(drop),
        );
        assert_invalid(
            "reader",
            &name,
            io::load_safetensors_from_reader(std::io::Cursor::new(bytes)).map(drop),
        );
    }
}

#[test]
fn gguf_corpus_is_rejected() {
    let dir = TempDir::new("hostile-gguf");
    let corpus = gguf_corpus();
    eprintln!("gguf_corpus: {} files", corpus.len());
    assert!(corpus.len() > 100);
    for (i, (name, bytes)) in corpus.into_iter().enumerate() {
        let p = dir.write(&format!("{i}.gguf"), &bytes);
        assert_invalid("file", &name, io::load_gguf(&p).map(drop));
        assert_invalid("inspect", &name, io::inspect_gguf(&p).map(drop));
    }
}

#[test]
fn npy_corpus_is_rejected() {
    let dir = TempDir::new("hostile-npy");
    let corpus = npy_corpus();
    eprintln!("npy_corpus: {} files", corpus.len());
    assert!(corpus.len() > 50);
    for (i, (name, bytes)) in corpus.into_iter().enumerate() {
        let p = dir.write(&format!("{i}.npy"), &bytes);
        assert_invalid("file", &name, io::load_npy(&p).map(drop));
        assert_invalid(
            "bytes",
            &name,
            io::load_npy_from_bytes(bytes.clone()).map(drop),
        );
        assert_invalid(
            "reader",
            &name,
            io::load_npy_from_reader(std::io::Cursor::new(bytes)).map(drop),
        );
    }
}

#[test]
fn the_valid_corpus_files_load() {
    let dir = TempDir::new("valid");
    let st = io::load_safetensors(dir.write("v.safetensors", &safetensors_valid())).unwrap();
    assert_eq!(
        st.arrays["a"].to_vec::<f32>().unwrap(),
        [1.0, 2.0, 3.0, 4.0]
    );
    assert_eq!(st.arrays["b"].to_vec::<i16>().unwrap(), [-1, 0, 1]);
    assert_eq!(st.metadata["k"], "v");

    let g = io::load_gguf(dir.write("v.gguf", &gguf_valid_builder().build())).unwrap();
    assert_eq!(g.arrays["norm.weight"].to_vec::<f32>().unwrap()[31], 31.0);
    assert_eq!(g.arrays["proj.weight"].shape(), &[1, 8]);
    assert_eq!(g.arrays["proj.scales"].shape(), &[1, 1]);
    assert_eq!(g.metadata["general.name"].as_str(), Some("tiny"));
    assert_eq!(
        g.metadata["tokenizer.ggml.tokens"].as_strings().unwrap(),
        ["<s>", "a", "b"]
    );

    let a = io::load_npy(dir.write("v.npy", &npy_valid())).unwrap();
    assert_eq!(a.shape(), &[2, 3]);
    assert_eq!(a.to_vec::<f32>().unwrap(), [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
}

#[test]
fn missing_files_are_io_errors() {
    let dir = TempDir::new("missing");
    let p = dir.path().join("nope");
    for r in [
        io::load_safetensors(&p).map(drop),
        io::load_gguf(&p).map(drop),
        io::load_npy(&p).map(drop),
    ] {
        match r {
            Err(Error::Io { kind, .. }) => assert_eq!(kind, std::io::ErrorKind::NotFound),
            other => panic!("{other:?}"),
        }
    }
}

/// Unusual but well-formed files: each loads or is an error, and whatever
/// loads matches its header.
#[test]
fn edge_cases_never_crash() {
    let dir = TempDir::new("edge");
    let f32x4: Vec<u8> = [1.0f32, 2.0, 3.0, 4.0]
        .iter()
        .flat_map(|x| x.to_le_bytes())
        .collect();
    let nested = {
        // [[1, 2], [3]] as arrays of uint32.
        let mut v = 9u32.to_le_bytes().to_vec();
        v.extend(2u64.to_le_bytes());
        for inner in [&[1u32, 2][..], &[3u32][..]] {
            v.extend(4u32.to_le_bytes());
            v.extend((inner.len() as u64).to_le_bytes());
            for x in inner {
                v.extend(x.to_le_bytes());
            }
        }
        v
    };
    let empty_array = [&4u32.to_le_bytes()[..], &0u64.to_le_bytes()[..]].concat();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("no tensors, no metadata", GgufBuilder::new().build()),
        (
            "0-d tensor",
            GgufBuilder::new().tensor("s", &[], 0, &f32x4[..4]).build(),
        ),
        (
            "empty tensor",
            GgufBuilder::new().tensor("e", &[0, 4], 0, &[]).build(),
        ),
        (
            "4-d tensor",
            GgufBuilder::new()
                .tensor("t", &[1, 2, 1, 2], 0, &f32x4)
                .build(),
        ),
        ("empty key", GgufBuilder::new().kv_u32("", 1).build()),
        ("empty string", GgufBuilder::new().kv_str("k", "").build()),
        (
            "empty numeric array",
            GgufBuilder::new().kv_raw(b"k", 9, &empty_array).build(),
        ),
        (
            "nested arrays",
            GgufBuilder::new().kv_raw(b"k", 9, &nested).build(),
        ),
        ("every scalar type", {
            let mut b = GgufBuilder::new();
            for (t, n) in [
                (0u32, 1usize),
                (1, 1),
                (2, 2),
                (3, 2),
                (4, 4),
                (5, 4),
                (6, 4),
                (7, 1),
                (10, 8),
                (11, 8),
                (12, 8),
            ] {
                // The value 1 in `n` little-endian bytes.
                let mut value = vec![0u8; n];
                value[0] = 1;
                b = b.kv_raw(format!("k{t}").as_bytes(), t, &value);
            }
            b.build()
        }),
        ("version 2", {
            let mut b = gguf_valid_builder();
            b.version = 2;
            b.build()
        }),
        (
            "BF16 tensor",
            GgufBuilder::new()
                .tensor("b", &[4], 30, &[0, 0x3f, 0, 0x40, 0, 0, 0, 0xbf])
                .build(),
        ),
    ];
    for (name, bytes) in cases {
        let p = dir.write("edge.gguf", &bytes);
        let info = io::inspect_gguf(&p).unwrap_or_else(|e| panic!("{name}: {e}"));
        match io::load_gguf(&p) {
            Ok(g) => {
                for t in &info.tensors {
                    assert!(g.arrays.contains_key(&t.name), "{name}: {}", t.name);
                }
                mlx_rs::eval(g.arrays.values()).unwrap();
                eprintln!(
                    "{name}: loaded, {} metadata of {}",
                    g.metadata.len(),
                    info.metadata.len()
                );
            }
            Err(e) => eprintln!("{name}: {e}"),
        }
    }
    for (name, header) in [
        ("empty header", &b"{}"[..]),
        ("padded header", &b"{}      "[..]),
        ("metadata only", &br#"{"__metadata__":{"a":"b"}}"#[..]),
        ("null metadata", &br#"{"__metadata__":null}"#[..]),
    ] {
        let st = io::load_safetensors_from_bytes(safetensors_raw(header, &[]))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(st.arrays.is_empty(), "{name}");
    }
}
