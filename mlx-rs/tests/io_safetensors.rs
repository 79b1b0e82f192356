//! safetensors: files, bytes, readers and writers, metadata, every dtype
//! MLX writes, Python-MLX-written files, and misbehaving readers/writers.

mod common;
mod device;
mod io_common;

use std::collections::HashMap;
use std::io::{Cursor, Read, Seek, SeekFrom, Write};

use common::golden::{golden_file, shape, unhex};
use io_common::*;
use mlx_rs::{bf16, f16, io, Array, Complex32, Dtype, Error};

fn sample() -> HashMap<String, Array> {
    HashMap::from([
        (
            "bool".into(),
            Array::from_slice(&[true, false, true], &[3]).unwrap(),
        ),
        (
            "u8".into(),
            Array::from_slice(&[0u8, 7, 255], &[3]).unwrap(),
        ),
        (
            "u16".into(),
            Array::from_slice(&[1u16, 65535], &[2]).unwrap(),
        ),
        (
            "u32".into(),
            Array::from_slice(&[1u32, 2, 3, u32::MAX], &[2, 2]).unwrap(),
        ),
        ("u64".into(), Array::from_slice(&[u64::MAX], &[1]).unwrap()),
        (
            "i8".into(),
            Array::from_slice(&[-128i8, 127], &[2]).unwrap(),
        ),
        (
            "i16".into(),
            Array::from_slice(&[-300i16, 300], &[1, 2]).unwrap(),
        ),
        (
            "i32".into(),
            Array::from_slice(&[-3i32, -2, -1, 0, 1, 2], &[2, 3]).unwrap(),
        ),
        (
            "i64".into(),
            Array::from_slice(&[i64::MIN, i64::MAX], &[2]).unwrap(),
        ),
        (
            "f16".into(),
            Array::from_slice(&[f16::from_f32(0.5), f16::MAX], &[2]).unwrap(),
        ),
        (
            "bf16".into(),
            Array::from_slice(&[bf16::from_f32(1.5), bf16::from_f32(-3.25)], &[2]).unwrap(),
        ),
        (
            "f32".into(),
            Array::from_slice(&[1.25f32, -0.5, 3.0], &[1, 3, 1]).unwrap(),
        ),
        (
            "c64".into(),
            Array::from_slice(&[Complex32::new(1.0, 2.0)], &[1]).unwrap(),
        ),
        ("scalar".into(), Array::scalar(7.0f32).unwrap()),
        (
            "empty".into(),
            Array::zeros(&[0, 3], Dtype::Float32).unwrap(),
        ),
    ])
}

fn assert_same(a: &HashMap<String, Array>, b: &HashMap<String, Array>) {
    assert_eq!(a.len(), b.len());
    for (k, x) in a {
        let y = &b[k];
        assert_eq!((x.shape(), x.dtype()), (y.shape(), y.dtype()), "{k}");
        assert!(
            x.array_equal(y, false).unwrap().item::<bool>().unwrap(),
            "{k}"
        );
    }
}

fn meta() -> HashMap<String, String> {
    HashMap::from([
        ("format".to_string(), "mlx".to_string()),
        ("unicode".to_string(), "héllo ✓ \"quoted\"\n".to_string()),
    ])
}

#[test]
fn file_round_trip_every_dtype() {
    let dir = TempDir::new("st-file");
    let p = dir.path().join("all.safetensors");
    let arrays = sample();
    io::save_safetensors(&p, &arrays, &meta()).unwrap();
    let header = io::inspect_safetensors(&p).unwrap();
    assert_eq!(header.tensors.len(), arrays.len());
    assert_eq!(header.metadata, meta());
    let st = io::load_safetensors(&p).unwrap();
    assert_same(&arrays, &st.arrays);
    assert_eq!(st.metadata, meta());
}

#[test]
fn bytes_and_reader_round_trip() {
    let arrays = sample();
    let bytes = io::save_safetensors_to_vec(&arrays, &meta()).unwrap();
    let st = io::load_safetensors_from_bytes(bytes.clone()).unwrap();
    assert_same(&arrays, &st.arrays);
    assert_eq!(st.metadata, meta());
    let st = io::load_safetensors_from_bytes(std::sync::Arc::<[u8]>::from(bytes.clone())).unwrap();
    assert_same(&arrays, &st.arrays);
    let st = io::load_safetensors_from_reader(Cursor::new(bytes.clone())).unwrap();
    assert_same(&arrays, &st.arrays);
    // The file and in-memory encodings are the same bytes.
    let dir = TempDir::new("st-bytes");
    let p = dir.path().join("x.safetensors");
    io::save_safetensors(&p, &arrays, &meta()).unwrap();
    let on_disk = io::load_safetensors(&p).unwrap();
    assert_same(&on_disk.arrays, &st.arrays);
}

