//! Learning-rate schedules (Python's `mlx.optimizers.schedulers`): each is
//! a function of the step (a `uint64` scalar array) made of the same MLX
//! ops as Python's.

use super::invalid;
use crate::ops::{add, cos, floor_divide, less, minimum, multiply, power, select, subtract};
use crate::{Array, Result};

/// A schedule: the value at a step.
pub type Schedule = Box<dyn Fn(&Array) -> Result<Array>>;

/// `init · decay_rateˢᵗᵉᵖ`.
pub fn exponential_decay(init: f64, decay_rate: f64) -> Schedule {
    Box::new(move |step| multiply(init, power(decay_rate, step)?))
}

/// `init · decay_rate^(step // step_size)`.
///
/// # Errors
/// [`Error::InvalidArgument`](crate::Error::InvalidArgument) for
/// `step_size < 1`.
pub fn step_decay(init: f64, decay_rate: f64, step_size: u64) -> Result<Schedule> {
    if step_size < 1 {
        return Err(invalid(
            "step_decay",
            format!("step_size must be greater than 0, but got {step_size}."),
        ));
    }
    Ok(Box::new(move |step| {
        multiply(init, power(decay_rate, floor_divide(step, step_size)?)?)
    }))
}

/// Cosine decay from `init` to `end` over `decay_steps`, then `end`.
///
/// # Errors
/// [`Error::InvalidArgument`](crate::Error::InvalidArgument) for
/// `decay_steps < 1`.
pub fn cosine_decay(init: f64, decay_steps: u64, end: f64) -> Result<Schedule> {
    if decay_steps < 1 {
        return Err(invalid(
            "cosine_decay",
            format!("decay_steps must be greater than 0, but got {decay_steps}."),
        ));
    }
    Ok(Box::new(move |step| {
        let s = minimum(step, decay_steps)?;
        let decay = multiply(
            0.5,
            add(
                1.0,
                cos(&multiply(std::f64::consts::PI / decay_steps as f64, &s)?)?,
            )?,
        )?;
        add(end, multiply(&decay, init - end)?)
    }))
}

/// Linear from `init` to `end` over `steps`, then `end`.
///
/// # Errors
/// [`Error::InvalidArgument`](crate::Error::InvalidArgument) for
/// `steps < 1`.
pub fn linear_schedule(init: f64, end: f64, steps: u64) -> Result<Schedule> {
    if steps < 1 {
        return Err(invalid(
            "linear_schedule",
            format!("steps must be greater than 0, but got {steps}."),
        ));
    }
    Ok(Box::new(move |step| {
        let s = minimum(step, steps)?;
        add(multiply(&s, (end - init) / steps as f64)?, init)
    }))
}

/// `schedules[0]` until `boundaries[0]`, then `schedules[1]` (counting
/// from the boundary), and so on.
///
/// # Errors
/// [`Error::InvalidArgument`](crate::Error::InvalidArgument) without
/// schedules or with a boundary count other than one less.
pub fn join_schedules(schedules: Vec<Schedule>, boundaries: Vec<u64>) -> Result<Schedule> {
    if schedules.is_empty() {
        return Err(invalid(
            "join_schedules",
            "Must provide at least 1 schedule to join.",
        ));
    }
    if schedules.len() != boundaries.len() + 1 {
        return Err(invalid(
            "join_schedules",
            format!(
                "Received {} boundaries but expected {}.",
                boundaries.len(),
                schedules.len() - 1
            ),
        ));
    }
    Ok(Box::new(move |step| {
        let mut output = schedules[0](step)?;
        for (&boundary, schedule) in boundaries.iter().zip(&schedules[1..]) {
            output = select(
                &less(step, boundary)?,
                &output,
                schedule(&subtract(step, boundary)?)?,
            )?;
        }
        Ok(output)
    }))
}
