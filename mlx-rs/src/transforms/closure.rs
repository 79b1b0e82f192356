//! [`Closure`]: a Rust function handed to mlx-c as an `mlx_closure`, and
//! the error slot that carries a closure's failure back to the caller of
//! the transform that ran it.
//!
//! mlx-c calls a closure through a C function pointer (the trampoline)
//! with the boxed Rust function as its payload; the payload's destructor
//! is a typed function too, so the box is freed exactly once, when MLX
//! drops the last copy of the closure. The trampoline runs the Rust
//! function under [`catch_unwind`]: a panic or an `Err` never crosses C.
//! It stores the failure in this thread's slot and returns a non-zero
//! status, which makes MLX throw (`"mlx_closure returned a non-zero
//! value"`); that exception unwinds through MLX's C++ (never through Rust
//! frames) to the mlx-c entry point of the transform, which reports a
//! failure. [`run`] wraps every such entry point: it replaces MLX's generic
//! message with the stored failure.
//!
//! MLX calls closures synchronously, on the thread that called the
//! transform (while tracing for `grad`, `vjp`, `jvp`, `vmap` and
//! `compile`), so a thread-local slot reaches the right caller.

use std::any::Any;
use std::cell::RefCell;
use std::ffi::c_void;
use std::mem::ManuallyDrop;
use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::array::vector;
use crate::error::{Error, Result};
use crate::raw::{self, Owned};
use crate::Array;

/// Why a Rust function called by MLX failed.
enum Failure {
    /// It returned this error.
    Err(Error),
    /// It panicked with this message.
    Panic(String),
}

thread_local! {
    /// The first failure of a Rust function called by MLX on this thread
    /// that no [`run`] has taken yet.
    static FAILURE: RefCell<Option<Failure>> = const { RefCell::new(None) };
}

/// Stores `failure` unless an earlier one is waiting (the first failure
/// is the cause: MLX stops at it).
fn store(failure: Failure) {
    let _ = FAILURE.try_with(|slot| {
        if let Ok(mut slot) = slot.try_borrow_mut() {
            slot.get_or_insert(failure);
        }
    });
}

/// Takes and clears this thread's stored failure.
fn take() -> Option<Failure> {
    FAILURE
        .try_with(|slot| slot.try_borrow_mut().ok().and_then(|mut s| s.take()))
        .ok()
        .flatten()
}

/// The text of a panic's payload.
fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic without a message".to_owned()
    }
}

/// Runs `f`, a call into an mlx-c transform that may run Rust closures,
/// and makes a closure's failure the result: its `Err` unchanged, or its
/// panic as [`Error::ClosurePanic`] naming `op` and the panic message.
///
/// The slot is cleared before and taken after, whatever the outcome, so a
/// failure is reported once and only to the call that caused it (a nested
/// transform inside a closure takes its own closures' failures first).
pub(crate) fn run<T>(op: &'static str, f: impl FnOnce() -> Result<T>) -> Result<T> {
    drop(take());
    let result = f();
    let failure = take();
    match (result, failure) {
        (Ok(v), _) => Ok(v),
        (Err(_), Some(Failure::Err(e))) => Err(e),
        (Err(_), Some(Failure::Panic(message))) => Err(Error::ClosurePanic { op, message }),
        (Err(e), None) => Err(e),
    }
}

/// Runs the body of a trampoline: under `catch_unwind`, storing a panic or
/// an `Err` for [`run`]; returns the status for mlx-c (0 on success).
pub(crate) fn guarded(body: impl FnOnce() -> Result<()>) -> i32 {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => 0,
        Ok(Err(e)) => {
            store(Failure::Err(e));
            1
        }
        Err(payload) => {
            store(Failure::Panic(panic_message(&*payload)));
            1
        }
    }
}

/// The arrays of a vector that mlx-c lends to a trampoline (new
/// references; the vector stays mlx-c's).
///
/// # Safety
/// `v` is a live vector that the caller does not free during this call.
pub(crate) unsafe fn borrowed_arrays(
    op: &'static str,
    v: mlx_sys::mlx_vector_array,
) -> Result<Vec<Array>> {
    // SAFETY: `v` is live (the caller's duty); `ManuallyDrop` keeps the
    // guard from freeing a vector that mlx-c owns.
    let v = ManuallyDrop::new(unsafe { Owned::from_raw(v) });
    Array::vec_from(op, &v)
}

/// Writes `arrays` into the result vector mlx-c gave a trampoline.
///
/// # Safety
/// `res` points to a live vector that mlx-c owns.
pub(crate) unsafe fn write_arrays(
    op: &'static str,
    res: *mut mlx_sys::mlx_vector_array,
    arrays: &[Array],
) -> Result<()> {
    let v = vector(arrays)?;
    // SAFETY: `res` points to a live vector (the caller's duty); `v` is a
    // live vector whose arrays mlx-c copies (sharing them) into `*res`.
    raw::call(op, || unsafe {
        mlx_sys::mlx_vector_array_set(res, v.get())
    })
}

/// The payload of a closure: the Rust function, behind a `RefCell` so a
/// reentrant call (MLX calling the same closure while it runs) is an
/// `Err`, not two `&mut` to one function.
pub(crate) struct Payload<F>(RefCell<F>);

