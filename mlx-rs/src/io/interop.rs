//! Interop with the [`safetensors`](https://docs.rs/safetensors) crate
//! (feature `safetensors`).
//!
//! - MLX → `safetensors`: [`ArrayView`] implements [`safetensors::View`]
//!   over the array's own evaluated buffer (no copy for a row-contiguous
//!   array), so `safetensors::serialize` can write MLX arrays.
//! - `safetensors` → MLX: [`array_from_view`] copies one
//!   [`TensorView`](safetensors::tensor::TensorView) into an array,
//!   [`arrays_from_safetensors`] every tensor of a serialized buffer.
//!   This direction copies once: MLX 0.32's CPU allocator cannot adopt
//!   foreign memory (its `mlx_array_new_data_managed` copies too).
//!
//! All 14 MLX dtypes have a `safetensors` counterpart; the FP4/FP6/FP8
//! dtypes of `safetensors` have none in MLX and give
//! [`Error::UnsupportedDtype`].

use std::borrow::Cow;
use std::collections::HashMap;

use safetensors::tensor::TensorView;
use safetensors::{Dtype as StDtype, SafeTensors, View};

use crate::error::{Error, Result};
use crate::raw;
use crate::{Array, Dtype};

/// The `safetensors` dtype of an MLX dtype (every MLX dtype has one).
pub fn dtype_to_safetensors(dtype: Dtype) -> StDtype {
    match dtype {
        Dtype::Bool => StDtype::BOOL,
        Dtype::Uint8 => StDtype::U8,
        Dtype::Uint16 => StDtype::U16,
        Dtype::Uint32 => StDtype::U32,
        Dtype::Uint64 => StDtype::U64,
        Dtype::Int8 => StDtype::I8,
        Dtype::Int16 => StDtype::I16,
        Dtype::Int32 => StDtype::I32,
        Dtype::Int64 => StDtype::I64,
        Dtype::Float16 => StDtype::F16,
        Dtype::Float32 => StDtype::F32,
        Dtype::Float64 => StDtype::F64,
        Dtype::Bfloat16 => StDtype::BF16,
        Dtype::Complex64 => StDtype::C64,
    }
}

/// The MLX dtype of a `safetensors` dtype.
///
/// # Errors
/// [`Error::UnsupportedDtype`] for the FP4, FP6 and FP8 dtypes.
pub fn dtype_from_safetensors(dtype: StDtype) -> Result<Dtype> {
    Ok(match dtype {
        StDtype::BOOL => Dtype::Bool,
        StDtype::U8 => Dtype::Uint8,
        StDtype::U16 => Dtype::Uint16,
        StDtype::U32 => Dtype::Uint32,
        StDtype::U64 => Dtype::Uint64,
        StDtype::I8 => Dtype::Int8,
        StDtype::I16 => Dtype::Int16,
        StDtype::I32 => Dtype::Int32,
        StDtype::I64 => Dtype::Int64,
        StDtype::F16 => Dtype::Float16,
        StDtype::F32 => Dtype::Float32,
        StDtype::F64 => Dtype::Float64,
        StDtype::BF16 => Dtype::Bfloat16,
        StDtype::C64 => Dtype::Complex64,
        other => {
            return Err(Error::UnsupportedDtype {
                dtype: format!("{other:?}"),
                context: "MLX arrays",
            })
        }
    })
}

/// An evaluated, row-contiguous array seen as a [`safetensors::View`].
///
/// [`View::data`] borrows the array's buffer (no copy). Holding the view
/// keeps the array (a cheap clone) alive, which also keeps MLX from
/// reusing its buffer for the result of another operation.
///
/// ```
/// use mlx_rs::{io::ArrayView, Array};
/// let a = Array::from_slice(&[1.0f32, 2.0], &[2])?;
/// let bytes = safetensors::serialize([("a", ArrayView::new(&a)?)], None).unwrap();
/// let back = mlx_rs::io::arrays_from_safetensors(&bytes)?;
/// assert_eq!(back["a"].to_vec::<f32>()?, [1.0, 2.0]);
/// # Ok::<(), mlx_rs::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct ArrayView {
    array: Array,
    shape: Vec<usize>,
    dtype: StDtype,
}

impl ArrayView {
    /// Evaluates `array` and views it; a strided array (transposed,
    /// sliced, broadcast) is first copied into a row-contiguous one.
    ///
    /// # Errors
    /// [`Error::Mlx`] if evaluation fails.
    #[doc(alias = "mlx_array_eval")]
    #[doc(alias = "mlx_array_data_uint8")]
    pub fn new(array: &Array) -> Result<Self> {
        array.eval()?;
        let array = if is_row_contiguous(array)? {
            array.clone()
        } else {
            let c = array.contiguous(false)?;
            c.eval()?;
            c
        };
        Ok(ArrayView {
            shape: array.shape().iter().map(|&d| d as usize).collect(),
            dtype: dtype_to_safetensors(array.dtype()),
            array,
        })
    }

    /// The viewed array.
    pub fn array(&self) -> &Array {
        &self.array
    }

    fn bytes(&self) -> &[u8] {
        let n = self.array.nbytes();
        if n == 0 {
            return &[];
        }
        // SAFETY: `self.array` is evaluated (in `new`) and live; the
        // pointer is its buffer plus offset.
        let p = unsafe { mlx_sys::mlx_array_data_uint8(self.array.as_raw()) };
        if p.is_null() {
            return &[];
        }
        // SAFETY: the array is evaluated and row-contiguous (checked in
        // `new`), so `nbytes` bytes start at `p`; `self` holds a reference
        // to the array, keeping the buffer alive and un-donated for the
        // borrow, and MLX never writes to the buffer of an evaluated array
        // that is still referenced.
        unsafe { std::slice::from_raw_parts(p, n) }
    }
}

