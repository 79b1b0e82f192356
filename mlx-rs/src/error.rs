//! The crate's one error type, MLX's error handler and the status checker.
//!
//! mlx-c reports a failure in two parts: the function returns a non-zero
//! status (or an empty handle), and, before returning, it calls a
//! process-global error handler with the message, synchronously, on the
//! calling thread. Its default handler prints the message and calls
//! `exit(-1)`. This module holds a handler that stores the message in a
//! thread-local slot ([`install_handler`], called once per process by the
//! raw layer's one entry into mlx-c, `raw::enter`), and [`check`] turns a
//! status into a [`Result`], taking *and clearing* that slot so that a stale
//! message can never be attached to a later failure.
//!
//! This is the ground floor: it names only the plain value types that its
//! variants carry ([`Dtype`], [`Device`](crate::Device),
//! [`WeightsReport`](crate::io::WeightsReport)), none of which depends on
//! anything above it.

use std::cell::{Cell, RefCell};
use std::ffi::{c_char, c_void, CStr};
use std::sync::Arc;

use crate::device::Device;
use crate::dtype::Dtype;
use crate::io::report::WeightsReport;

/// The result type of every fallible function in this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in `mlx-rs`.
///
/// Failures that MLX itself reports are [`Error::Mlx`]; what the Rust side
/// checks before calling MLX (lengths, shapes, dtypes, indices) has its own
/// structured variant.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// MLX (through mlx-c) reported a failure.
    #[error("{op}: {message}")]
    Mlx {
        /// The mlx-c function that failed, e.g. `"mlx_add"`.
        op: &'static str,
        /// MLX's message without the location suffix; when MLX failed
        /// without a message, a text saying so.
        message: String,
        /// Where in mlx-c the error was raised (`file:line`), when the
        /// message carried that suffix.
        location: Option<String>,
    },

    /// The number of elements given does not match the requested shape.
    #[error("{len} elements cannot fill shape {shape:?} ({expected} elements)")]
    LengthMismatch {
        /// Number of elements provided.
        len: usize,
        /// The requested shape.
        shape: Vec<i32>,
        /// Number of elements that shape holds.
        expected: usize,
    },

    /// A shape is invalid: a negative dimension, or a size that does not
    /// fit MLX's 32-bit dimensions.
    #[error("invalid shape {shape:?}: {reason}")]
    InvalidShape {
        /// The offending shape (as given, widened to `i64`).
        shape: Vec<i64>,
        /// What is wrong with it.
        reason: &'static str,
    },

    /// The array's dtype is not the one the Rust type requires.
    #[error("dtype mismatch: expected {expected}, found {found}")]
    DtypeMismatch {
        /// The dtype of the requested Rust element type.
        expected: Dtype,
        /// The dtype of the array.
        found: Dtype,
    },

    /// A single element was requested from an array that does not have
    /// exactly one.
    #[error("item() needs an array of size 1, this one has {size} elements")]
    NotScalar {
        /// The number of elements of the array.
        size: usize,
    },

    /// The device does not exist in this build or on this machine (e.g. the
    /// GPU of a CPU-only build); checked before MLX is asked to use it.
    #[error("{0} is not available")]
    DeviceUnavailable(Device),

    /// A borrowed view of the data was requested before the array was
    /// evaluated (call [`Array::eval`](crate::Array::eval) first).
    #[error("the array is not evaluated")]
    NotEvaluated,

    /// A borrowed view of the data was requested but the array is a strided
    /// view (transposed, sliced with a step, broadcast) rather than
    /// row-contiguous; use [`Array::to_vec`](crate::Array::to_vec).
    #[error("the array is not row-contiguous")]
    NotContiguous,

    /// A Rust scalar used as a weakly typed operand does not fit the dtype
    /// of the array it is combined with.
    #[error("converting {value} to {dtype} would overflow")]
    ScalarOverflow {
        /// The scalar, printed.
        value: String,
        /// The dtype it had to take.
        dtype: Dtype,
    },

    /// An evaluated buffer holds values that are invalid for the requested
    /// Rust type (bytes other than 0 and 1 borrowed as `bool`).
    #[error("invalid data: {reason}")]
    InvalidData {
        /// What is wrong with it.
        reason: &'static str,
    },

    /// An index expression or index array is invalid for the array it is
    /// applied to.
    #[error("{op}: invalid index: {reason}")]
    InvalidIndex {
        /// The op that refused it: the mlx-c function that was not called
        /// (e.g. `"mlx_take"`), `"index"` for an index expression, or the
        /// layer that checked it (`"Embedding"`).
        op: &'static str,
        /// What is wrong with it.
        reason: String,
    },

    /// An argument of an op that this crate rejects before calling MLX,
    /// because MLX would not check it and would read or write out of
    /// bounds (an `as_strided` view past the data), or because it cannot
    /// cross to C (a string with a NUL byte). See [`ops`](crate::ops).
    #[error("{op}: {reason}")]
    InvalidArgument {
        /// The mlx-c function that was not called, e.g. `"mlx_as_strided"`.
        op: &'static str,
        /// What is wrong with the argument.
        reason: String,
    },

    /// A Rust function that an MLX transform ran (a
    /// [`Closure`](crate::transforms::Closure), a custom rule, a compiled
    /// function) panicked. The panic was caught where mlx-c called the
    /// function and did not cross C; MLX stopped the transform. See
    /// [`transforms`](crate::transforms).
    #[error("{op}: the Rust closure panicked: {message}")]
    ClosurePanic {
        /// The mlx-c transform that ran the function, e.g.
        /// `"mlx_closure_apply"` or `"mlx_vjp"`.
        op: &'static str,
        /// The panic's message (its `&str` or `String` payload).
        message: String,
    },

    /// Quantization parameters MLX cannot take, found before calling MLX:
    /// a bit width or group size outside the mode's set, an unknown mode
    /// name, or a combination an MLX function has no argument for (nvfp4
    /// global scale in `quantized_matmul`, biases in `qqmm`). See
    /// [`crate::quantization`].
    #[error("invalid quantization parameters: {reason}")]
    InvalidQuantization {
        /// What is wrong with them.
        reason: String,
    },

    /// The operating system failed to open, read or write a file (see
    /// [`io`](crate::io)).
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The kind of the `std::io::Error`.
        kind: std::io::ErrorKind,
        /// The `std::io::Error` itself.
        #[source]
        source: IoSource,
    },

    /// A weights file (safetensors, GGUF, `.npy`) is malformed or uses
    /// something MLX cannot load; found by [`io`](crate::io)'s own checks
    /// before MLX reads the file.
    #[error("invalid {format} file {path}: {reason}")]
    InvalidFile {
        /// `"safetensors"`, `"gguf"` or `"npy"`.
        format: &'static str,
        /// The file, or a description of the in-memory source.
        path: String,
        /// What is wrong with it.
        reason: String,
    },

    /// Loaded weights do not match the expected names, shapes and dtypes;
    /// lists every problem (see
    /// [`io::load_weights_into`](crate::io::load_weights_into)).
    #[error("{0}")]
    WeightsMismatch(Box<WeightsReport>),

    /// A local multi-process run of
    /// [`distributed::launch`](crate::distributed::launch) could not start
    /// or did not succeed (a rank failed, or the time limit killed it).
    #[error("launch: {reason}")]
    Launch {
        /// What went wrong, with the failing ranks' standard error.
        reason: String,
    },

    /// A dtype has no counterpart on the other side of a conversion (a
    /// `safetensors` FP8 dtype, an MLX dtype a file format cannot hold).
    #[error("unsupported dtype {dtype} for {context}")]
    UnsupportedDtype {
        /// The dtype, printed.
        dtype: String,
        /// What could not take it.
        context: &'static str,
    },
}

