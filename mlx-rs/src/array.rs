//! [`Array`]: MLX's lazy, reference-counted n-dimensional array.

use std::ffi::CStr;

use crate::dtype::Dtype;
use crate::error::{self, check, check_handle, Result};
use crate::stream::Stream;

mod construct;
mod display;
mod read;

/// An n-dimensional MLX array.
///
/// Arrays are lazy: an operation records a node in a graph and returns at
/// once; the work runs when the array is evaluated ([`Array::eval`],
/// [`eval`], or implicitly by reading it with [`Array::item`] or
/// [`Array::to_vec`]). `Clone` is cheap: it bumps MLX's reference count
/// (a `shared_ptr`) and never copies data.
///
/// ```
/// use mlx_rs::Array;
/// let a = Array::from_slice(&[1.0f32, 2.0, 3.0, 4.0], &[2, 2])?;
/// let b = (&a * 2.0)?; // lazy
/// assert_eq!(b.to_vec::<f32>()?, [2.0, 4.0, 6.0, 8.0]); // evaluates
/// # Ok::<(), mlx_rs::Error>(())
/// ```
///
/// # Threads
/// `Array` is neither `Send` nor `Sync`. MLX 0.32 supports building and
/// evaluating *independent* graphs on several threads at once (each thread
/// has its own default stream and command encoder), but not sharing one
/// graph between threads: evaluation mutates the nodes of the graph it runs
/// (it sets their data and status and detaches them from their inputs)
/// without any lock, and MLX's thread-safety work (ml-explore/mlx#3078,
/// #3281) states that arrays of different threads must not depend on each
/// other. Since cloning an `Array` shares its node, a `Send` array would let
/// two threads evaluate the same node concurrently, a data race inside MLX.
/// So arrays stay on the thread that made them; send plain data (e.g. a
/// `Vec` from [`Array::to_vec`]) between threads instead. The
/// `thread_stress` test runs independent graphs on several threads.
///
/// ```compile_fail
/// fn needs_send<T: Send>(_: T) {}
/// needs_send(mlx_rs::Array::scalar(1.0f32).unwrap());
/// ```
pub struct Array {
    raw: mlx_sys::mlx_array,
}

impl Array {
    /// Wraps a raw handle, taking ownership of it.
    ///
    /// # Safety
    /// `raw` must be a live, non-empty `mlx_array` that nothing else frees
    /// (the returned `Array` frees it on drop), created on this thread.
    pub unsafe fn from_raw(raw: mlx_sys::mlx_array) -> Self {
        error::init();
        Array { raw }
    }

    /// The raw handle, still owned by `self`; valid while `self` lives.
    pub fn as_raw(&self) -> mlx_sys::mlx_array {
        self.raw
    }

    /// Gives up ownership of the raw handle; the caller must free it with
    /// `mlx_array_free`.
    pub fn into_raw(self) -> mlx_sys::mlx_array {
        let raw = self.raw;
        std::mem::forget(self);
        raw
    }

    /// Runs an mlx-c function that writes one array through an out-param,
    /// checks its status, and returns the array.
    ///
    /// This is the one place where ops turn an `mlx_array` out-param into
    /// an `Array`; `f` receives a pointer to a fresh, empty handle.
    pub(crate) fn build(
        op: &'static str,
        f: impl FnOnce(*mut mlx_sys::mlx_array) -> i32,
    ) -> Result<Array> {
        error::init();
        // SAFETY: mlx_array_new returns an empty handle (null ctx); `f`
        // fills it in place. Whatever it ends up holding is owned by `out`,
        // whose drop frees it (mlx_array_free ignores an empty handle).
        let mut raw = unsafe { mlx_sys::mlx_array_new() };
        let status = f(&mut raw);
        let out = Array { raw };
        // One check for both ways to fail: a status, or an empty result
        // (`check` takes any pending message either way).
        let status = if status == 0 && out.raw.ctx.is_null() {
            1
        } else {
            status
        };
        check(op, status)?;
        Ok(out)
    }

    /// Takes an array that an mlx-c constructor returned (as a value),
    /// failing if it reported an error or returned an empty handle.
    pub(crate) fn from_constructor(op: &'static str, raw: mlx_sys::mlx_array) -> Result<Array> {
        let out = Array { raw };
        check_handle(op, out.raw.ctx.is_null())?;
        Ok(out)
    }