#[test]
fn no_metadata_and_views() {
    let a = Array::from_slice(&[1i32, 2, 3, 4, 5, 6], &[2, 3]).unwrap();
    let t = a.transpose().unwrap();
    let bytes = io::save_safetensors_to_vec([("t", &t)], [] as [(&str, &str); 0]).unwrap();
    let st = io::load_safetensors_from_bytes(bytes).unwrap();
    assert!(st.metadata.is_empty());
    assert_eq!(st.arrays["t"].shape(), &[3, 2]);
    assert_eq!(st.arrays["t"].to_vec::<i32>().unwrap(), [1, 4, 2, 5, 3, 6]);
}

#[test]
fn lazily_loaded_arrays_outlive_the_source_and_cross_threads() {
    let bytes = io::save_safetensors_to_vec(&sample(), &meta()).unwrap();
    let st = io::load_safetensors_from_reader(Cursor::new(bytes)).unwrap();
    // The source now belongs to the arrays; evaluate them on this thread
    // while other threads load and evaluate their own copies.
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let bytes = io::save_safetensors_to_vec(&sample(), &meta()).unwrap();
            std::thread::spawn(move || {
                let st = io::load_safetensors_from_bytes(bytes).unwrap();
                mlx_rs::eval(st.arrays.values()).unwrap();
                st.arrays["i32"].to_vec::<i32>().unwrap()
            })
        })
        .collect();
    assert_same(&sample(), &st.arrays);
    for h in handles {
        assert_eq!(h.join().unwrap(), [-3, -2, -1, 0, 1, 2]);
    }
}

#[test]
fn float64_and_nul_names_are_errors() {
    let f64s = Array::from_slice(&[1.0f64], &[1]).unwrap();
    assert!(matches!(
        io::save_safetensors_to_vec([("x", &f64s)], [] as [(&str, &str); 0]),
        Err(Error::Mlx { .. })
    ));
    let a = Array::scalar(1u8).unwrap();
    assert!(matches!(
        io::save_safetensors_to_vec([("a\0b", &a)], [] as [(&str, &str); 0]),
        Err(Error::InvalidData { .. })
    ));
    assert!(matches!(
        io::save_safetensors_to_vec([("a", &a)], [("k", "v\0")]),
        Err(Error::InvalidData { .. })
    ));
}

#[test]
fn f8_e4m3_loads_as_raw_bytes() {
    let file = safetensors_raw(
        br#"{"x":{"dtype":"F8_E4M3","shape":[2],"data_offsets":[0,2]}}"#,
        &[0x38, 0x40],
    );
    let st = io::load_safetensors_from_bytes(file).unwrap();
    assert_eq!(st.arrays["x"].dtype(), Dtype::Uint8);
    assert_eq!(st.arrays["x"].to_vec::<u8>().unwrap(), [0x38, 0x40]);
}

#[test]
fn python_written_file_loads_identically() {
    let golden = golden_file!("io_files.json");
    let g = &golden["safetensors"];
    let st = io::load_safetensors_from_bytes(unhex(g["hex"].as_str().unwrap())).unwrap();
    let arrays = g["arrays"].as_object().unwrap();
    assert_eq!(st.arrays.len(), arrays.len());
    for (k, e) in arrays {
        let a = &st.arrays[k];
        assert_eq!(a.dtype().name(), e["dtype"].as_str().unwrap(), "{k}");
        let shape = shape(&e["shape"]);
        assert_eq!(a.shape(), shape.as_slice(), "{k}");
        let want = e["values"].as_array().unwrap();
        let got: Vec<serde_json::Value> = match a.dtype() {
            Dtype::Bool => a
                .to_vec::<bool>()
                .unwrap()
                .into_iter()
                .map(Into::into)
                .collect(),
            Dtype::Complex64 => a
                .to_vec::<Complex32>()
                .unwrap()
                .into_iter()
                .map(|c| serde_json::json!([c.re, c.im]))
                .collect(),
            Dtype::Uint64 => a
                .to_vec::<u64>()
                .unwrap()
                .into_iter()
                .map(Into::into)
                .collect(),
            Dtype::Int64 => a
                .to_vec::<i64>()
                .unwrap()
                .into_iter()
                .map(Into::into)
                .collect(),
            // read on the host: no float64 op, whatever the device
            _ => device::host_f64(a).into_iter().map(Into::into).collect(),
        };
        let num =
            |v: &serde_json::Value| v.as_f64().map(serde_json::Value::from).unwrap_or(v.clone());
        let got: Vec<_> = got.iter().map(num).collect();
        let want: Vec<_> = want.iter().map(num).collect();
        assert_eq!(got, want, "{k}");
    }
    let m: HashMap<String, String> = serde_json::from_value(g["metadata"].clone()).unwrap();
    assert_eq!(st.metadata, m);
}

