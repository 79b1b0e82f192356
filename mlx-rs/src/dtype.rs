//! MLX's element types and the Rust types that hold them.

use std::fmt;

use half::{bf16, f16};
use num_complex::Complex32;

/// The element type of an [`Array`](crate::Array), one per MLX dtype.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Dtype {
    /// `bool`
    Bool,
    /// `u8`
    Uint8,
    /// `u16`
    Uint16,
    /// `u32`
    Uint32,
    /// `u64`
    Uint64,
    /// `i8`
    Int8,
    /// `i16`
    Int16,
    /// `i32`
    Int32,
    /// `i64`
    Int64,
    /// [`half::f16`]
    Float16,
    /// `f32`
    Float32,
    /// `f64` (CPU only in MLX)
    Float64,
    /// [`half::bf16`]
    Bfloat16,
    /// [`num_complex::Complex32`]
    Complex64,
}

impl Dtype {
    /// Every dtype, in MLX's enum order.
    pub const ALL: [Dtype; 14] = [
        Dtype::Bool,
        Dtype::Uint8,
        Dtype::Uint16,
        Dtype::Uint32,
        Dtype::Uint64,
        Dtype::Int8,
        Dtype::Int16,
        Dtype::Int32,
        Dtype::Int64,
        Dtype::Float16,
        Dtype::Float32,
        Dtype::Float64,
        Dtype::Bfloat16,
        Dtype::Complex64,
    ];

    /// Converts mlx-c's dtype code; `None` for a code outside mlx-c's
    /// `mlx_dtype`.
    pub fn from_raw(raw: mlx_sys::mlx_dtype) -> Option<Self> {
        use mlx_sys::*;
        Some(match raw {
            MLX_BOOL => Dtype::Bool,
            MLX_UINT8 => Dtype::Uint8,
            MLX_UINT16 => Dtype::Uint16,
            MLX_UINT32 => Dtype::Uint32,
            MLX_UINT64 => Dtype::Uint64,
            MLX_INT8 => Dtype::Int8,
            MLX_INT16 => Dtype::Int16,
            MLX_INT32 => Dtype::Int32,
            MLX_INT64 => Dtype::Int64,
            MLX_FLOAT16 => Dtype::Float16,
            MLX_FLOAT32 => Dtype::Float32,
            MLX_FLOAT64 => Dtype::Float64,
            MLX_BFLOAT16 => Dtype::Bfloat16,
            MLX_COMPLEX64 => Dtype::Complex64,
            _ => return None,
        })
    }

    /// mlx-c's code for this dtype.
    pub fn as_raw(self) -> mlx_sys::mlx_dtype {
        use mlx_sys::*;
        match self {
            Dtype::Bool => MLX_BOOL,
            Dtype::Uint8 => MLX_UINT8,
            Dtype::Uint16 => MLX_UINT16,
            Dtype::Uint32 => MLX_UINT32,
            Dtype::Uint64 => MLX_UINT64,
            Dtype::Int8 => MLX_INT8,
            Dtype::Int16 => MLX_INT16,
            Dtype::Int32 => MLX_INT32,
            Dtype::Int64 => MLX_INT64,
            Dtype::Float16 => MLX_FLOAT16,
            Dtype::Float32 => MLX_FLOAT32,
            Dtype::Float64 => MLX_FLOAT64,
            Dtype::Bfloat16 => MLX_BFLOAT16,
            Dtype::Complex64 => MLX_COMPLEX64,
        }
    }

    /// Size of one element in bytes.
    pub fn size(self) -> usize {
        match self {
            Dtype::Bool | Dtype::Uint8 | Dtype::Int8 => 1,
            Dtype::Uint16 | Dtype::Int16 | Dtype::Float16 | Dtype::Bfloat16 => 2,
            Dtype::Uint32 | Dtype::Int32 | Dtype::Float32 => 4,
            Dtype::Uint64 | Dtype::Int64 | Dtype::Float64 | Dtype::Complex64 => 8,
        }
    }

    /// MLX's (and Python's) name for the dtype, e.g. `"float32"`.
    pub fn name(self) -> &'static str {
        match self {
            Dtype::Bool => "bool",
            Dtype::Uint8 => "uint8",
            Dtype::Uint16 => "uint16",
            Dtype::Uint32 => "uint32",
            Dtype::Uint64 => "uint64",
            Dtype::Int8 => "int8",
            Dtype::Int16 => "int16",
            Dtype::Int32 => "int32",
            Dtype::Int64 => "int64",
            Dtype::Float16 => "float16",
            Dtype::Float32 => "float32",
            Dtype::Float64 => "float64",
            Dtype::Bfloat16 => "bfloat16",
            Dtype::Complex64 => "complex64",
        }
    }

    /// Whether the dtype is a signed or unsigned integer (not `bool`).
    pub fn is_integer(self) -> bool {
        matches!(
            self,
            Dtype::Uint8
                | Dtype::Uint16
                | Dtype::Uint32
                | Dtype::Uint64
                | Dtype::Int8
                | Dtype::Int16
                | Dtype::Int32
                | Dtype::Int64
        )
    }

    /// Whether the dtype is a real floating-point type.
    pub fn is_floating(self) -> bool {
        matches!(
            self,
            Dtype::Float16 | Dtype::Float32 | Dtype::Float64 | Dtype::Bfloat16
        )
    }

    /// Whether the dtype is an unsigned integer.
    pub fn is_unsigned(self) -> bool {
        matches!(
            self,
            Dtype::Uint8 | Dtype::Uint16 | Dtype::Uint32 | Dtype::Uint64
        )
    }
}

