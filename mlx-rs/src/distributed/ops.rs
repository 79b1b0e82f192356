//! The collectives and point-to-point ops of MLX's distributed engine.
//!
//! Each is lazy like every MLX op: the communication happens when the
//! result is evaluated. The plain forms run on the group's communication
//! stream, as in Python (the CPU for the ring, MPI and JACCL backends,
//! the GPU for NCCL; see [`Group::backend`]); the `_on` forms refuse a
//! stream of the other device. Every rank of the group must evaluate the
//! same collectives in the same order.

use super::group::Group;
use super::stream::{check_stream, communication_stream};
use crate::ops::support::{invalid, op};
use crate::{Array, Dtype, Stream};

/// mlx-c's `(res, x, group, s)`, the signature of the collectives.
type CollectiveFn = unsafe extern "C" fn(
    *mut mlx_sys::mlx_array,
    mlx_sys::mlx_array,
    mlx_sys::mlx_distributed_group,
    mlx_sys::mlx_stream,
) -> i32;

/// Runs a collective `f(res, x, group, s)`, after the group's shape check
/// (see [`Group::with_shape_check`]).
fn collective(
    op: &'static str,
    f: CollectiveFn,
    x: &Array,
    group: &Group,
    s: &Stream,
) -> crate::Result<Array> {
    if group.checks_shapes() && group.size() > 1 {
        same_shape_everywhere(op, x, group, s)?;
    }
    raw_collective(op, f, x, group, s)
}

fn raw_collective(
    op: &'static str,
    f: CollectiveFn,
    x: &Array,
    group: &Group,
    s: &Stream,
) -> crate::Result<Array> {
    // SAFETY: `f` has exactly this signature (the type says so); `res` is
    // the fresh out-param `build` owns; the array, group and stream
    // handles are live (borrowed from their owners for the call).
    Array::build(op, |res| unsafe {
        f(res, x.as_raw(), group.handle().get(), s.handle().get())
    })
}

/// Dimensions written out in a shape descriptor; more are folded into one
/// hash slot.
const DESCRIBED_DIMS: usize = 16;

/// `[dtype, ndim, d0, …, d15, hash of the rest]` of `x`.
fn descriptor(x: &Array) -> Vec<i32> {
    let shape = x.shape();
    let mut v = Vec::with_capacity(DESCRIBED_DIMS + 3);
    v.push(x.dtype().as_raw() as i32);
    v.push(shape.len() as i32);
    for i in 0..DESCRIBED_DIMS {
        v.push(shape.get(i).copied().unwrap_or(-1));
    }
    let rest = shape
        .iter()
        .skip(DESCRIBED_DIMS)
        .fold(0x811c_9dc5_u32, |h, &d| {
            (h ^ d as u32).wrapping_mul(0x0100_0193)
        });
    v.push(rest as i32);
    v
}

/// The dtype and shape a descriptor row describes, for a message.
fn describe(row: &[i32]) -> String {
    let dtype = u32::try_from(row[0])
        .ok()
        .and_then(|c| Dtype::from_raw(c as mlx_sys::mlx_dtype))
        .map_or_else(|| format!("dtype #{}", row[0]), |d| d.name().to_owned());
    let ndim = row[1].max(0) as usize;
    let dims: Vec<String> = row[2..2 + ndim.min(DESCRIBED_DIMS)]
        .iter()
        .map(i32::to_string)
        .collect();
    let more = if ndim > DESCRIBED_DIMS { ", …" } else { "" };
    format!("{dtype} [{}{more}]", dims.join(", "))
}

/// Gathers every rank's dtype and shape and fails when they differ.
fn same_shape_everywhere(
    op: &'static str,
    x: &Array,
    group: &Group,
    s: &Stream,
) -> crate::Result<()> {
    let mine = descriptor(x);
    let n = mine.len();
    let local = Array::from_slice(&mine, &[1, n as i32])?;
    let all = raw_collective(
        "mlx_distributed_all_gather",
        mlx_sys::mlx_distributed_all_gather,
        &local,
        group,
        s,
    )?
    .to_vec::<i32>()?;
    let rows: Vec<&[i32]> = all.chunks(n).collect();
    if rows.iter().all(|r| *r == mine.as_slice()) {
        return Ok(());
    }
    let list: Vec<String> = rows
        .iter()
        .enumerate()
        .map(|(rank, r)| format!("rank {rank}: {}", describe(r)))
        .collect();
    Err(invalid(
        op,
        format!(
            "the ranks passed arrays of different dtypes or shapes ({})",
            list.join("; ")
        ),
    ))
}

/// A rank as MLX takes it.
fn rank_arg(op: &'static str, what: &str, r: usize) -> crate::Result<i32> {
    i32::try_from(r).map_err(|_| invalid(op, format!("{what} rank {r} does not fit an i32")))
}