/// The `std::io::Error` of [`Error::Io`], shared so that [`Error`] stays
/// `Clone`; two compare equal when their kinds and messages do.
#[derive(Debug, Clone)]
pub struct IoSource(Arc<std::io::Error>);

impl IoSource {
    /// The `std::io::Error`.
    pub fn get(&self) -> &std::io::Error {
        &self.0
    }
}

impl From<std::io::Error> for IoSource {
    fn from(e: std::io::Error) -> Self {
        IoSource(Arc::new(e))
    }
}

impl std::fmt::Display for IoSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for IoSource {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}

impl PartialEq for IoSource {
    fn eq(&self, other: &Self) -> bool {
        self.0.kind() == other.0.kind() && self.0.to_string() == other.0.to_string()
    }
}

impl Eq for IoSource {}

impl Error {
    /// [`Error::Io`] for `path`.
    pub(crate) fn io(path: impl std::fmt::Display, source: std::io::Error) -> Error {
        Error::Io {
            path: path.to_string(),
            kind: source.kind(),
            source: source.into(),
        }
    }
}

thread_local! {
    /// The message of the last mlx-c failure on this thread, if not taken.
    static LAST_ERROR: RefCell<Option<String>> = const { RefCell::new(None) };
    /// Whether `LAST_ERROR` may hold a message. [`check`] runs after every
    /// mlx-c call; this flag (no destructor, so a plain thread-local load)
    /// lets a successful call skip the slot itself.
    static PENDING: Cell<bool> = const { Cell::new(false) };
}

