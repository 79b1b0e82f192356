//! [`KwargsClosure`]: a Rust function of positional and keyword arrays
//! handed to mlx-c as an `mlx_closure_kwargs` (what
//! [`export_function_kwargs`](crate::export::export_function_kwargs)
//! traces).
//!
//! The same plumbing as [`Closure`](super::Closure): the boxed Rust
//! function is the payload, the trampoline runs it under `catch_unwind`,
//! and its failure reaches the caller through the closure error slot.

use std::collections::HashMap;
use std::ffi::c_void;
use std::mem::ManuallyDrop;

use super::closure::{borrowed_arrays, drop_payload, guarded, run, write_arrays, Payload};
use crate::array::vector;
use crate::error::Result;
use crate::io::ArrayMap;
use crate::raw::{self, Owned};
use crate::Array;

/// The keyword arguments of a [`KwargsClosure`]: names to arrays.
pub type Kwargs = HashMap<String, Array>;

/// A function of positional and keyword arrays: an owned
/// `mlx_closure_kwargs`.
///
/// ```
/// use mlx_rs::{ops, transforms::KwargsClosure, Array};
/// let f = KwargsClosure::new(|x: &[Array], kw: &mlx_rs::transforms::Kwargs| {
///     Ok(vec![ops::multiply(&x[0], &kw["scale"])?])
/// })?;
/// let kw = [("scale".to_owned(), Array::scalar(2.0f32)?)].into();
/// let y = f.call(&[Array::from_slice(&[3.0f32], &[1])?], &kw)?;
/// assert_eq!(y[0].to_vec::<f32>()?, [6.0]);
/// # Ok::<(), mlx_rs::Error>(())
/// ```
///
/// Not `Send`, for the reasons [`Closure`](super::Closure) is not.
#[derive(Debug)]
pub struct KwargsClosure(pub(crate) Owned<mlx_sys::mlx_closure_kwargs>);

/// The trampoline of [`KwargsClosure::new`].
unsafe extern "C" fn call_kwargs<F>(
    res: *mut mlx_sys::mlx_vector_array,
    input: mlx_sys::mlx_vector_array,
    kwargs: mlx_sys::mlx_map_string_to_array,
    payload: *mut c_void,
) -> i32
where
    F: FnMut(&[Array], &Kwargs) -> Result<Vec<Array>>,
{
    const OP: &str = "mlx_closure_kwargs_apply";
    guarded(|| {
        // SAFETY: mlx-c lends `input` for this call.
        let inputs = unsafe { borrowed_arrays(OP, input) }?;
        // SAFETY: mlx-c lends `kwargs` for this call; `ManuallyDrop`
        // keeps the guard from freeing a map that mlx-c owns.
        let map = ManuallyDrop::new(ArrayMap(unsafe { Owned::from_raw(kwargs) }));
        let kw = map.to_hash_map()?;
        // SAFETY: mlx-c passes the payload that `KwargsClosure::new` made
        // for `F`.
        let outputs = unsafe { Payload::<F>::with(payload, |f| f(&inputs, &kw)) }?;
        // SAFETY: `res` is the result vector mlx-c owns.
        unsafe { write_arrays(OP, res, &outputs) }
    })
}

impl KwargsClosure {
    /// Wraps a Rust function of positional and keyword arrays.
    ///
    /// An `Err` the function returns (or a panic) ends the call that ran
    /// it, whose caller gets that `Err`.
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) if mlx-c cannot make the closure.
    #[doc(alias = "mlx_closure_kwargs_new_func_payload")]
    pub fn new<F>(f: F) -> Result<KwargsClosure>
    where
        F: FnMut(&[Array], &Kwargs) -> Result<Vec<Array>> + 'static,
    {
        let payload = Payload::into_raw(f);
        // SAFETY: `call_kwargs::<F>` and `drop_payload::<F>` take the
        // payload made for `F`; mlx-c owns the payload from here.
        raw::returned("mlx_closure_kwargs_new_func_payload", || unsafe {
            mlx_sys::mlx_closure_kwargs_new_func_payload(
                Some(call_kwargs::<F>),
                payload,
                Some(drop_payload::<F>),
            )
        })
        .map(KwargsClosure)
    }

    /// Calls the closure.
    ///
    /// # Errors
    /// The function's own error, [`Error::Mlx`](crate::Error::Mlx) naming
    /// its panic, [`Error::InvalidData`](crate::Error::InvalidData) for a
    /// key with a NUL byte, or MLX's error.
    #[doc(alias = "mlx_closure_kwargs_apply")]
    pub fn call(&self, args: &[Array], kwargs: &Kwargs) -> Result<Vec<Array>> {
        let inputs = vector(args)?;
        let map = ArrayMap::from_arrays(kwargs.iter())?;
        run("mlx_closure_kwargs_apply", || {
            Array::build_vec("mlx_closure_kwargs_apply", |res| {
                // SAFETY: the closure, the vector and the map are live;
                // `res` is a fresh out-param.
                unsafe {
                    mlx_sys::mlx_closure_kwargs_apply(res, self.0.get(), inputs.get(), map.0.get())
                }
            })
        })
    }
}
