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