/// Stores `text` as this thread's pending message (replacing any).
fn set_message(text: String) {
    // `try_with` fails only while the thread's locals are being destroyed;
    // then there is nobody left to read the message and dropping it is fine.
    let _ = LAST_ERROR.try_with(|slot| {
        if let Ok(mut slot) = slot.try_borrow_mut() {
            *slot = Some(text);
            let _ = PENDING.try_with(|p| p.set(true));
        }
    });
}

/// mlx-c's error handler. Runs on the thread whose mlx-c call failed,
/// inside that call; it must not unwind, so it only stores the message.
unsafe extern "C" fn record_error(msg: *const c_char, _data: *mut c_void) {
    let text = if msg.is_null() {
        String::new()
    } else {
        // SAFETY: mlx-c passes a NUL-terminated message (a std::vector<char>
        // buffer it formatted) that stays alive for the duration of the call.
        unsafe { CStr::from_ptr(msg) }
            .to_string_lossy()
            .into_owned()
    };
    set_message(text);
}

/// Installs this crate's error handler in mlx-c.
///
/// Called exactly once per process, by `raw::enter` (under a `Once`), the
/// one entry into mlx-c that every call of this crate passes through, so
/// the handler is in place before MLX can report anything.
pub(crate) fn install_handler() {
    // SAFETY: `record_error` is a plain function that only writes a
    // thread-local and never unwinds; no data pointer or destructor is
    // handed over, so mlx-c keeps nothing it could free.
    unsafe { mlx_sys::mlx_set_error_handler(Some(record_error), std::ptr::null_mut(), None) };
}

/// Whether this thread has a message that nobody took yet.
#[inline]
fn pending() -> bool {
    PENDING.try_with(Cell::get).unwrap_or(false)
}

/// Takes and clears this thread's pending MLX message.
#[inline]
pub(crate) fn take_message() -> Option<String> {
    if pending() {
        take_pending()
    } else {
        None
    }
}

/// [`take_message`] once [`PENDING`] says there is one.
#[cold]
fn take_pending() -> Option<String> {
    let _ = PENDING.try_with(|p| p.set(false));
    LAST_ERROR
        .try_with(|slot| slot.borrow_mut().take())
        .ok()
        .flatten()
}

