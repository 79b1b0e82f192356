//! Exporting traced functions to `.mlxfn` files: [`export_function`],
//! [`export_function_kwargs`] and [`FunctionExporter`].

use std::path::Path;

use crate::array::vector;
use crate::error::Result;
use crate::io::ArrayMap;
use crate::raw::{self, path_cstring, Owned};
use crate::transforms::closure::run;
use crate::transforms::{Closure, Kwargs, KwargsClosure};
use crate::Array;

/// Traces `f` on `args` and writes the traced graph to `path` (created or
/// replaced), as Python's `mx.export_function(path, f, *args,
/// shapeless=...)` does: the file imports in Python, C++ and
/// [`import_function`](super::import_function).
///
/// Arrays that `f` captures (weights) are stored in the file as
/// constants. With `shapeless`, the imported function accepts inputs of
/// other shapes (same number and dtypes); MLX then re-infers every shape,
/// which ops that depend on a shape (a `reshape` to fixed sizes) may not
/// allow.
///
/// ```
/// use mlx_rs::{export::{export_function, import_function}, ops, Array};
/// let path = std::env::temp_dir().join(format!("doc-export-{}.mlxfn", std::process::id()));
/// let x = Array::from_slice(&[1.0f32, 2.0], &[2])?;
/// export_function(&path, |a: &[Array]| Ok(vec![ops::square(&a[0])?]), &[x.clone()], false)?;
/// let f = import_function(&path)?;
/// assert_eq!(f.call(&[x])?[0].to_vec::<f32>()?, [1.0, 4.0]);
/// # std::fs::remove_file(&path).ok();
/// # Ok::<(), mlx_rs::Error>(())
/// ```
///
/// # Errors
/// `f`'s own `Err` (or its panic as [`Error::Mlx`](crate::Error::Mlx));
/// [`Error::InvalidData`](crate::Error::InvalidData) for a path with a
/// NUL byte; [`Error::Mlx`](crate::Error::Mlx) when the file cannot be
/// written or MLX cannot trace `f`.
#[doc(alias = "mlx_export_function")]
pub fn export_function<F>(
    path: impl AsRef<Path>,
    f: F,
    args: &[Array],
    shapeless: bool,
) -> Result<()>
where
    F: FnMut(&[Array]) -> Result<Vec<Array>> + 'static,
{
    let file = path_cstring(path.as_ref())?;
    let closure = Closure::new(f)?;
    let inputs = vector(args)?;
    run("mlx_export_function", || {
        // SAFETY: `file` is a NUL-terminated path, `closure` and `inputs`
        // are live handles; MLX traces the closure on this thread.
        raw::call("mlx_export_function", || unsafe {
            mlx_sys::mlx_export_function(file.as_ptr(), closure.get(), inputs.get(), shapeless)
        })
    })
}

/// [`export_function`] for a function of positional and keyword arrays
/// (Python's `mx.export_function(path, f, *args, **kwargs)`): the imported
/// function is called with the same keywords
/// ([`ImportedFunction::call_kwargs`](super::ImportedFunction::call_kwargs)).
///
/// # Errors
/// As [`export_function`]; also
/// [`Error::InvalidData`](crate::Error::InvalidData) for a key with a NUL
/// byte.
#[doc(alias = "mlx_export_function_kwargs")]
pub fn export_function_kwargs<F>(
    path: impl AsRef<Path>,
    f: F,
    args: &[Array],
    kwargs: &Kwargs,
    shapeless: bool,
) -> Result<()>
where
    F: FnMut(&[Array], &Kwargs) -> Result<Vec<Array>> + 'static,
{
    let file = path_cstring(path.as_ref())?;
    let closure = KwargsClosure::new(f)?;
    let inputs = vector(args)?;
    let map = ArrayMap::from_arrays(kwargs.iter())?;
    run("mlx_export_function_kwargs", || {
        // SAFETY: `file` is a NUL-terminated path; the closure, vector and
        // map are live handles; MLX traces the closure on this thread.
        raw::call("mlx_export_function_kwargs", || unsafe {
            mlx_sys::mlx_export_function_kwargs(
                file.as_ptr(),
                closure.0.get(),
                inputs.get(),
                map.0.get(),
                shapeless,
            )
        })
    })
}

