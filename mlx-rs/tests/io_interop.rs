//! Interop with the `safetensors` crate (feature `safetensors`): for every
//! dtype both sides share (all 14 MLX dtypes), MLX arrays serialize
//! through `ArrayView` without copying (checked by pointer), and
//! serialized tensors become MLX arrays (`array_from_view`,
//! `arrays_from_safetensors`; one copy, as MLX's CPU allocator requires).

#![cfg(feature = "safetensors")]

use std::borrow::Cow;

use mlx_rs::io::{self, ArrayView};
use mlx_rs::{bf16, f16, Array, ArrayElement, Complex32, Dtype, Error};
use safetensors::{SafeTensors, View};

fn check<T: ArrayElement + PartialEq + std::fmt::Debug>(
    values: &[T],
    shape: &[i32],
    st: safetensors::Dtype,
) {
    let a = Array::from_slice(values, shape).unwrap();
    let dtype = a.dtype();
    assert_eq!(io::dtype_to_safetensors(dtype), st);
    assert_eq!(io::dtype_from_safetensors(st).unwrap(), dtype);

    // MLX -> safetensors: the view borrows the array's own buffer.
    let view = ArrayView::new(&a).unwrap();
    assert_eq!(view.dtype(), st);
    assert_eq!(
        view.shape(),
        shape.iter().map(|&d| d as usize).collect::<Vec<_>>()
    );
    let data = view.data();
    assert!(matches!(data, Cow::Borrowed(_)));
    let own = a.as_slice::<T>().unwrap();
    if !values.is_empty() {
        assert_eq!(
            data.as_ptr(),
            own.as_ptr().cast::<u8>(),
            "copied instead of borrowed"
        );
    }
    assert_eq!(data.len(), std::mem::size_of_val(own));
    assert_eq!(view.data_len(), data.len());

    let bytes = safetensors::serialize([("x", &view), ("y", &view)], None).unwrap();
    let parsed = SafeTensors::deserialize(&bytes).unwrap();
    let tv = parsed.tensor("x").unwrap();
    assert_eq!(tv.dtype(), st);
    assert_eq!(tv.data(), &data[..]);

    // safetensors -> MLX, copying one view.
    let copy = io::array_from_view(&tv).unwrap();
    assert_eq!((copy.shape(), copy.dtype()), (shape, dtype));
    assert_eq!(copy.to_vec::<T>().unwrap(), values);

    // safetensors -> MLX for the whole buffer (one copy).
    let arrays = io::arrays_from_safetensors(&bytes).unwrap();
    drop(bytes);
    for k in ["x", "y"] {
        let b = &arrays[k];
        assert_eq!((b.shape(), b.dtype()), (shape, dtype));
        assert_eq!(b.to_vec::<T>().unwrap(), values);
    }
}

#[test]
fn bool() {
    check(
        &[true, false, true, true],
        &[2, 2],
        safetensors::Dtype::BOOL,
    );
}
#[test]
fn uint8() {
    check(&[0u8, 1, 255], &[3], safetensors::Dtype::U8);
}
#[test]
fn uint16() {
    check(&[0u16, 1, 65535, 7], &[2, 2], safetensors::Dtype::U16);
}
#[test]
fn uint32() {
    check(&[0u32, u32::MAX, 5], &[3, 1], safetensors::Dtype::U32);
}
#[test]
fn uint64() {
    check(&[0u64, u64::MAX], &[2], safetensors::Dtype::U64);
}
#[test]
fn int8() {
    check(&[-128i8, 0, 127], &[3], safetensors::Dtype::I8);
}
#[test]
fn int16() {
    check(&[-300i16, 300], &[1, 2], safetensors::Dtype::I16);
}
#[test]
fn int32() {
    check(
        &[i32::MIN, -1, 0, i32::MAX, 4, 5],
        &[2, 3],
        safetensors::Dtype::I32,
    );
}
#[test]
fn int64() {
    check(&[i64::MIN, i64::MAX], &[2], safetensors::Dtype::I64);
}
#[test]
fn float16() {
    check(
        &[f16::from_f32(0.5), f16::MAX, f16::NEG_INFINITY],
        &[3],
        safetensors::Dtype::F16,
    );
}
#[test]
fn bfloat16() {
    check(
        &[bf16::from_f32(1.5), bf16::from_f32(-3.25)],
        &[2],
        safetensors::Dtype::BF16,
    );
}
#[test]
fn float32() {
    check(
        &[1.25f32, -0.5, 3.0, f32::MIN_POSITIVE],
        &[2, 1, 2],
        safetensors::Dtype::F32,
    );
}
#[test]
fn float64() {
    check(&[1.5f64, -2.0, f64::MAX], &[3], safetensors::Dtype::F64);
}
#[test]
fn complex64() {
    check(
        &[Complex32::new(1.0, -2.0), Complex32::new(0.5, 3.0)],
        &[2],
        safetensors::Dtype::C64,
    );
}
#[test]
fn scalar_and_empty() {
    check(&[3.5f32], &[], safetensors::Dtype::F32);
    check::<i32>(&[], &[0, 4], safetensors::Dtype::I32);
}

