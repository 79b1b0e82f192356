//! MLX's distributed engine: process groups and collectives
//! (`mx.distributed`).
//!
//! A distributed run is `N` processes of one program, each with a rank.
//! Each calls [`Group::init`] with a [`Backend`]; the ring backend (TCP,
//! in the Linux CPU build) reads the rank from `MLX_RANK` and the ring's
//! addresses from the JSON hostfile named by `MLX_HOSTFILE`. Those are set
//! by MLX's launcher, `mlx.launch --backend ring -n N -- <program>` (which
//! also reaches other machines over ssh), or, for local runs without
//! Python, by [`launch::Launch`]. A process started on its own gets the
//! group of size 1, where every collective is the identity, so the same
//! program runs with one rank or many.
//!
//! The collectives ([`all_sum`], [`all_max`], [`all_min`], [`all_gather`],
//! [`sum_scatter`]) and the point-to-point [`send`] / [`recv`] /
//! [`recv_like`] are lazy MLX ops: they communicate when evaluated, and
//! every rank must evaluate the same ones in the same order.
//!
//! **Failures.** MLX's own checks (a bad rank, a singleton group, an
//! unknown backend) are [`Error::Mlx`](crate::Error::Mlx) with MLX's text.
//! On the ring backend, a rank that dies makes its peers' pending
//! collectives fail with `[ring] connection to a peer was lost`; a rank
//! that never connects makes the rank connecting to it fail after about
//! 31 s (`[ring] Couldn't connect`), while the rank waiting for it blocks
//! in `accept` with no limit of MLX's own, so a launcher bounds the run.
//! MLX does not check that the ranks agree on shapes; see
//! [`Group::with_shape_check`].
//!
//! ```
//! use mlx_rs::distributed::{all_gather, Backend, Group};
//! use mlx_rs::Array;
//! let g = Group::init(Backend::Ring, false)?; // size 1 unless launched
//! let x = Array::from_slice(&[g.rank() as f32], &[1])?;
//! assert_eq!(all_gather(&x, &g)?.shape(), [g.size() as i32]);
//! # Ok::<(), mlx_rs::Error>(())
//! ```

mod group;
pub mod launch;
mod ops;
mod stream;

pub use group::{is_available, Backend, Group};
pub use ops::{
    all_gather, all_gather_on, all_max, all_max_on, all_min, all_min_on, all_sum, all_sum_on, recv,
    recv_like, recv_like_on, recv_on, send, send_on, sum_scatter, sum_scatter_on,
};