    /// The dimensions of the array.
    #[doc(alias = "mlx_array_shape")]
    #[doc(alias = "mlx_array_ndim")]
    pub fn shape(&self) -> &[i32] {
        let n = self.ndim();
        // SAFETY: `self.raw` is live. mlx_array_shape points into the shape
        // vector of the array's descriptor, which `self` keeps alive and
        // which MLX never resizes or reassigns after construction (eval
        // changes data, strides and status, not the shape); it holds `ndim`
        // ints. A null pointer (never for a live array) gives an empty slice.
        unsafe {
            let p = mlx_sys::mlx_array_shape(self.raw);
            if p.is_null() || n == 0 {
                &[]
            } else {
                std::slice::from_raw_parts(p, n)
            }
        }
    }

    /// The size of dimension `axis` (negative counts from the end), or
    /// `None` when out of range.
    pub fn dim(&self, axis: i32) -> Option<i32> {
        let shape = self.shape();
        let n = shape.len() as i64;
        let ax = if axis < 0 {
            i64::from(axis) + n
        } else {
            i64::from(axis)
        };
        usize::try_from(ax).ok().and_then(|i| shape.get(i)).copied()
    }

    /// Number of dimensions.
    #[doc(alias = "mlx_array_ndim")]
    pub fn ndim(&self) -> usize {
        // SAFETY: `self.raw` is a live array handle.
        unsafe { mlx_sys::mlx_array_ndim(self.raw) }
    }

    /// Number of elements.
    #[doc(alias = "mlx_array_size")]
    pub fn size(&self) -> usize {
        // SAFETY: `self.raw` is a live array handle.
        unsafe { mlx_sys::mlx_array_size(self.raw) }
    }

    /// Number of bytes of the elements (`size * itemsize`).
    #[doc(alias = "mlx_array_nbytes")]
    pub fn nbytes(&self) -> usize {
        // SAFETY: `self.raw` is a live array handle.
        unsafe { mlx_sys::mlx_array_nbytes(self.raw) }
    }

    /// Size of one element in bytes.
    #[doc(alias = "mlx_array_itemsize")]
    pub fn itemsize(&self) -> usize {
        // SAFETY: `self.raw` is a live array handle.
        unsafe { mlx_sys::mlx_array_itemsize(self.raw) }
    }

    /// The element type.
    #[doc(alias = "mlx_array_dtype")]
    pub fn dtype(&self) -> Dtype {
        // SAFETY: `self.raw` is a live array handle.
        let code = unsafe { mlx_sys::mlx_array_dtype(self.raw) };
        // mlx-c's mlx_dtype_to_c maps every MLX dtype onto the 14 codes
        // Dtype covers, so this never falls back.
        Dtype::from_raw(code).unwrap_or(Dtype::Bool)
    }

    /// The strides of the array in elements (one per dimension).
    ///
    /// Before evaluation these are the row-major strides of the shape;
    /// after evaluation they describe the actual buffer, so views (a
    /// transpose, a broadcast, a reversed slice) show their real layout,
    /// with 0 for broadcast dimensions and negative values for reversed
    /// ones.
    #[doc(alias = "mlx_array_strides")]
    pub fn strides(&self) -> Vec<i64> {
        let n = self.ndim();
        // SAFETY: `self.raw` is live; mlx_array_strides points at `ndim`
        // int64 strides (declared size_t by mlx-c, same width), copied out
        // at once because evaluation may replace the vector.
        unsafe {
            let p = mlx_sys::mlx_array_strides(self.raw);
            if p.is_null() || n == 0 {
                Vec::new()
            } else {
                std::slice::from_raw_parts(p, n)
                    .iter()
                    .map(|&s| s as i64)
                    .collect()
            }
        }
    }

    /// Evaluates the array (runs its graph), blocking until done.
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) if the computation fails.
    #[doc(alias = "mlx_array_eval")]
    pub fn eval(&self) -> Result<()> {
        error::init();
        // SAFETY: `self.raw` is a live array handle.
        check("mlx_array_eval", unsafe {
            mlx_sys::mlx_array_eval(self.raw)
        })
    }

    /// Starts evaluating the array without waiting for the result.
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) if scheduling fails.
    #[doc(alias = "mlx_async_eval")]
    pub fn async_eval(&self) -> Result<()> {
        async_eval([self])
    }

    /// Whether the array's data is computed and can be read without waiting.
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) if MLX fails to answer.
    #[doc(alias = "_mlx_array_is_available")]
    pub fn is_available(&self) -> Result<bool> {
        let mut res = false;
        // SAFETY: `self.raw` is live and `res` a valid out-param.
        check("_mlx_array_is_available", unsafe {
            mlx_sys::_mlx_array_is_available(&mut res, self.raw)
        })?;
        Ok(res)
    }

    /// A copy of the array converted to `dtype` (lazy).
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) if MLX cannot convert.
    #[doc(alias = "mlx_astype")]
    pub fn astype(&self, dtype: Dtype) -> Result<Array> {
        self.astype_on(dtype, &Stream::current()?)
    }

    /// [`Array::astype`] on an explicit stream.
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) if MLX cannot convert.
    #[doc(alias = "mlx_astype")]
    pub fn astype_on(&self, dtype: Dtype, stream: &Stream) -> Result<Array> {
        Array::build("mlx_astype", |res| {
            // SAFETY: `res` is a fresh out-param; input and stream are live.
            unsafe { mlx_sys::mlx_astype(res, self.raw, dtype.as_raw(), stream.as_raw()) }
        })
    }
}