impl View for ArrayView {
    fn dtype(&self) -> StDtype {
        self.dtype
    }
    fn shape(&self) -> &[usize] {
        &self.shape
    }
    fn data(&self) -> Cow<'_, [u8]> {
        Cow::Borrowed(self.bytes())
    }
    fn data_len(&self) -> usize {
        self.array.nbytes()
    }
}

/// Forwards to the impl for [`ArrayView`], for APIs that take views by
/// value from a borrowed collection.
impl View for &ArrayView {
    fn dtype(&self) -> StDtype {
        View::dtype(*self)
    }
    fn shape(&self) -> &[usize] {
        View::shape(*self)
    }
    fn data(&self) -> Cow<'_, [u8]> {
        View::data(*self)
    }
    fn data_len(&self) -> usize {
        View::data_len(*self)
    }
}

/// Whether an evaluated array's buffer is exactly row-major.
fn is_row_contiguous(a: &Array) -> Result<bool> {
    let mut flag = false;
    // SAFETY: `a` is live and `flag` a valid out-param.
    raw::call("_mlx_array_is_row_contiguous", || unsafe {
        mlx_sys::_mlx_array_is_row_contiguous(&mut flag, a.as_raw())
    })?;
    let mut expect = 1i64;
    let strides_ok = a.strides().iter().zip(a.shape()).rev().all(|(&s, &d)| {
        let ok = d == 1 || s == expect;
        expect *= i64::from(d);
        ok
    });
    Ok(flag && strides_ok)
}

fn shape_i32(shape: &[usize]) -> Result<Vec<i32>> {
    shape
        .iter()
        .map(|&d| i32::try_from(d))
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|_| Error::InvalidShape {
            shape: shape.iter().map(|&d| d as i64).collect(),
            reason: "dimension does not fit MLX's 32-bit sizes",
        })
}

/// A copy of `bytes` as an array (an aligned copy first when `bytes` is
/// not aligned for `dtype`, since mlx-c reads it as typed elements).
fn array_from_bytes(bytes: &[u8], shape: &[i32], dtype: Dtype) -> Result<Array> {
    let aligned_copy;
    let ptr: *const u8 = if (bytes.as_ptr() as usize) % dtype.size() == 0 && !bytes.is_empty() {
        bytes.as_ptr()
    } else {
        let mut v = vec![0u64; bytes.len().div_ceil(8).max(1)];
        bytemuck::cast_slice_mut::<u64, u8>(&mut v)[..bytes.len()].copy_from_slice(bytes);
        aligned_copy = v;
        aligned_copy.as_ptr().cast()
    };
    // SAFETY: `ptr` points at `bytes.len()` bytes (= elements × itemsize,
    // checked by the callers), aligned for `dtype`, alive for the call;
    // `shape` at `len` ints. mlx-c copies both.
    Array::from_constructor("mlx_array_new_data", || unsafe {
        mlx_sys::mlx_array_new_data(
            ptr.cast(),
            shape.as_ptr(),
            shape.len() as i32,
            dtype.as_raw(),
        )
    })
}

/// A copy of a `safetensors` tensor as an MLX array.
///
/// # Errors
/// [`Error::UnsupportedDtype`] for an FP4/FP6/FP8 tensor;
/// [`Error::InvalidShape`] for a dimension beyond `i32`;
/// [`Error::Mlx`] if MLX fails to allocate.
#[doc(alias = "mlx_array_new_data")]
pub fn array_from_view(view: &TensorView<'_>) -> Result<Array> {
    let dtype = dtype_from_safetensors(view.dtype())?;
    let shape = shape_i32(view.shape())?;
    array_from_bytes(view.data(), &shape, dtype)
}

/// Every tensor of a serialized safetensors buffer as an MLX array (each
/// one copy of the tensor's bytes).
///
/// MLX 0.32's CPU allocator cannot adopt memory it did not allocate
/// (`mlx_array_new_data_managed` copies and releases the buffer at once),
/// so this direction always copies, once; the other direction
/// ([`ArrayView`]) never does.
///
/// # Errors
/// [`Error::InvalidFile`] if the `safetensors` crate rejects the buffer;
/// [`Error::UnsupportedDtype`] for an FP4/FP6/FP8 tensor;
/// [`Error::InvalidShape`] for a dimension beyond `i32`;
/// [`Error::Mlx`] if MLX fails to allocate.
#[doc(alias = "mlx_array_new_data")]
pub fn arrays_from_safetensors(bytes: &[u8]) -> Result<HashMap<String, Array>> {
    let st = SafeTensors::deserialize(bytes).map_err(|e| Error::InvalidFile {
        format: "safetensors",
        path: "<memory>".into(),
        reason: e.to_string(),
    })?;
    st.tensors()
        .into_iter()
        .map(|(name, view)| Ok((name, array_from_view(&view)?)))
        .collect()
}

/// Serializes arrays with the `safetensors` crate (through [`ArrayView`]).
///
/// # Errors
/// [`Error::Mlx`] if evaluation fails; [`Error::InvalidData`] if the crate
/// rejects the data.
pub fn serialize_arrays<'a, K: AsRef<str>>(
    arrays: impl IntoIterator<Item = (K, &'a Array)>,
    metadata: Option<HashMap<String, String>>,
) -> Result<Vec<u8>> {
    let views = arrays
        .into_iter()
        .map(|(k, a)| Ok((k.as_ref().to_owned(), ArrayView::new(a)?)))
        .collect::<Result<Vec<_>>>()?;
    safetensors::serialize(views, metadata).map_err(|_| Error::InvalidData {
        reason: "the safetensors crate rejected the arrays",
    })
}
