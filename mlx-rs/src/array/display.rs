//! `Display` and `Debug` for arrays, as MLX (and Python's `repr`) print them.

use std::fmt;

use crate::{raw, Array};

impl Array {
    /// MLX's text for the array (evaluates it).
    fn mlx_text(&self) -> crate::Result<String> {
        // SAFETY: `self` is live; `s` is a fresh string out-param.
        raw::string_out("mlx_array_tostring", |s| unsafe {
            mlx_sys::mlx_array_tostring(s, self.as_raw())
        })
    }
}

impl fmt::Display for Array {
    /// Prints like Python MLX, e.g. `array([[1, 2],\n       [3, 4]], dtype=int32)`.
    ///
    /// Printing evaluates the array. If that fails the error is printed in
    /// angle brackets instead (formatting cannot return MLX's error).
    #[doc(alias = "mlx_array_tostring")]
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.mlx_text() {
            // C++ prints bools as true/false, Python MLX as True/False.
            Ok(t) if self.dtype() == crate::Dtype::Bool => {
                f.write_str(&t.replace("true", "True").replace("false", "False"))
            }
            Ok(t) => f.write_str(&t),
            Err(e) => write!(f, "<array: {e}>"),
        }
    }
}

impl fmt::Debug for Array {
    /// Same as `Display`: MLX's `repr`.
    #[doc(alias = "mlx_array_tostring")]
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}
