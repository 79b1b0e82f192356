//! [`compile`]: functions traced once per input signature and replayed
//! from MLX's compile cache; the global compile switches.
//!
//! # Threads
//! [`CompiledFunction`] is neither `Send` nor `Sync` (it holds an
//! `mlx_closure` whose Rust function need not be `Send`), and it must not
//! be: MLX 0.32's compile cache is per thread (`compile_cache_unsafe()` is
//! a `thread_local` in `mlx/compile.cpp`), so the entry a compiled function
//! fills and later erases lives in the cache of the thread that called it.
//! Staying on its thread, a `CompiledFunction` always finds its own entry,
//! and the cache handle it keeps (a weak reference to its thread's cache,
//! from `mlx_detail_compile_cache`) names that same cache when it erases
//! the entry on drop. The compile mode ([`enable_compile`],
//! [`disable_compile`], [`set_compile_mode`]) is one process-wide atomic in
//! MLX, safe to set from any thread.

use super::closure::{run, Closure};
use crate::array::vector;
use crate::error::Result;
use crate::raw::{self, Owned};
use crate::Array;

/// A compiled function: see [`compile`].
///
/// It owns one entry of its thread's compile cache, under an id unique to
/// it (the address of a heap allocation it owns, which no other live
/// function can share: MLX's own ids are addresses of live functions too),
/// and erases that entry when dropped, so a dropped function's traced
/// graphs do not stay in memory.
#[derive(Debug)]
#[doc(alias = "mlx_detail_compile_erase")]
pub struct CompiledFunction {
    fun: Closure,
    shapeless: bool,
    cache: Owned<mlx_sys::mlx_compile_cache>,
    /// Its id is this allocation's address.
    id: Box<u64>,
}

/// Compiles `f`: the first call with a given signature (input shapes and
/// dtypes; dtypes and ranks only with `shapeless`) traces `f` once and
/// stores the simplified, fused graph; later calls with that signature
/// replay the graph without running `f`. As Python's `mx.compile`, so `f`
/// must be a pure function of its array arguments (a Rust side effect runs
/// only while tracing).
///
/// ```
/// use std::{cell::Cell, rc::Rc};
/// use mlx_rs::{ops, transforms::compile, Array};
/// let traces = Rc::new(Cell::new(0));
/// let t = traces.clone();
/// let f = compile(move |a: &[Array]| {
///     t.set(t.get() + 1);
///     Ok(vec![ops::exp(&ops::negative(&a[0])?)?])
/// }, false)?;
/// for _ in 0..5 {
///     let y = f.call(&[Array::from_slice(&[0.0f32, 1.0], &[2])?])?;
///     assert_eq!(y[0].to_vec::<f32>()?[0], 1.0);
/// }
/// assert_eq!(traces.get(), 1); // one trace for one input shape
/// # Ok::<(), mlx_rs::Error>(())
/// ```
///
/// Whether compiling is on is read at each call (as in Python): with
/// [`disable_compile`] in force, a call runs `f` directly.
///
/// # Errors
/// [`Error::Mlx`](crate::Error::Mlx) if mlx-c cannot make the closure or
/// reach the compile cache.
#[doc(alias = "mlx_detail_compile_cache")]
pub fn compile<F>(f: F, shapeless: bool) -> Result<CompiledFunction>
where
    F: FnMut(&[Array]) -> Result<Vec<Array>> + 'static,
{
    let fun = Closure::new(f)?;
    let cache = raw::out("mlx_detail_compile_cache", |res| {
        // SAFETY: `res` is a fresh out-param; it receives a weak reference
        // to this thread's compile cache.
        unsafe { mlx_sys::mlx_detail_compile_cache(res) }
    })?;
    Ok(CompiledFunction {
        fun,
        shapeless,
        cache,
        id: Box::new(0),
    })
}

impl CompiledFunction {
    /// The cache id: the address of `self.id`'s allocation.
    fn id(&self) -> usize {
        std::ptr::from_ref::<u64>(&*self.id) as usize
    }