impl Clone for Array {
    /// A second handle to the same array: bumps MLX's reference count,
    /// copies no data (cheap).
    #[doc(alias = "mlx_array_set")]
    fn clone(&self) -> Self {
        // SAFETY: `self.raw` is live and non-empty; mlx_array_set copies the
        // `mlx::core::array` (a shared_ptr) into the fresh handle.
        let (status, raw) = unsafe {
            let mut raw = mlx_sys::mlx_array_new();
            let status = mlx_sys::mlx_array_set(&mut raw, self.raw);
            (status, raw)
        };
        if status != 0 || raw.ctx.is_null() {
            // mlx_array_set only fails if `new` fails, i.e. out of memory,
            // which Rust's own allocations also treat as fatal.
            std::process::abort();
        }
        Array { raw }
    }
}

impl Drop for Array {
    #[doc(alias = "mlx_array_free")]
    fn drop(&mut self) {
        // SAFETY: `self` owns the handle, freed exactly once here; freeing
        // only drops a shared_ptr and cannot fail for a valid handle.
        unsafe { mlx_sys::mlx_array_free(self.raw) };
    }
}

/// Builds an `mlx_vector_array` holding `arrays` (freed by the guard).
pub(crate) struct RawVector(pub(crate) mlx_sys::mlx_vector_array);

impl RawVector {
    pub(crate) fn new<'a>(arrays: impl IntoIterator<Item = &'a Array>) -> Self {
        let raws: Vec<mlx_sys::mlx_array> = arrays.into_iter().map(|a| a.raw).collect();
        // SAFETY: `raws` holds `len` live handles; mlx-c copies each array
        // (bumping its reference count) into the new vector.
        RawVector(unsafe { mlx_sys::mlx_vector_array_new_data(raws.as_ptr(), raws.len()) })
    }
}

impl Drop for RawVector {
    fn drop(&mut self) {
        // SAFETY: the vector is owned here and freed exactly once.
        unsafe { mlx_sys::mlx_vector_array_free(self.0) };
    }
}

/// Evaluates several arrays at once (sharing their common subgraphs),
/// blocking until done.
///
/// ```
/// use mlx_rs::{eval, Array};
/// let a = Array::from_slice(&[1i32, 2], &[2])?;
/// let (b, c) = ((&a + 1)?, (&a * 3)?);
/// eval([&b, &c])?;
/// assert!(b.is_available()? && c.is_available()?);
/// # Ok::<(), mlx_rs::Error>(())
/// ```
///
/// # Errors
/// [`Error::Mlx`](crate::Error::Mlx) if a computation fails.
#[doc(alias = "mlx_eval")]
pub fn eval<'a>(arrays: impl IntoIterator<Item = &'a Array>) -> Result<()> {
    error::init();
    let v = RawVector::new(arrays);
    // SAFETY: `v.0` is a live vector of live arrays.
    check("mlx_eval", unsafe { mlx_sys::mlx_eval(v.0) })
}

/// Starts evaluating several arrays without waiting for them.
///
/// # Errors
/// [`Error::Mlx`](crate::Error::Mlx) if scheduling fails.
#[doc(alias = "mlx_async_eval")]
pub fn async_eval<'a>(arrays: impl IntoIterator<Item = &'a Array>) -> Result<()> {
    error::init();
    let v = RawVector::new(arrays);
    // SAFETY: `v.0` is a live vector of live arrays.
    check("mlx_async_eval", unsafe { mlx_sys::mlx_async_eval(v.0) })
}

/// Copies an `mlx_string`'s text out.
///
/// # Safety
/// `s` must be a live `mlx_string` handle.
pub(crate) unsafe fn string_from_raw(s: mlx_sys::mlx_string) -> String {
    // SAFETY: the caller guarantees `s` is live; mlx_string_data returns a
    // NUL-terminated buffer owned by it (or null when empty).
    unsafe {
        let p = mlx_sys::mlx_string_data(s);
        if p.is_null() {
            String::new()
        } else {
            CStr::from_ptr(p).to_string_lossy().into_owned()
        }
    }
}
