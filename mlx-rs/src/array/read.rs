//! Reading an array's elements back into Rust.

use crate::dtype::ArrayElement;
use crate::error::{check, Error, Result};
use crate::raw;
use crate::Array;

impl Array {
    fn check_dtype<T: ArrayElement>(&self) -> Result<()> {
        let found = self.dtype();
        if found == T::DTYPE {
            Ok(())
        } else {
            Err(Error::DtypeMismatch {
                expected: T::DTYPE,
                found,
            })
        }
    }

    /// Pointer to the first element of the evaluated buffer (offset
    /// included), or null when there is none (an empty array).
    fn data_ptr(&self) -> Result<*const u8> {
        // SAFETY: `self` is live and evaluated (callers eval first), so
        // its buffer exists; `data<uint8_t>` is a plain reinterpretation of
        // the buffer pointer plus the view's byte offset, whatever the dtype.
        let p = unsafe { mlx_sys::mlx_array_data_uint8(self.as_raw()) };
        check(
            "mlx_array_data_uint8",
            if p.is_null() && self.size() > 0 { 1 } else { 0 },
        )?;
        Ok(p)
    }

    /// The single element of a size-1 array, evaluating it first.
    ///
    /// ```
    /// use mlx_rs::Array;
    /// let a = Array::from_slice(&[2.5f32], &[1, 1])?;
    /// assert_eq!(a.item::<f32>()?, 2.5);
    /// assert!(a.item::<f64>().is_err()); // exact about dtypes
    /// # Ok::<(), mlx_rs::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::DtypeMismatch`] unless `T` is exactly the array's dtype
    /// (convert with [`Array::astype`]); [`Error::NotScalar`] unless the
    /// array has one element; [`Error::Mlx`] if evaluation fails.
    #[doc(alias = "mlx_array_eval")]
    #[doc(alias = "mlx_array_data_uint8")]
    pub fn item<T: ArrayElement>(&self) -> Result<T> {
        self.check_dtype::<T>()?;
        let size = self.size();
        if size != 1 {
            return Err(Error::NotScalar { size });
        }
        self.eval()?;
        let p = self.data_ptr()?;
        // SAFETY: the array is evaluated, has one element of dtype
        // T::DTYPE (checked), so `p` points at one valid `T`; read
        // unaligned to make no assumption about the view's offset.
        Ok(unsafe { T::read_raw(p.cast::<T>()) })
    }

    /// All elements in row-major order, evaluating the array first.
    ///
    /// Correct for any view: transposed, sliced (with steps, reversed) or
    /// broadcast arrays are read through their strides, not as if their
    /// buffer were contiguous.
    ///
    /// ```
    /// use mlx_rs::Array;
    /// let a = Array::from_slice(&[1i32, 2, 3, 4, 5, 6], &[2, 3])?;
    /// let t = a.transpose()?;
    /// assert_eq!(t.to_vec::<i32>()?, [1, 4, 2, 5, 3, 6]);
    /// # Ok::<(), mlx_rs::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::DtypeMismatch`] unless `T` is exactly the array's dtype;
    /// [`Error::Mlx`] if evaluation fails.
    #[doc(alias = "mlx_array_eval")]
    #[doc(alias = "mlx_array_strides")]
    pub fn to_vec<T: ArrayElement>(&self) -> Result<Vec<T>> {
        self.check_dtype::<T>()?;
        self.eval()?;
        let size = self.size();
        if size == 0 {
            return Ok(Vec::new());
        }
        let shape: Vec<usize> = self.shape().iter().map(|&d| d as usize).collect();
        let strides = self.strides();
        let p = self.data_ptr()?.cast::<T>();
        let mut out = Vec::with_capacity(size);
        let mut index = vec![0usize; shape.len()];
        // Offset (in elements) of the current multi-index.
        let mut offset: i64 = 0;
        for _ in 0..size {
            // SAFETY: the array is evaluated and of dtype T::DTYPE; for any
            // in-bounds multi-index, `sum(index * stride)` is an element of
            // its buffer (that is what MLX's strides describe, negative for
            // reversed views, zero for broadcast ones).
            out.push(unsafe { T::read_raw(p.offset(offset as isize)) });
            // Advance the multi-index, row-major.
            for ax in (0..shape.len()).rev() {
                index[ax] += 1;
                offset += strides[ax];
                if index[ax] < shape[ax] {
                    break;
                }
                offset -= strides[ax] * shape[ax] as i64;
                index[ax] = 0;
            }
        }
        Ok(out)
    }

