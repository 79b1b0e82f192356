//! `.npy`: round trips for every dtype, Python-MLX-written files,
//! Fortran order and big-endian files, bytes/readers/writers.
//!
//! On the GPU, MLX 0.32.2 can neither save nor load `float64` there:
//! saving runs `contiguous` on the default stream (which cannot be moved
//! off the GPU: the save functions take no stream) and loading builds its
//! `Load` op on the current stream, and MLX refuses both for `float64`.
//! Those cases assert the refusal, then load on the CPU stream.

mod common;
mod device;
mod io_common;

use std::io::Cursor;

use common::golden::{golden_file, shape, unhex};
use device::{assert_f64_refused, float64_op, host_bits, host_f64, on_gpu};
use io_common::*;
use mlx_rs::{bf16, f16, io, Array, Complex32, Dtype, Error};

fn every_dtype() -> Vec<Array> {
    vec![
        Array::from_slice(&[true, false, true], &[3]).unwrap(),
        Array::from_slice(&[0u8, 7, 255], &[3]).unwrap(),
        Array::from_slice(&[1u16, 65535], &[2]).unwrap(),
        Array::from_slice(&[1u32, 2, 3, u32::MAX], &[2, 2]).unwrap(),
        Array::from_slice(&[u64::MAX], &[1]).unwrap(),
        Array::from_slice(&[-128i8, 127], &[2]).unwrap(),
        Array::from_slice(&[-300i16, 300], &[1, 2]).unwrap(),
        Array::from_slice(&[-3i32, -2, -1, 0, 1, 2], &[2, 3]).unwrap(),
        Array::from_slice(&[i64::MIN, i64::MAX], &[2]).unwrap(),
        Array::from_slice(&[f16::from_f32(0.5), f16::MAX], &[2]).unwrap(),
        Array::from_slice(&[1.25f32, -0.5, 3.0], &[1, 3, 1]).unwrap(),
        Array::from_slice(&[1.5f64, -2.0], &[2]).unwrap(),
        Array::from_slice(&[bf16::from_f32(1.5), bf16::from_f32(-3.25)], &[2]).unwrap(),
        Array::from_slice(&[Complex32::new(1.0, 2.0)], &[1]).unwrap(),
        Array::scalar(7i32).unwrap(),
        Array::zeros(&[0, 3], Dtype::Float32).unwrap(),
    ]
}

/// Same shape, dtype and element bits (read on the host: no op, so any
/// dtype on any device).
fn same(a: &Array, b: &Array) -> bool {
    a.shape() == b.shape() && a.dtype() == b.dtype() && host_bits(a) == host_bits(b)
}

/// Whether saving `a` is MLX's float64 refusal here (the GPU).
fn unsavable(a: &Array) -> bool {
    on_gpu() && a.dtype() == Dtype::Float64
}

/// The `.npy` bytes of a 1-D `float64` array, written here (what MLX
/// writes on the CPU).
fn f64_npy(a: &Array) -> Vec<u8> {
    assert_eq!(a.ndim(), 1);
    let data: Vec<u8> = a
        .to_vec::<f64>()
        .unwrap()
        .iter()
        .flat_map(|x| x.to_le_bytes())
        .collect();
    npy_raw(
        &format!(
            "{{'descr': '<f8', 'fortran_order': False, 'shape': ({},), }}",
            a.size()
        ),
        &data,
    )
}

#[test]
fn file_round_trip_every_dtype() {
    let dir = TempDir::new("npy-file");
    let all = every_dtype();
    assert_eq!(
        all.iter()
            .map(|a| a.dtype())
            .collect::<std::collections::HashSet<_>>()
            .len(),
        Dtype::ALL.len()
    );
    for (i, a) in all.iter().enumerate() {
        let p = dir.path().join(format!("{i}.npy"));
        if unsavable(a) {
            assert_f64_refused(io::save_npy(&p, a), "save_npy float64");
            std::fs::write(&p, f64_npy(a)).unwrap();
        } else {
            io::save_npy(&p, a).unwrap();
        }
        let b = if a.dtype() == Dtype::Float64 {
            float64_op("load_npy float64", || io::load_npy(&p)).unwrap()
        } else {
            io::load_npy(&p).unwrap()
        };
        assert!(same(a, &b), "{i}: {:?}", a.dtype());
    }
}

