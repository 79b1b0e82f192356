//! [`Array`]: MLX's lazy, reference-counted n-dimensional array.

use crate::dtype::Dtype;
use crate::error::Result;
use crate::raw::{self, Owned};
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
#[repr(transparent)]
pub struct Array(Owned<mlx_sys::mlx_array>);

impl Array {
    /// Wraps a raw handle, taking ownership of it.
    ///
    /// # Safety
    /// `raw` must be a live, non-empty `mlx_array` that nothing else frees
    /// (the returned `Array` frees it on drop), created on this thread.
    pub unsafe fn from_raw(raw: mlx_sys::mlx_array) -> Self {
        // SAFETY: the caller's contract is `Owned::from_raw`'s.
        Array(unsafe { Owned::from_raw(raw) })
    }

    /// The raw handle, still owned by `self`; valid while `self` lives.
    pub fn as_raw(&self) -> mlx_sys::mlx_array {
        self.0.get()
    }

    /// Gives up ownership of the raw handle; the caller must free it with
    /// `mlx_array_free`.
    pub fn into_raw(self) -> mlx_sys::mlx_array {
        self.0.into_raw()
    }

    /// The owned handle, borrowed: what the raw layer's runners take.
    #[inline]
    pub(crate) fn handle(&self) -> &Owned<mlx_sys::mlx_array> {
        &self.0
    }

    /// Runs an mlx-c function that writes one array through an out-param,
    /// checks its status, and returns the array (see [`raw::out`]).
    #[inline]
    pub(crate) fn build(
        op: &'static str,
        f: impl FnOnce(*mut mlx_sys::mlx_array) -> i32,
    ) -> Result<Array> {
        raw::out(op, f).map(Array)
    }

    /// Runs an mlx-c function that writes a vector of arrays through an
    /// out-param and returns the arrays.
    pub(crate) fn build_vec(
        op: &'static str,
        f: impl FnOnce(*mut mlx_sys::mlx_vector_array) -> i32,
    ) -> Result<Vec<Array>> {
        let v = raw::out(op, f)?;
        Array::vec_from(op, &v)
    }

    /// The arrays of a live `mlx_vector_array` (each a new reference).
    pub(crate) fn vec_from(
        op: &'static str,
        v: &Owned<mlx_sys::mlx_vector_array>,
    ) -> Result<Vec<Array>> {
        // SAFETY: `v` is a live vector.
        let n = unsafe { mlx_sys::mlx_vector_array_size(v.get()) };
        (0..n)
            .map(|i| {
                Array::build(op, |res| {
                    // SAFETY: `i < n`; the vector is live; `res` is a fresh
                    // out-param that receives a new reference.
                    unsafe { mlx_sys::mlx_vector_array_get(res, v.get(), i) }
                })
            })
            .collect()
    }

    /// Runs an mlx-c function that writes two arrays through out-params.
    pub(crate) fn build_pair(
        op: &'static str,
        f: impl FnOnce(*mut mlx_sys::mlx_array, *mut mlx_sys::mlx_array) -> i32,
    ) -> Result<(Array, Array)> {
        raw::out2(op, f).map(|(a, b)| (Array(a), Array(b)))
    }

    /// Takes an array that an mlx-c constructor returned (as a value),
    /// failing if it reported an error or returned an empty handle.
    pub(crate) fn from_constructor(
        op: &'static str,
        f: impl FnOnce() -> mlx_sys::mlx_array,
    ) -> Result<Array> {
        raw::returned(op, f).map(Array)
    }

