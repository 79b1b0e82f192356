//! Gradient clipping by global norm (Python's `optimizers.clip_grad_norm`).

use super::{invalid, Params};
use crate::ops::{add, divide, minimum, multiply, sqrt, square, sum, Axes};
use crate::{Array, Result};

/// Scales `grads` so that their global L2 norm is at most `max_norm`;
/// returns the scaled gradients and the norm before scaling. The squares
/// are summed in name order (Python sums in its tree's order: name the
/// parameters so that both agree when comparing bits).
///
/// # Errors
/// [`Error::InvalidArgument`](crate::Error::InvalidArgument) for a negative
/// `max_norm`; [`Error::Mlx`](crate::Error::Mlx) if MLX fails.
pub fn clip_grad_norm(grads: &Params, max_norm: f64) -> Result<(Params, Array)> {
    if max_norm < 0.0 {
        return Err(invalid(
            "clip_grad_norm",
            format!("max_norm should be >=0, {max_norm} was provided instead"),
        ));
    }
    let mut norm_squared: Option<Array> = None;
    for g in grads.values() {
        let s = sum(&square(g)?, Axes::All, false)?;
        norm_squared = Some(match norm_squared {
            // Python starts from 0.0, which adds nothing.
            None => add(0.0, &s)?,
            Some(acc) => add(&acc, &s)?,
        });
    }
    let norm_squared = match norm_squared {
        Some(n) => n,
        None => Array::scalar(0.0f32)?,
    };
    let total_norm = sqrt(&norm_squared)?;
    let normalizer = minimum(divide(max_norm, add(&total_norm, 1e-6)?)?, 1.0)?;
    let clipped = grads
        .iter()
        .map(|(k, g)| Ok((k.clone(), multiply(g, &normalizer)?)))
        .collect::<Result<Params>>()?;
    Ok((clipped, total_norm))
}