/// A reader that fails every read at or beyond `fail_from`.
struct Failing {
    inner: Cursor<Vec<u8>>,
    fail_from: u64,
    panic: bool,
}

impl Read for Failing {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.inner.position() + buf.len() as u64 > self.fail_from {
            if self.panic {
                panic!("reader panics on purpose");
            }
            return Err(std::io::Error::other("disk on fire"));
        }
        self.inner.read(buf)
    }
}

impl Seek for Failing {
    fn seek(&mut self, pos: SeekFrom) -> std::io::Result<u64> {
        self.inner.seek(pos)
    }
}

#[test]
fn reader_failing_on_data_fails_the_evaluation() {
    let arrays = HashMap::from([(
        "x".to_string(),
        Array::from_slice(&[1.0f32; 64], &[64]).unwrap(),
    )]);
    let bytes = io::save_safetensors_to_vec(&arrays, [] as [(&str, &str); 0]).unwrap();
    let data_start = bytes.len() as u64 - 256;
    let st = io::load_safetensors_from_reader(Failing {
        inner: Cursor::new(bytes),
        fail_from: data_start + 1,
        panic: false,
    })
    .unwrap();
    let r = st.arrays["x"].eval();
    assert!(r.is_err(), "{r:?}");
}

#[test]
fn reader_failing_on_header_is_an_error() {
    let bytes = safetensors_valid();
    for fail_from in [0u64, 4, 8, 20] {
        let r = io::load_safetensors_from_reader(Failing {
            inner: Cursor::new(bytes.clone()),
            fail_from,
            panic: false,
        });
        assert!(
            matches!(r, Err(Error::InvalidFile { .. })),
            "{fail_from}: {r:?}"
        );
    }
}

/// A writer that fails (or panics) after `limit` bytes.
struct Limited {
    inner: Cursor<Vec<u8>>,
    limit: u64,
    panic: bool,
}

impl Write for Limited {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.inner.position() + buf.len() as u64 > self.limit {
            if self.panic {
                panic!("writer panics on purpose");
            }
            return Err(std::io::Error::other("disk full"));
        }
        self.inner.write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Seek for Limited {
    fn seek(&mut self, pos: SeekFrom) -> std::io::Result<u64> {
        self.inner.seek(pos)
    }
}

#[test]
fn writer_errors_are_errors() {
    let arrays = sample();
    for limit in [0u64, 8, 100, 400] {
        let mut w = Limited {
            inner: Cursor::new(Vec::new()),
            limit,
            panic: false,
        };
        let r = io::save_safetensors_to_writer(&mut w, &arrays, &meta());
        assert!(matches!(r, Err(Error::Mlx { .. })), "{limit}: {r:?}");
    }
}

#[test]
fn writer_panic_is_reraised_after_the_call() {
    let arrays = sample();
    let mut w = Limited {
        inner: Cursor::new(Vec::new()),
        limit: 50,
        panic: true,
    };
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _ = io::save_safetensors_to_writer(&mut w, &arrays, &meta());
    }));
    let payload = r.unwrap_err();
    assert_eq!(
        payload.downcast_ref::<&str>(),
        Some(&"writer panics on purpose")
    );
    // MLX is still usable afterwards.
    let bytes = io::save_safetensors_to_vec(&arrays, &meta()).unwrap();
    assert_same(
        &arrays,
        &io::load_safetensors_from_bytes(bytes).unwrap().arrays,
    );
}

#[test]
fn reader_panic_during_load_is_reraised() {
    // Our own header check reads 8 + n bytes first; MLX then reads them
    // again through the callbacks. Panic on MLX's second read of the
    // length: the header check's reads are below `fail_from`... so use a
    // reader that panics on its third read call instead.
    struct PanicOnThird {
        inner: Cursor<Vec<u8>>,
        reads: usize,
    }
    impl Read for PanicOnThird {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            self.reads += 1;
            if self.reads == 3 {
                panic!("third read");
            }
            self.inner.read(buf)
        }
    }
    impl Seek for PanicOnThird {
        fn seek(&mut self, pos: SeekFrom) -> std::io::Result<u64> {
            self.inner.seek(pos)
        }
    }
    let r = std::panic::catch_unwind(|| {
        let _ = io::load_safetensors_from_reader(PanicOnThird {
            inner: Cursor::new(safetensors_valid()),
            reads: 0,
        });
    });
    assert_eq!(r.unwrap_err().downcast_ref::<&str>(), Some(&"third read"));
}