impl<F> Payload<F> {
    /// Boxes `f` as a payload pointer, for a `*_new_func_payload`
    /// constructor that frees it with [`drop_payload::<F>`].
    pub(crate) fn into_raw(f: F) -> *mut c_void {
        Box::into_raw(Box::new(Payload(RefCell::new(f)))).cast()
    }

    /// Runs `g` on the function behind `payload`.
    ///
    /// # Safety
    /// `payload` came from [`Payload::<F>::into_raw`] and is not yet freed.
    pub(crate) unsafe fn with<R>(
        payload: *mut c_void,
        g: impl FnOnce(&mut F) -> Result<R>,
    ) -> Result<R> {
        // SAFETY: the caller's duty: a live `Payload<F>`, only ever shared
        // (`&`), its function reached through the `RefCell`.
        let cell = unsafe { &*payload.cast::<Payload<F>>() };
        let mut f = cell
            .0
            .try_borrow_mut()
            .map_err(|_| Error::InvalidArgument {
                op: "mlx_closure_apply",
                reason: "MLX called a Rust closure again while it was running".to_owned(),
            })?;
        g(&mut f)
    }
}

/// The destructor of a payload: frees the box once (mlx-c calls it when
/// the last copy of the closure goes). A panic in the function's own drop
/// is caught: it cannot be reported and must not unwind into C.
pub(crate) unsafe extern "C" fn drop_payload<F>(payload: *mut c_void) {
    let _ = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: mlx-c calls the destructor once, with the pointer that
        // `Payload::<F>::into_raw` made.
        drop(unsafe { Box::from_raw(payload.cast::<Payload<F>>()) });
    }));
}

/// A function MLX can transform: an owned `mlx_closure`.
///
/// Made from a Rust function with [`Closure::new`], or returned by a
/// transform ([`checkpoint`](super::checkpoint),
/// [`CustomFunction`](super::CustomFunction)). The Rust function lives as
/// long as MLX holds a copy of the closure (the transforms made from it
/// hold one) and is dropped exactly once after that.
///
/// ```
/// use mlx_rs::{ops, transforms::Closure, Array};
/// let square = Closure::new(|x: &[Array]| Ok(vec![ops::square(&x[0])?]))?;
/// let y = square.call(&[Array::from_slice(&[3.0f32], &[1])?])?;
/// assert_eq!(y[0].to_vec::<f32>()?, [9.0]);
/// # Ok::<(), mlx_rs::Error>(())
/// ```
///
/// Not `Send`: it holds arrays' graphs and a Rust function that is not
/// required to be `Send`.
#[derive(Debug)]
pub struct Closure(pub(crate) Owned<mlx_sys::mlx_closure>);

/// The trampoline of [`Closure::new`]: runs the payload's function on the
/// inputs and writes its outputs.
unsafe extern "C" fn call_closure<F>(
    res: *mut mlx_sys::mlx_vector_array,
    input: mlx_sys::mlx_vector_array,
    payload: *mut c_void,
) -> i32
where
    F: FnMut(&[Array]) -> Result<Vec<Array>>,
{
    guarded(|| {
        // SAFETY: mlx-c lends `input` for this call.
        let inputs = unsafe { borrowed_arrays("mlx_closure_apply", input) }?;
        // SAFETY: mlx-c passes the payload that `Closure::new` made for `F`.
        let outputs = unsafe { Payload::<F>::with(payload, |f| f(&inputs)) }?;
        // SAFETY: `res` is the result vector mlx-c owns.
        unsafe { write_arrays("mlx_closure_apply", res, &outputs) }
    })
}

impl Closure {
    /// Wraps a Rust function of arrays to arrays.
    ///
    /// The function may fail: an `Err` it returns (or a panic) ends the
    /// transform that called it, whose caller gets that `Err` (a panic as
    /// [`Error::ClosurePanic`] with the panic message).
    ///
    /// # Errors
    /// [`Error::Mlx`] if mlx-c cannot make the closure.
    #[doc(alias = "mlx_closure_new_func_payload")]
    pub fn new<F>(f: F) -> Result<Closure>
    where
        F: FnMut(&[Array]) -> Result<Vec<Array>> + 'static,
    {
        let payload = Payload::into_raw(f);
        // SAFETY: `call_closure::<F>` and `drop_payload::<F>` take the
        // payload made for `F`; mlx-c owns the payload from here (it frees
        // it through the destructor even if making the closure fails).
        raw::returned("mlx_closure_new_func_payload", || unsafe {
            mlx_sys::mlx_closure_new_func_payload(
                Some(call_closure::<F>),
                payload,
                Some(drop_payload::<F>),
            )
        })
        .map(Closure)
    }

    /// Calls the closure (running the function, or the transformed
    /// function it stands for).
    ///
    /// # Errors
    /// The function's own error, [`Error::ClosurePanic`] naming its panic, or MLX's
    /// error.
    #[doc(alias = "mlx_closure_apply")]
    pub fn call(&self, args: &[Array]) -> Result<Vec<Array>> {
        let inputs = vector(args)?;
        run("mlx_closure_apply", || {
            Array::build_vec("mlx_closure_apply", |res| {
                // SAFETY: the closure and the input vector are live; `res`
                // is a fresh out-param.
                unsafe { mlx_sys::mlx_closure_apply(res, self.0.get(), inputs.get()) }
            })
        })
    }

    /// The raw handle, still owned by `self`.
    pub(crate) fn get(&self) -> mlx_sys::mlx_closure {
        self.0.get()
    }
}