impl fmt::Display for Dtype {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

mod sealed {
    pub trait Sealed {}
}

/// A Rust type that is exactly one MLX dtype.
///
/// Implemented for `bool`, `u8`–`u64`, `i8`–`i64`, [`half::f16`],
/// [`half::bf16`], `f32`, `f64` and [`num_complex::Complex32`]; sealed,
/// because the crate reads MLX's buffers as `&[Self]` and relies on the
/// layout being MLX's.
pub trait ArrayElement: Copy + sealed::Sealed + 'static {
    /// The dtype whose elements are laid out as `Self`.
    const DTYPE: Dtype;

    /// Reads one element from MLX's buffer.
    ///
    /// # Safety
    /// `p` must point at `size_of::<Self>()` readable bytes of an element of
    /// dtype `Self::DTYPE` (any alignment).
    #[doc(hidden)]
    unsafe fn read_raw(p: *const Self) -> Self {
        // SAFETY: the caller guarantees `p` points at one element's bytes;
        // every bit pattern is a valid value of the non-bool types.
        unsafe { std::ptr::read_unaligned(p) }
    }

    /// Whether `bytes` are all valid values of `Self` (only `bool` has
    /// invalid bit patterns).
    #[doc(hidden)]
    fn bytes_valid(_bytes: &[u8]) -> bool {
        true
    }
}

macro_rules! element {
    ($($t:ty => $d:ident),* $(,)?) => {$(
        impl sealed::Sealed for $t {}
        impl ArrayElement for $t {
            const DTYPE: Dtype = Dtype::$d;
        }
    )*};
}

impl sealed::Sealed for bool {}
impl ArrayElement for bool {
    const DTYPE: Dtype = Dtype::Bool;

    unsafe fn read_raw(p: *const Self) -> Self {
        // SAFETY: the caller guarantees one readable byte at `p`; reading it
        // as u8 accepts any byte (MLX could hold a non-0/1 byte after a
        // `view`), then normalises it.
        unsafe { std::ptr::read_unaligned(p.cast::<u8>()) != 0 }
    }

    fn bytes_valid(bytes: &[u8]) -> bool {
        bytes.iter().all(|&b| b <= 1)
    }
}

// Layouts: bool is one byte holding 0 or 1 in both Rust and C++; f16/bf16
// are `repr(transparent)` over u16 like MLX's `float16_t`/`bfloat16_t`;
// `Complex32` is `repr(C)` { re, im } like `std::complex<float>`.
element! {
    u8 => Uint8,
    u16 => Uint16,
    u32 => Uint32,
    u64 => Uint64,
    i8 => Int8,
    i16 => Int16,
    i32 => Int32,
    i64 => Int64,
    f16 => Float16,
    f32 => Float32,
    f64 => Float64,
    bf16 => Bfloat16,
    Complex32 => Complex64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_codes_round_trip() {
        for d in Dtype::ALL {
            assert_eq!(Dtype::from_raw(d.as_raw()).unwrap(), d);
            // SAFETY: mlx_dtype_size is a pure lookup on a valid code.
            let size = unsafe { mlx_sys::mlx_dtype_size(d.as_raw()) };
            assert_eq!(size, d.size(), "{d}");
        }
        assert_eq!(Dtype::from_raw(99), None);
    }

    #[test]
    fn element_sizes_match_dtypes() {
        fn size_of<T: ArrayElement>() -> (usize, usize) {
            (std::mem::size_of::<T>(), T::DTYPE.size())
        }
        for (a, b) in [
            size_of::<bool>(),
            size_of::<u8>(),
            size_of::<u16>(),
            size_of::<u32>(),
            size_of::<u64>(),
            size_of::<i8>(),
            size_of::<i16>(),
            size_of::<i32>(),
            size_of::<i64>(),
            size_of::<f16>(),
            size_of::<f32>(),
            size_of::<f64>(),
            size_of::<bf16>(),
            size_of::<Complex32>(),
        ] {
            assert_eq!(a, b);
        }
    }
}