#[test]
fn strided_arrays_are_made_contiguous() {
    let a = Array::from_slice(&[1i32, 2, 3, 4, 5, 6], &[2, 3]).unwrap();
    let t = a.transpose().unwrap();
    let view = ArrayView::new(&t).unwrap();
    let bytes = safetensors::serialize([("t", view)], None).unwrap();
    let back = io::arrays_from_safetensors(&bytes).unwrap();
    assert_eq!(back["t"].shape(), &[3, 2]);
    assert_eq!(back["t"].to_vec::<i32>().unwrap(), [1, 4, 2, 5, 3, 6]);
}

#[test]
fn serialized_by_the_crate_loads_through_mlx() {
    let a = Array::from_slice(&[1.0f32, 2.0, 3.0], &[3]).unwrap();
    let b = Array::from_slice(&[bf16::from_f32(1.0); 4], &[2, 2]).unwrap();
    let meta = std::collections::HashMap::from([("k".to_string(), "v".to_string())]);
    let bytes = io::serialize_arrays([("a", &a), ("b", &b)], Some(meta)).unwrap();
    let st = io::load_safetensors_from_bytes(bytes).unwrap();
    assert_eq!(st.arrays["a"].to_vec::<f32>().unwrap(), [1.0, 2.0, 3.0]);
    assert_eq!(st.arrays["b"].dtype(), Dtype::Bfloat16);
    assert_eq!(st.metadata["k"], "v");
    // And the other way: MLX writes, the crate reads.
    let bytes = io::save_safetensors_to_vec([("a", &a)], [("k", "v")]).unwrap();
    let parsed = SafeTensors::deserialize(&bytes).unwrap();
    let a2 = io::array_from_view(&parsed.tensor("a").unwrap()).unwrap();
    assert_eq!(a2.to_vec::<f32>().unwrap(), [1.0, 2.0, 3.0]);
}

#[test]
fn misaligned_tensors_load() {
    // A U8 tensor of 1 byte first puts the F32 tensor at an odd offset.
    let header = br#"{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"b":{"dtype":"F32","shape":[2],"data_offsets":[1,9]}}"#;
    let mut h = header.to_vec();
    while (8 + h.len()) % 8 != 0 {
        h.push(b' ');
    }
    let mut bytes = (h.len() as u64).to_le_bytes().to_vec();
    bytes.extend(h);
    bytes.push(7);
    bytes.extend(1.0f32.to_le_bytes());
    bytes.extend(2.0f32.to_le_bytes());
    let arrays = io::arrays_from_safetensors(&bytes).unwrap();
    assert_eq!(arrays["a"].to_vec::<u8>().unwrap(), [7]);
    assert_eq!(arrays["b"].to_vec::<f32>().unwrap(), [1.0, 2.0]);
}

#[test]
fn fp8_and_friends_are_unsupported() {
    for d in [
        safetensors::Dtype::F8_E4M3,
        safetensors::Dtype::F8_E5M2,
        safetensors::Dtype::F4,
        safetensors::Dtype::F6_E2M3,
        safetensors::Dtype::F8_E8M0,
    ] {
        assert!(matches!(
            io::dtype_from_safetensors(d),
            Err(Error::UnsupportedDtype { .. })
        ));
    }
    let v = safetensors::tensor::TensorView::new(safetensors::Dtype::F8_E4M3, vec![2], &[1, 2])
        .unwrap();
    assert!(matches!(
        io::array_from_view(&v),
        Err(Error::UnsupportedDtype { .. })
    ));
}

#[test]
fn invalid_buffers_are_errors() {
    assert!(matches!(
        io::arrays_from_safetensors(&[1, 2, 3]),
        Err(Error::InvalidFile { .. })
    ));
    let mut b = 1000u64.to_le_bytes().to_vec();
    b.extend(b"{}");
    assert!(matches!(
        io::arrays_from_safetensors(&b),
        Err(Error::InvalidFile { .. })
    ));
}
