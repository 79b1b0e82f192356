//! The FFI ownership layer: the one place where mlx-c handles become owned
//! Rust values, and the one entry into mlx-c.
//!
//! - [`Handle`] describes an mlx-c handle kind (`mlx_array`,
//!   `mlx_vector_array`, `mlx_closure`, …): its constructor, its destructor
//!   and whether a handle is empty. Each kind is declared once, in
//!   `handle.rs`, with its two C functions.
//! - [`Owned`] is the one owning guard: it frees its handle exactly once,
//!   on drop. Every safe type that holds an mlx-c handle holds an `Owned`
//!   (`Array`, `Stream`, kernels, readers, closures), so no other type
//!   writes a `Drop` for a handle.
//! - [`call`] and [`out`] run an mlx-c function: `call` checks a status,
//!   `out` hands the function a fresh out-parameter and returns it owned
//!   once it is known to hold something. Both pass through [`enter`], the
//!   one place that installs the crate's error handler, so the handler is
//!   in place before any mlx-c function of this crate runs.
//! - `strings.rs` holds the C-string conversions (in both directions) and
//!   the `mlx_vector_string` / `mlx_string` readers.
//! - `trampolines.rs` runs mlx-c ops of the common signatures (unary,
//!   binary, reductions, …) on borrowed owned handles, so the safety
//!   argument of each signature is made once.

mod call;
mod handle;
mod strings;
mod trampolines;

pub(crate) use call::{call, enter, fresh, out, out2, returned};
pub(crate) use handle::Owned;
pub(crate) use strings::{
    c_string_arg, cstring, path_cstring, string_from_c, string_out, strings_in, strings_out,
};
pub(crate) use trampolines::{
    array2, int, int2, ints, reduce, unary, AllFn, AxesFn, AxisFn, BinaryFn, Int2Fn, IntFn, IntsFn,
    Reduce, UnaryFn,
};
