//! An owned `mlx_vector_string`, the list of strings mlx-c takes and returns
//! (GGUF metadata, custom-kernel argument names).

use std::ffi::c_char;

use crate::error::{check, Result};
use crate::io::{cstring, string_from_c};

/// An owned `mlx_vector_string`; `Drop` frees it.
pub(crate) struct VecString(pub(crate) mlx_sys::mlx_vector_string);

impl VecString {
    /// An empty vector.
    pub(crate) fn new() -> Self {
        crate::error::init();
        // SAFETY: a plain constructor with no inputs.
        VecString(unsafe { mlx_sys::mlx_vector_string_new() })
    }

    /// A vector holding copies of `items`.
    ///
    /// # Errors
    /// [`Error::InvalidData`](crate::Error::InvalidData) when an item holds
    /// a NUL byte; [`Error::Mlx`](crate::Error::Mlx) if mlx-c fails.
    #[doc(alias = "mlx_vector_string_append_value")]
    pub(crate) fn from_strs(items: &[&str]) -> Result<Self> {
        let v = VecString::new();
        for item in items {
            let c = cstring(item)?;
            // SAFETY: `v.0` is live; `c` is NUL-terminated and alive for the
            // call; mlx-c copies it into a std::string.
            check("mlx_vector_string_append_value", unsafe {
                mlx_sys::mlx_vector_string_append_value(v.0, c.as_ptr())
            })?;
        }
        Ok(v)
    }

    /// Copies the strings out.
    ///
    /// # Errors
    /// [`Error::InvalidData`](crate::Error::InvalidData) for a string that
    /// is not UTF-8; [`Error::Mlx`](crate::Error::Mlx) if mlx-c fails.
    #[doc(alias = "mlx_vector_string_get")]
    pub(crate) fn to_vec(&self) -> Result<Vec<String>> {
        // SAFETY: `self.0` is a live vector.
        let n = unsafe { mlx_sys::mlx_vector_string_size(self.0) };
        let mut out = Vec::with_capacity(n);
        for i in 0..n {
            let mut p: *mut c_char = std::ptr::null_mut();
            // SAFETY: `p` is a valid out-param, `i < size`.
            check("mlx_vector_string_get", unsafe {
                mlx_sys::mlx_vector_string_get(&mut p, self.0, i)
            })?;
            // SAFETY: `p` points at the element's characters, alive while
            // the vector is; copied at once.
            out.push(unsafe { string_from_c(p, "a string from MLX is not valid UTF-8") }?);
        }
        Ok(out)
    }
}

impl Drop for VecString {
    fn drop(&mut self) {
        // SAFETY: owned by `self`, freed once.
        unsafe { mlx_sys::mlx_vector_string_free(self.0) };
    }
}