    /// The dimensions of the array.
    #[doc(alias = "mlx_array_shape")]
    #[doc(alias = "mlx_array_ndim")]
    pub fn shape(&self) -> &[i32] {
        let n = self.ndim();
        // SAFETY: `self` is live. mlx_array_shape points into the shape
        // vector of the array's descriptor, which `self` keeps alive and
        // which MLX never resizes or reassigns after construction (eval
        // changes data, strides and status, not the shape); it holds `ndim`
        // ints. A null pointer (never for a live array) gives an empty slice.
        unsafe {
            let p = mlx_sys::mlx_array_shape(self.as_raw());
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
        // SAFETY: `self` is a live array handle.
        unsafe { mlx_sys::mlx_array_ndim(self.as_raw()) }
    }

    /// Number of elements.
    #[doc(alias = "mlx_array_size")]
    pub fn size(&self) -> usize {
        // SAFETY: `self` is a live array handle.
        unsafe { mlx_sys::mlx_array_size(self.as_raw()) }
    }

    /// Number of bytes of the elements (`size * itemsize`).
    #[doc(alias = "mlx_array_nbytes")]
    pub fn nbytes(&self) -> usize {
        // SAFETY: `self` is a live array handle.
        unsafe { mlx_sys::mlx_array_nbytes(self.as_raw()) }
    }

    /// Size of one element in bytes.
    #[doc(alias = "mlx_array_itemsize")]
    pub fn itemsize(&self) -> usize {
        // SAFETY: `self` is a live array handle.
        unsafe { mlx_sys::mlx_array_itemsize(self.as_raw()) }
    }

    /// The element type.
    ///
    /// # Panics
    /// Never with the pinned mlx-c 0.7.0: its enum `mlx_dtype` has exactly
    /// the 14 values of [`Dtype`] (`array.h`), onto which `mlx_dtype_to_c`
    /// maps every MLX dtype, and each round-trips (`dtype.rs`'s tests). An
    /// unknown code, which only a different mlx-c could return, is a build
    /// mismatch and panics rather than being read as another dtype.
    #[doc(alias = "mlx_array_dtype")]
    pub fn dtype(&self) -> Dtype {
        // SAFETY: `self` is a live array handle.
        let code = unsafe { mlx_sys::mlx_array_dtype(self.as_raw()) };
        // mlx-c's mlx_dtype_to_c maps every MLX dtype onto the 14 codes
        // Dtype covers; a code outside them would be an mlx-c this crate
        // was not built for, which the build pins out.
        Dtype::from_raw(code).expect("mlx-c returned a dtype code outside mlx_dtype")
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
        // SAFETY: `self` is live; mlx_array_strides points at `ndim`
        // int64 strides (declared size_t by mlx-c, same width), copied out
        // at once because evaluation may replace the vector.
        unsafe {
            let p = mlx_sys::mlx_array_strides(self.as_raw());
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
        // SAFETY: `self` is a live array handle.
        raw::call("mlx_array_eval", || unsafe {
            mlx_sys::mlx_array_eval(self.as_raw())
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
        // SAFETY: `self` is live and `res` a valid out-param.
        raw::call("_mlx_array_is_available", || unsafe {
            mlx_sys::_mlx_array_is_available(&mut res, self.as_raw())
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
            unsafe { mlx_sys::mlx_astype(res, self.as_raw(), dtype.as_raw(), stream.as_raw()) }
        })
    }
}

impl From<Owned<mlx_sys::mlx_array>> for Array {
    /// An array owning a handle the raw layer produced.
    fn from(h: Owned<mlx_sys::mlx_array>) -> Self {
        Array(h)
    }
}

impl Clone for Array {
    /// A second handle to the same array: bumps MLX's reference count,
    /// copies no data (cheap).
    #[doc(alias = "mlx_array_set")]
    fn clone(&self) -> Self {
        // SAFETY: `res` is a fresh out-param and `self` a live array;
        // mlx_array_set copies the `mlx::core::array` (a shared_ptr) into it.
        match raw::out("mlx_array_set", |res| unsafe {
            mlx_sys::mlx_array_set(res, self.as_raw())
        }) {
            Ok(h) => Array(h),
            // mlx_array_set only fails if `new` fails, i.e. out of memory,
            // which Rust's own allocations also treat as fatal.
            Err(_) => std::process::abort(),
        }
    }
}

/// An `mlx_vector_array` holding `arrays` (each shared, not copied), for
/// mlx-c to read.
///
/// # Errors
/// [`Error::Mlx`](crate::Error::Mlx) if mlx-c cannot build the vector.
#[doc(alias = "mlx_vector_array_new_data")]
pub(crate) fn vector<'a>(
    arrays: impl IntoIterator<Item = &'a Array>,
) -> Result<Owned<mlx_sys::mlx_vector_array>> {
    let raws: Vec<mlx_sys::mlx_array> = arrays.into_iter().map(Array::as_raw).collect();
    // SAFETY: `raws` holds `len` live handles; mlx-c copies each array
    // (bumping its reference count) into the new vector.
    raw::returned("mlx_vector_array_new_data", || unsafe {
        mlx_sys::mlx_vector_array_new_data(raws.as_ptr(), raws.len())
    })
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
    let v = vector(arrays)?;
    // SAFETY: `v` is a live vector of live arrays.
    raw::call("mlx_eval", || unsafe { mlx_sys::mlx_eval(v.get()) })
}

/// Starts evaluating several arrays without waiting for them.
///
/// # Errors
/// [`Error::Mlx`](crate::Error::Mlx) if scheduling fails.
#[doc(alias = "mlx_async_eval")]
pub fn async_eval<'a>(arrays: impl IntoIterator<Item = &'a Array>) -> Result<()> {
    let v = vector(arrays)?;
    // SAFETY: `v` is a live vector of live arrays.
    raw::call("mlx_async_eval", || unsafe {
        mlx_sys::mlx_async_eval(v.get())
    })
}