#[test]
fn bytes_reader_writer_round_trip() {
    for a in every_dtype() {
        let f64s = a.dtype() == Dtype::Float64;
        let bytes = if unsavable(&a) {
            assert_f64_refused(io::save_npy_to_vec(&a), "save_npy_to_vec float64");
            let mut cur = Cursor::new(Vec::new());
            assert_f64_refused(io::save_npy_to_writer(&mut cur, &a), "save_npy_to_writer");
            f64_npy(&a)
        } else {
            let bytes = io::save_npy_to_vec(&a).unwrap();
            let mut cur = Cursor::new(Vec::new());
            io::save_npy_to_writer(&mut cur, &a).unwrap();
            assert_eq!(cur.into_inner(), bytes);
            bytes
        };
        let load = |what: &str, f: &dyn Fn() -> mlx_rs::Result<Array>| {
            if f64s {
                float64_op(what, f).unwrap()
            } else {
                f().unwrap()
            }
        };
        let b = load("from bytes", &|| io::load_npy_from_bytes(bytes.clone()));
        assert!(same(&a, &b));
        let b = load("from reader", &|| {
            io::load_npy_from_reader(Cursor::new(bytes.clone()))
        });
        assert!(same(&a, &b));
    }
}

#[test]
fn strided_arrays_are_saved_in_logical_order() {
    let a = Array::from_slice(&[1i16, 2, 3, 4, 5, 6], &[2, 3]).unwrap();
    let t = a.transpose().unwrap();
    let b = io::load_npy_from_bytes(io::save_npy_to_vec(&t).unwrap()).unwrap();
    assert_eq!(b.shape(), &[3, 2]);
    assert_eq!(b.to_vec::<i16>().unwrap(), [1, 4, 2, 5, 3, 6]);
}

#[test]
fn fortran_order_and_big_endian_files() {
    let data: Vec<u8> = [1.0f32, 2.0, 3.0, 4.0]
        .iter()
        .flat_map(|x| x.to_le_bytes())
        .collect();
    let f = npy_raw(
        "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }",
        &data,
    );
    let a = io::load_npy_from_bytes(f).unwrap();
    assert_eq!(a.to_vec::<f32>().unwrap(), [1.0, 3.0, 2.0, 4.0]);
    let data: Vec<u8> = [1i32, -2].iter().flat_map(|x| x.to_be_bytes()).collect();
    let f = npy_raw(
        "{'descr': '>i4', 'fortran_order': False, 'shape': (2,), }",
        &data,
    );
    let a = io::load_npy_from_bytes(f).unwrap();
    assert_eq!(a.to_vec::<i32>().unwrap(), [1, -2]);
}

#[test]
fn python_written_files_load_identically() {
    let golden = golden_file!("io_files.json");
    let npys = golden["npy"].as_object().unwrap();
    assert!(npys.len() >= 14);
    for (k, e) in npys {
        let bytes = unhex(e["hex"].as_str().unwrap());
        let want = &e["array"];
        let a = if want["dtype"] == "float64" {
            float64_op(k, || io::load_npy_from_bytes(bytes.clone())).unwrap()
        } else {
            io::load_npy_from_bytes(bytes.clone()).unwrap()
        };
        assert_eq!(a.dtype().name(), want["dtype"].as_str().unwrap(), "{k}");
        let shape = shape(&want["shape"]);
        assert_eq!(a.shape(), shape.as_slice(), "{k}");
        let vals = want["values"].as_array().unwrap();
        match a.dtype() {
            Dtype::Bool => {
                let w: Vec<bool> = vals.iter().map(|v| v.as_bool().unwrap()).collect();
                assert_eq!(a.to_vec::<bool>().unwrap(), w, "{k}");
            }
            Dtype::Complex64 => {
                let w: Vec<f64> = vals
                    .iter()
                    .flat_map(|v| v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()))
                    .collect();
                let g: Vec<f64> = a
                    .to_vec::<Complex32>()
                    .unwrap()
                    .iter()
                    .flat_map(|c| [f64::from(c.re), f64::from(c.im)])
                    .collect();
                assert_eq!(g, w, "{k}");
            }
            Dtype::Uint64 => {
                let w: Vec<u64> = vals.iter().map(|v| v.as_u64().unwrap()).collect();
                assert_eq!(a.to_vec::<u64>().unwrap(), w, "{k}");
            }
            Dtype::Int64 => {
                let w: Vec<i64> = vals.iter().map(|v| v.as_i64().unwrap()).collect();
                assert_eq!(a.to_vec::<i64>().unwrap(), w, "{k}");
            }
            _ => {
                let w: Vec<f64> = vals.iter().map(|v| v.as_f64().unwrap()).collect();
                assert_eq!(host_f64(&a), w, "{k}");
            }
        }
        // And MLX writes the same bytes from Rust.
        if unsavable(&a) {
            assert_f64_refused(io::save_npy_to_vec(&a), k);
        } else {
            assert_eq!(io::save_npy_to_vec(&a).unwrap(), bytes, "{k}");
        }
    }
}

#[test]
fn nul_in_path_is_an_error() {
    let a = Array::scalar(1u8).unwrap();
    assert!(matches!(
        io::save_npy("a\0b.npy", &a),
        Err(Error::InvalidData { .. })
    ));
}