    /// Borrows the elements without copying, if the array is evaluated and
    /// its buffer is row-contiguous.
    ///
    /// ```
    /// use mlx_rs::Array;
    /// let a = Array::from_slice(&[1i32, 2, 3, 4], &[2, 2])?;
    /// let t = a.transpose()?;
    /// assert!(t.as_slice::<i32>().is_err()); // not evaluated
    /// t.eval()?;
    /// assert!(t.as_slice::<i32>().is_err()); // evaluated, but a strided view
    /// a.eval()?;
    /// assert_eq!(a.as_slice::<i32>()?, &[1, 2, 3, 4]);
    /// # Ok::<(), mlx_rs::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::DtypeMismatch`] unless `T` is exactly the array's dtype;
    /// [`Error::NotEvaluated`] before evaluation (see [`Array::eval`]);
    /// [`Error::NotContiguous`] for a strided view (use [`Array::to_vec`]).
    #[doc(alias = "_mlx_array_is_available")]
    #[doc(alias = "_mlx_array_is_row_contiguous")]
    pub fn as_slice<T: ArrayElement>(&self) -> Result<&[T]> {
        self.check_dtype::<T>()?;
        if !self.is_available()? {
            return Err(Error::NotEvaluated);
        }
        let mut contiguous = false;
        // SAFETY: `self` is live and `contiguous` a valid out-param.
        raw::call("_mlx_array_is_row_contiguous", || unsafe {
            mlx_sys::_mlx_array_is_row_contiguous(&mut contiguous, self.as_raw())
        })?;
        // MLX's flag ignores size-1 dimensions, as do the strides we check:
        // they must be exactly the row-major strides of the shape.
        let shape = self.shape();
        let mut expect = 1i64;
        let strided_ok = self.strides().iter().zip(shape).rev().all(|(&s, &d)| {
            let ok = d == 1 || s == expect;
            expect *= i64::from(d);
            ok
        });
        if !contiguous || !strided_ok {
            return Err(Error::NotContiguous);
        }
        let size = self.size();
        if size == 0 {
            return Ok(&[]);
        }
        let p = self.data_ptr()?.cast::<T>();
        if !p.is_aligned() {
            return Err(Error::NotContiguous);
        }
        // SAFETY: evaluated, row-contiguous buffer of `size` elements of
        // `T::DTYPE.size()` bytes each (see below).
        let bytes = unsafe { std::slice::from_raw_parts(p.cast::<u8>(), size * T::DTYPE.size()) };
        if !T::bytes_valid(bytes) {
            return Err(Error::InvalidData {
                reason: "the buffer holds bytes that are not valid bools (0 or 1)",
            });
        }
        // SAFETY: the array is evaluated (available), of dtype T::DTYPE,
        // row-contiguous, `p` is aligned and every element is a valid `T`
        // (checked above): `size` consecutive `T`s start at `p`. The buffer belongs to the array's data, which `self`
        // keeps alive for the borrow; MLX does not write to the buffer of an
        // evaluated array that is still referenced (it only donates buffers
        // whose last reference is the consuming op).
        Ok(unsafe { std::slice::from_raw_parts(p, size) })
    }
}

#[cfg(test)]
mod tests {
    use crate::{Array, Dtype, Error, Stream};

    /// A `bool` array whose buffer holds the byte 2 (MLX's `view` does not
    /// normalise), which must never be handed out as `&[bool]`.
    #[test]
    fn non_boolean_bytes_are_not_borrowed_as_bool() {
        let bytes = Array::from_slice(&[0u8, 2, 1], &[3]).unwrap();
        let s = Stream::current().unwrap();
        let b = Array::build("mlx_view", |res| {
            // SAFETY: fresh out-param; live input and stream.
            unsafe { mlx_sys::mlx_view(res, bytes.as_raw(), Dtype::Bool.as_raw(), s.as_raw()) }
        })
        .unwrap();
        b.eval().unwrap();
        assert_eq!(b.dtype(), Dtype::Bool);
        assert!(matches!(
            b.as_slice::<bool>(),
            Err(Error::InvalidData { .. })
        ));
        // Copying reads normalise any non-zero byte to `true`.
        assert_eq!(b.to_vec::<bool>().unwrap(), [false, true, true]);
        let one = b.index(1).unwrap();
        assert!(one.item::<bool>().unwrap());
    }
}