op! {
    /// The element-wise sum of `x` over every rank of `group`; every rank
    /// gets the same result (an all-reduce). Integer sums wrap.
    ///
    /// ```
    /// use mlx_rs::distributed::{all_sum, Backend, Group};
    /// use mlx_rs::Array;
    /// let g = Group::init(Backend::Any, false)?; // one process: the identity
    /// let x = Array::from_slice(&[1.0f32, 2.0], &[2])?;
    /// assert_eq!(all_sum(&x, &g)?.to_vec::<f32>()?, [1.0, 2.0]);
    /// # Ok::<(), mlx_rs::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) with MLX's message, at evaluation
    /// for what the backend finds while communicating (`[ring] connection
    /// to a peer was lost` when a rank died);
    /// [`Error::InvalidArgument`](crate::Error::InvalidArgument) when the
    /// group checks shapes and the ranks disagree, and (`_on`) for a stream
    /// of a device the backend does not communicate on (a GPU stream for
    /// the ring backend).
    ["mlx_distributed_all_sum"]
    pub fn all_sum(x: &Array, group: &Group) -> Array;
    on all_sum_on, s via communication_stream(group) => {
        check_stream("mlx_distributed_all_sum", group, s)?;
        collective("mlx_distributed_all_sum", mlx_sys::mlx_distributed_all_sum, x, group, s)
    }

    /// The element-wise maximum of `x` over every rank of `group`.
    ///
    /// # Errors
    /// As [`all_sum`](fn@all_sum).
    ["mlx_distributed_all_max"]
    pub fn all_max(x: &Array, group: &Group) -> Array;
    on all_max_on, s via communication_stream(group) => {
        check_stream("mlx_distributed_all_max", group, s)?;
        collective("mlx_distributed_all_max", mlx_sys::mlx_distributed_all_max, x, group, s)
    }

    /// The element-wise minimum of `x` over every rank of `group`.
    ///
    /// # Errors
    /// As [`all_sum`](fn@all_sum).
    ["mlx_distributed_all_min"]
    pub fn all_min(x: &Array, group: &Group) -> Array;
    on all_min_on, s via communication_stream(group) => {
        check_stream("mlx_distributed_all_min", group, s)?;
        collective("mlx_distributed_all_min", mlx_sys::mlx_distributed_all_min, x, group, s)
    }

    /// Every rank's `x` concatenated along axis 0, in rank order: shape
    /// `[size * d0, d1, …]` (a scalar counts as `[1]`).
    ///
    /// # Errors
    /// As [`all_sum`](fn@all_sum).
    ["mlx_distributed_all_gather"]
    pub fn all_gather(x: &Array, group: &Group) -> Array;
    on all_gather_on, s via communication_stream(group) => {
        check_stream("mlx_distributed_all_gather", group, s)?;
        collective("mlx_distributed_all_gather", mlx_sys::mlx_distributed_all_gather, x, group, s)
    }

    /// The sum of `x` over the ranks, scattered: rank `r` gets the `r`-th
    /// of `size` equal slices of axis 0 of the sum.
    ///
    /// # Errors
    /// As [`all_sum`](fn@all_sum); MLX's message for an axis 0 that does
    /// not divide by the group size, and `[ring] sum_scatter not
    /// supported.` (at evaluation) on the ring backend, which has no
    /// reduce-scatter.
    ["mlx_distributed_sum_scatter"]
    pub fn sum_scatter(x: &Array, group: &Group) -> Array;
    on sum_scatter_on, s via communication_stream(group) => {
        check_stream("mlx_distributed_sum_scatter", group, s)?;
        collective("mlx_distributed_sum_scatter", mlx_sys::mlx_distributed_sum_scatter, x, group, s)
    }

    /// Sends `x` to rank `dst`. The result (an array that depends on `x`)
    /// must be evaluated for the send to happen; `dst` must post the
    /// matching [`recv`](fn@recv).
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) with MLX's message for a `dst`
    /// outside the group or equal to this rank, or a group of size 1;
    /// [`Error::InvalidArgument`](crate::Error::InvalidArgument) (`_on`)
    /// for a stream of a device the backend does not communicate on; at
    /// evaluation on the ring backend, a `dst` that is not a neighbour
    /// (`[ring] Send only supported to direct neighbors …`).
    ["mlx_distributed_send"]
    pub fn send(x: &Array, dst: usize, group: &Group) -> Array;
    on send_on, s via communication_stream(group) => {
        check_stream("mlx_distributed_send", group, s)?;
        let dst = rank_arg("mlx_distributed_send", "destination", dst)?;
        // SAFETY: `res` is the fresh out-param `build` owns; the array,
        // group and stream handles are live.
        Array::build("mlx_distributed_send", |res| unsafe {
            mlx_sys::mlx_distributed_send(res, x.as_raw(), dst, group.handle().get(), s.handle().get())
        })
    }

    /// Receives an array of `shape` and `dtype` from rank `src` (which
    /// [`send`](fn@send)s it).
    ///
    /// # Errors
    /// As [`send`](fn@send), for `src`; MLX's message for a negative
    /// dimension.
    ["mlx_distributed_recv"]
    pub fn recv(shape: &[i32], dtype: Dtype, src: usize, group: &Group) -> Array;
    on recv_on, s via communication_stream(group) => {
        check_stream("mlx_distributed_recv", group, s)?;
        let src = rank_arg("mlx_distributed_recv", "source", src)?;
        // SAFETY: `res` is the fresh out-param `build` owns; `shape` is
        // valid for `shape.len()` reads; the group and stream handles are
        // live.
        Array::build("mlx_distributed_recv", |res| unsafe {
            mlx_sys::mlx_distributed_recv(
                res,
                shape.as_ptr(),
                shape.len(),
                dtype.as_raw(),
                src,
                group.handle().get(),
                s.handle().get(),
            )
        })
    }

    /// Receives an array of the shape and dtype of `like` from rank `src`.
    ///
    /// # Errors
    /// As [`recv`](fn@recv).
    ["mlx_distributed_recv_like"]
    pub fn recv_like(like: &Array, src: usize, group: &Group) -> Array;
    on recv_like_on, s via communication_stream(group) => {
        check_stream("mlx_distributed_recv_like", group, s)?;
        let src = rank_arg("mlx_distributed_recv_like", "source", src)?;
        // SAFETY: `res` is the fresh out-param `build` owns; the array,
        // group and stream handles are live.
        Array::build("mlx_distributed_recv_like", |res| unsafe {
            mlx_sys::mlx_distributed_recv_like(res, like.as_raw(), src, group.handle().get(), s.handle().get())
        })
    }
}
