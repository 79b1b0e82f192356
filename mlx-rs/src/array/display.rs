//! `Display` and `Debug` for arrays, as MLX (and Python's `repr`) print them.

use std::fmt;

use crate::error::check;
use crate::Array;

impl Array {
    /// MLX's text for the array (evaluates it).
    fn mlx_text(&self) -> crate::Result<String> {
        crate::error::init();
        // SAFETY: `self.raw` is live; `s` is a fresh string handle that
        // mlx-c fills, read while alive and freed right after.
        unsafe {
            let mut s = mlx_sys::mlx_string_new();
            let status = mlx_sys::mlx_array_tostring(&mut s, self.as_raw());
            let text = super::string_from_raw(s);
            mlx_sys::mlx_string_free(s);
            check("mlx_array_tostring", status).map(|()| text)
        }
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