/// Writes several traces of one function into one `.mlxfn` file (Python's
/// `mx.exporter`): each [`trace`](FunctionExporter::trace) call adds the
/// function traced on other inputs (a different number of arguments,
/// other shapes or dtypes); the imported function picks the trace that
/// matches its call.
///
/// The file is created by [`FunctionExporter::new`] and is complete after
/// each trace; dropping the exporter closes it.
///
/// ```
/// use mlx_rs::{export::{import_function, FunctionExporter}, ops, Array};
/// let path = std::env::temp_dir().join(format!("doc-exporter-{}.mlxfn", std::process::id()));
/// let mut ex = FunctionExporter::new(&path, |a: &[Array]| {
///     let mut s = a[0].clone();
///     for x in &a[1..] { s = ops::add(&s, x)?; }
///     Ok(vec![s])
/// }, false)?;
/// let one = Array::from_slice(&[1.0f32], &[1])?;
/// ex.trace(&[one.clone()])?;
/// ex.trace(&[one.clone(), one.clone()])?;
/// drop(ex);
/// let f = import_function(&path)?;
/// assert_eq!(f.call(&[one.clone(), one])?[0].to_vec::<f32>()?, [2.0]);
/// # std::fs::remove_file(&path).ok();
/// # Ok::<(), mlx_rs::Error>(())
/// ```
///
/// Not `Send`: it holds the Rust function, which need not be.
#[derive(Debug)]
pub struct FunctionExporter {
    raw: Owned<mlx_sys::mlx_function_exporter>,
    /// MLX holds its own copy; kept so the function outlives every trace
    /// whatever MLX does with its copy.
    _closure: Closure,
}

impl FunctionExporter {
    /// Creates (or replaces) the file at `path`, for traces of `f`.
    ///
    /// # Errors
    /// [`Error::InvalidData`](crate::Error::InvalidData) for a path with a
    /// NUL byte; [`Error::Mlx`](crate::Error::Mlx) when the file cannot be
    /// created.
    #[doc(alias = "mlx_function_exporter_new")]
    pub fn new<F>(path: impl AsRef<Path>, f: F, shapeless: bool) -> Result<FunctionExporter>
    where
        F: FnMut(&[Array]) -> Result<Vec<Array>> + 'static,
    {
        let file = path_cstring(path.as_ref())?;
        let closure = Closure::new(f)?;
        // SAFETY: `file` is a NUL-terminated path and `closure` a live
        // handle (MLX copies it); the exporter returned is ours to free.
        let raw = raw::returned("mlx_function_exporter_new", || unsafe {
            mlx_sys::mlx_function_exporter_new(file.as_ptr(), closure.get(), shapeless)
        })?;
        Ok(FunctionExporter {
            raw,
            _closure: closure,
        })
    }

    /// Traces the function on `args` and appends the trace to the file.
    ///
    /// # Errors
    /// The function's own `Err`; [`Error::Mlx`](crate::Error::Mlx) when a
    /// trace of the same signature (number, shapes and dtypes of the
    /// inputs; with `shapeless`, number and dtypes) was already written,
    /// or MLX cannot trace or write.
    #[doc(alias = "mlx_function_exporter_apply")]
    pub fn trace(&mut self, args: &[Array]) -> Result<()> {
        let inputs = vector(args)?;
        run("mlx_function_exporter_apply", || {
            // SAFETY: the exporter and the vector are live handles.
            raw::call("mlx_function_exporter_apply", || unsafe {
                mlx_sys::mlx_function_exporter_apply(self.raw.get(), inputs.get())
            })
        })
    }
}