/// Builds [`Error::Mlx`] for `op` from the pending message (taking it).
pub(crate) fn mlx_error(op: &'static str) -> Error {
    match take_message() {
        Some(text) => {
            let (message, location) = split_location(&text);
            Error::Mlx {
                op,
                message,
                location,
            }
        }
        None => Error::Mlx {
            op,
            message: "MLX reported a failure without a message".to_owned(),
            location: None,
        },
    }
}

/// Splits mlx-c's `"<msg> at <file>:<line>"` into message and location.
fn split_location(text: &str) -> (String, Option<String>) {
    if let Some(pos) = text.rfind(" at ") {
        let loc = &text[pos + 4..];
        let is_loc = loc
            .rsplit_once(':')
            .is_some_and(|(file, line)| !file.is_empty() && line.parse::<u32>().is_ok());
        if is_loc {
            return (text[..pos].to_owned(), Some(loc.to_owned()));
        }
    }
    (text.to_owned(), None)
}

/// The one status checker: every mlx-c status goes through here.
///
/// Takes and clears the thread's message slot whatever the status, so a
/// message can never outlive the call that produced it. A non-zero status
/// without a message is still an error.
///
/// # Errors
/// [`Error::Mlx`] when `status != 0`.
#[inline]
pub(crate) fn check(op: &'static str, status: i32) -> Result<()> {
    if status == 0 {
        // A successful call may still have reported (and recovered from)
        // something; drop it so it cannot be blamed on a later call.
        let _ = take_message();
        Ok(())
    } else {
        Err(mlx_error(op))
    }
}

/// Checks a call that signals failure only through the handler (mlx-c
/// functions that return a handle or a value instead of a status): a
/// pending message, or `failed` (e.g. an empty handle), is a failure. Goes
/// through [`check`], the one place that takes the message.
///
/// # Errors
/// [`Error::Mlx`] when a message is pending or `failed` is true.
pub(crate) fn check_handle(op: &'static str, failed: bool) -> Result<()> {
    check(op, i32::from(failed || pending()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync_static<T: Send + Sync + 'static>() {}

    #[test]
    fn error_is_send_sync_static() {
        assert_send_sync_static::<Error>();
    }

    #[test]
    fn status_without_message_is_an_error() {
        crate::raw::enter(|| ());
        let _ = take_message();
        let err = check("mlx_test_op", 1).unwrap_err();
        match err {
            Error::Mlx {
                op,
                message,
                location,
            } => {
                assert_eq!(op, "mlx_test_op");
                assert!(message.contains("without a message"), "{message}");
                assert_eq!(location, None);
            }
            other => panic!("unexpected {other:?}"),
        }
        let err = check_handle("mlx_test_handle", true).unwrap_err();
        assert!(matches!(
            err,
            Error::Mlx {
                op: "mlx_test_handle",
                ..
            }
        ));
    }

    #[test]
    fn check_clears_the_slot() {
        set_message("stale at x.cpp:1".into());
        check("mlx_ok", 0).unwrap();
        assert_eq!(take_message(), None);
        set_message("boom at a/b.cpp:12".into());
        let err = check("mlx_bad", 1).unwrap_err();
        assert_eq!(
            err,
            Error::Mlx {
                op: "mlx_bad",
                message: "boom".into(),
                location: Some("a/b.cpp:12".into())
            }
        );
        assert_eq!(take_message(), None);
    }

    #[test]
    fn location_split_keeps_messages_without_suffix() {
        assert_eq!(split_location("plain"), ("plain".into(), None));
        assert_eq!(
            split_location("look at this"),
            ("look at this".into(), None)
        );
        assert_eq!(
            split_location("[add] bad at /x/ops.cpp:77"),
            ("[add] bad".into(), Some("/x/ops.cpp:77".into()))
        );
    }

    #[test]
    fn check_handle_reports_pending_message() {
        set_message("oops at f.cpp:3".into());
        let err = check_handle("mlx_h", false).unwrap_err();
        assert!(matches!(err, Error::Mlx { ref message, .. } if message == "oops"));
        check_handle("mlx_h", false).unwrap();
    }
}
