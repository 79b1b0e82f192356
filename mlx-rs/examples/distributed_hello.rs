//! The smallest distributed program: every rank contributes its rank to an
//! `all_sum` and an `all_gather`.
//!
//! Run it as 2 ranks with the Rust launcher (no Python):
//!
//! ```text
//! cargo build -p mlx-rs --example distributed_hello --example distributed_launch
//! target/debug/examples/distributed_launch -n 2 -- target/debug/examples/distributed_hello
//! ```
//!
//! or, unchanged, with MLX's own launcher (which also reaches other machines
//! with `--hosts` / `--hostfile`):
//!
//! ```text
//! mlx.launch --backend ring -n 2 -- target/debug/examples/distributed_hello
//! ```
//!
//! Started on its own it is a group of one rank.

use mlx_rs::distributed::{all_gather, all_sum, Backend, Group};
use mlx_rs::Array;

fn main() -> mlx_rs::Result<()> {
    let g = Group::init(Backend::Ring, false)?;
    let (rank, size) = (g.rank(), g.size());
    let x = Array::from_slice(&[rank as f32, 1.0], &[2])?;
    let sum = all_sum(&x, &g)?.to_vec::<f32>()?;
    let gathered = all_gather(&Array::from_slice(&[rank as i32], &[1])?, &g)?.to_vec::<i32>()?;
    println!("rank {rank} of {size}: all_sum = {sum:?}, all_gather = {gathered:?}");
    Ok(())
}