    /// Calls the compiled function (tracing `f` for a new signature).
    ///
    /// # Errors
    /// `f`'s own `Err`, [`Error::ClosurePanic`](crate::Error::ClosurePanic) naming its panic,
    /// or MLX's error.
    #[doc(alias = "mlx_detail_compile")]
    pub fn call(&self, args: &[Array]) -> Result<Vec<Array>> {
        const OP: &str = "mlx_detail_compile";
        let inputs = vector(args)?;
        let id = self.id();
        run(OP, || {
            let compiled = raw::out(OP, |res| {
                // SAFETY: the closure is live (MLX copies it); no constants
                // (a null pointer with length 0 is an empty range); `res`
                // is a fresh out-param.
                unsafe {
                    mlx_sys::mlx_detail_compile(
                        res,
                        self.fun.get(),
                        id,
                        self.shapeless,
                        std::ptr::null(),
                        0,
                    )
                }
            })?;
            Array::build_vec("mlx_closure_apply", |res| {
                // SAFETY: the compiled closure and the inputs are live;
                // `res` is a fresh out-param.
                unsafe { mlx_sys::mlx_closure_apply(res, compiled.get(), inputs.get()) }
            })
        })
    }
}

impl Drop for CompiledFunction {
    /// Erases the function's cache entry (its traced graphs).
    fn drop(&mut self) {
        let id = self.id();
        // SAFETY: the cache handle is live; erasing an id that has no entry
        // (never called, or the thread's cache already gone) does nothing.
        // A failure cannot be reported from `drop`; `call` clears MLX's
        // message so it cannot reach a later call.
        let _ = raw::call("mlx_detail_compile_erase", || unsafe {
            mlx_sys::mlx_detail_compile_erase(self.cache.get(), id)
        });
    }
}

/// Empties this thread's compile cache: every compiled function traces
/// again on its next call.
///
/// # Errors
/// [`Error::Mlx`](crate::Error::Mlx) if MLX fails.
#[doc(alias = "mlx_detail_compile_clear_cache")]
pub fn clear_compile_cache() -> Result<()> {
    let cache = raw::out("mlx_detail_compile_cache", |res| {
        // SAFETY: `res` is a fresh out-param.
        unsafe { mlx_sys::mlx_detail_compile_cache(res) }
    })?;
    // SAFETY: the cache handle is live.
    raw::call("mlx_detail_compile_clear_cache", || unsafe {
        mlx_sys::mlx_detail_compile_clear_cache(cache.get())
    })
}

/// How [`compile`]d functions run (process-wide).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CompileMode {
    /// Compiled functions run their Rust function directly.
    Disabled,
    /// Trace and fuse, without simplifying the graph.
    NoSimplify,
    /// Trace and simplify, without fusing kernels.
    NoFuse,
    /// Trace, simplify and fuse (MLX's default).
    Enabled,
}

/// Sets the compile mode for the whole process.
///
/// # Errors
/// [`Error::Mlx`](crate::Error::Mlx) if MLX fails.
#[doc(alias = "mlx_set_compile_mode")]
pub fn set_compile_mode(mode: CompileMode) -> Result<()> {
    let m = match mode {
        CompileMode::Disabled => mlx_sys::MLX_COMPILE_MODE_DISABLED,
        CompileMode::NoSimplify => mlx_sys::MLX_COMPILE_MODE_NO_SIMPLIFY,
        CompileMode::NoFuse => mlx_sys::MLX_COMPILE_MODE_NO_FUSE,
        CompileMode::Enabled => mlx_sys::MLX_COMPILE_MODE_ENABLED,
    };
    // SAFETY: a plain store of a valid enum value.
    raw::call("mlx_set_compile_mode", || unsafe {
        mlx_sys::mlx_set_compile_mode(m)
    })
}

/// Turns compiling off for the whole process ([`CompileMode::Disabled`]).
///
/// # Errors
/// [`Error::Mlx`](crate::Error::Mlx) if MLX fails.
#[doc(alias = "mlx_disable_compile")]
pub fn disable_compile() -> Result<()> {
    // SAFETY: no arguments.
    raw::call("mlx_disable_compile", || unsafe {
        mlx_sys::mlx_disable_compile()
    })
}

/// Turns compiling on for the whole process ([`CompileMode::Enabled`]).
///
/// # Errors
/// [`Error::Mlx`](crate::Error::Mlx) if MLX fails.
#[doc(alias = "mlx_enable_compile")]
pub fn enable_compile() -> Result<()> {
    // SAFETY: no arguments.
    raw::call("mlx_enable_compile", || unsafe {
        mlx_sys::mlx_enable_compile()
    })
}
