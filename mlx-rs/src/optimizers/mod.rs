//! Optimizers and learning-rate schedules, with Python MLX's
//! (`mlx.optimizers`, 0.32.2) defaults, update rules and state layout.
//!
//! Parameters and gradients are maps from dotted names to arrays, the
//! shape of [`Module::parameters`](crate::nn::Module::parameters). Each
//! update runs the same MLX ops in the same order as Python's
//! `apply_single`, so the results agree bit for bit on the CPU (the tests
//! compare with goldens from Python).
//!
//! ```
//! use std::collections::BTreeMap;
//! use mlx_rs::optimizers::{Adam, Optimizer};
//! use mlx_rs::Array;
//! let mut params = BTreeMap::from([("w".to_string(), Array::from_slice(&[1.0f32, 2.0], &[2])?)]);
//! let grads = BTreeMap::from([("w".to_string(), Array::from_slice(&[0.5f32, -0.5], &[2])?)]);
//! let mut opt = Adam::with(0.1, (0.9, 0.999), 1e-8, true)?; // bias-corrected: the first step is lr·sign(g)
//! opt.update(&mut params, &grads)?;
//! let w = params["w"].to_vec::<f32>()?;
//! assert!((w[0] - 0.9).abs() < 1e-5 && (w[1] - 2.1).abs() < 1e-5);
//! # Ok::<(), mlx_rs::Error>(())
//! ```
//!
//! The state (the step, the learning rate, each parameter's moments) is a
//! flat map of named arrays ([`Optimizer::state`]), the names of Python's
//! `tree_flatten(optimizer.state)` (`step`, `learning_rate`, `w.m`, …);
//! [`Optimizer::save_state`] / [`Optimizer::load_state`] write and read it
//! as safetensors, so that training resumes bit-exactly.
//!
//! [`MultiOptimizer`] gives each parameter to the first of several
//! optimizers whose filter takes its name.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use crate::error::{Error, Result};
use crate::{Array, Dtype};

mod adafactor;
mod adam;
mod adaptive;
mod clip;
mod lion;
mod multi;
mod muon;
mod schedulers;
mod sgd;

pub use adafactor::Adafactor;
pub use adam::{Adam, AdamW, Adamax};
pub use adaptive::{AdaDelta, Adagrad, RMSprop};
pub use clip::clip_grad_norm;
pub use lion::Lion;
pub use multi::{DynOptimizer, MultiOptimizer};
pub use muon::Muon;
pub use schedulers::{
    cosine_decay, exponential_decay, join_schedules, linear_schedule, step_decay, Schedule,
};
pub use sgd::Sgd;

/// Parameters or gradients by dotted name.
pub type Params = BTreeMap<String, Array>;

/// One parameter's optimizer state (`"m"`, `"v"`, …).
pub type Slots = BTreeMap<String, Array>;

/// A learning rate: a constant, or a schedule of the step.
pub enum LearningRate {
    /// A constant (stored as a `float32` array, as Python's `mx.array(lr)`).
    Constant(f32),
    /// A schedule, evaluated with the step before each update.
    Scheduled(Schedule),
}

impl std::fmt::Debug for LearningRate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LearningRate::Constant(v) => write!(f, "Constant({v})"),
            LearningRate::Scheduled(_) => f.write_str("Scheduled(..)"),
        }
    }
}

impl From<f32> for LearningRate {
    fn from(v: f32) -> Self {
        LearningRate::Constant(v)
    }
}

impl From<Schedule> for LearningRate {
    fn from(s: Schedule) -> Self {
        LearningRate::Scheduled(s)
    }
}

/// What every optimizer keeps: the step, the learning rate (and its
/// schedule), and the per-parameter state.
#[derive(Debug)]
pub struct Core {
    step: Array,
    learning_rate: Array,
    schedule: Option<LearningRate>,
    slots: BTreeMap<String, Slots>,
}

impl Core {
    /// A fresh state at step 0, as Python's `Optimizer.__init__` plus
    /// `_maybe_schedule("learning_rate", lr)`.
    ///
    /// # Errors
    /// [`Error::Mlx`] if MLX fails, or what the schedule returns.
    pub fn new(lr: impl Into<LearningRate>) -> Result<Self> {
        let step = Array::scalar(0u64)?;
        let lr = lr.into();
        let (learning_rate, schedule) = match lr {
            LearningRate::Constant(v) => (Array::scalar(v)?, None),
            LearningRate::Scheduled(s) => (s(&step)?, Some(LearningRate::Scheduled(s))),
        };
        Ok(Core {
            step,
            learning_rate,
            schedule,
            slots: BTreeMap::new(),
        })
    }
}

/// An optimizer: Python's `init_single` and `apply_single`, over a
/// [`Core`]; [`update`](Optimizer::update) is Python's `apply_gradients`.
pub trait Optimizer {
    /// The optimizer's name, for errors.
    const NAME: &'static str;

    /// The state of one new parameter (Python's `init_single`).
    ///
    /// # Errors
    /// [`Error::Mlx`] if MLX fails.
    fn init_single(&self, param: &Array) -> Result<Slots>;

    /// The updated parameter (Python's `apply_single`), updating `state`.
    /// `lr` is the current learning rate, `step` the step count after this
    /// step's increment.
    ///
    /// # Errors
    /// [`Error::Mlx`] if MLX fails.
    fn apply_single(
        &self,
        grad: &Array,
        param: &Array,
        state: &mut Slots,
        lr: &Array,
        step: &Array,
    ) -> Result<Array>;

    /// The shape slot `slot` of `param`'s state has: the parameter's own
    /// unless the optimizer factors it (Adafactor).
    fn slot_shape(&self, slot: &str, param: &Array) -> Vec<i32> {
        let _ = slot;
        param.shape().to_vec()
    }

    /// The shared state.
    fn core(&self) -> &Core;

    /// The shared state, mutably.
    fn core_mut(&mut self) -> &mut Core;

    /// One step: every parameter named in `grads` is replaced by its update
    /// (Python's `model.update(opt.apply_gradients(grads, model))`); the
    /// others are left alone. Nothing is evaluated.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a gradient without a parameter or of
    /// another shape, or a parameter whose state (as loaded with
    /// [`set_state`](Optimizer::set_state)) has another shape;
    /// [`Error::Mlx`] if MLX fails (then nothing changed).
    fn update(&mut self, params: &mut Params, grads: &Params) -> Result<()> {
        for (name, g) in grads {
            match params.get(name) {
                None => {
                    return Err(invalid(
                        Self::NAME,
                        format!("gradient {name:?} has no parameter"),
                    ))
                }
                Some(p) if p.shape() != g.shape() => {
                    return Err(invalid(
                        Self::NAME,
                        format!(
                            "gradient {name:?} has shape {:?}, the parameter {:?}",
                            g.shape(),
                            p.shape()
                        ),
                    ))
                }
                Some(p) => {
                    for (slot, a) in self.core().slots.get(name).into_iter().flatten() {
                        if a.shape() != self.slot_shape(slot, p).as_slice() {
                            return Err(invalid(
                                Self::NAME,
                                format!(
                                    "state {name}.{slot} has shape {:?}, the parameter {:?} \
                                     (a state from another model?)",
                                    a.shape(),
                                    p.shape()
                                ),
                            ));
                        }
                    }
                }
            }
        }
        // Scheduled values first, with the step before the increment.
        let lr = match &self.core().schedule {
            Some(LearningRate::Scheduled(s)) => Some(s(&self.core().step)?),
            _ => None,
        };
        let step = crate::ops::add(&self.core().step, 1)?;
        let lr = lr.unwrap_or_else(|| self.core().learning_rate.clone());
        let mut slots = std::mem::take(&mut self.core_mut().slots);
        let mut updated = Vec::with_capacity(grads.len());
        let result = (|| {
            for (name, g) in grads {
                let p = &params[name];
                if !slots.contains_key(name) {
                    slots.insert(name.clone(), self.init_single(p)?);
                }
                let state = slots.get_mut(name).expect("inserted above");
                updated.push((name.clone(), self.apply_single(g, p, state, &lr, &step)?));
            }
            Ok(())
        })();
        self.core_mut().slots = slots;
        result?;
        let core = self.core_mut();
        core.step = step;
        core.learning_rate = lr;
        params.extend(updated);
        Ok(())
    }

    /// The current learning rate (a `float32` scalar array).
    fn learning_rate(&self) -> &Array {
        &self.core().learning_rate
    }

    /// Sets a constant learning rate (replacing any schedule).
    ///
    /// # Errors
    /// [`Error::Mlx`] if MLX fails.
    fn set_learning_rate(&mut self, lr: f32) -> Result<()> {
        let core = self.core_mut();
        core.learning_rate = Array::scalar(lr)?;
        core.schedule = None;
        Ok(())
    }

    /// The step count (a `uint64` scalar array).
    fn step(&self) -> &Array {
        &self.core().step
    }

    /// The whole state, flat, under Python's names: `step`,
    /// `learning_rate`, and `<param>.<slot>` for each parameter's slots.
    fn state(&self) -> HashMap<String, Array> {
        flat_state(self.core())
    }

    /// Replaces the state with `flat` (as [`state`](Optimizer::state)
    /// returns it). A schedule stays in place.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] without `step` or `learning_rate`, or for
    /// a name that is not `<param>.<slot>`.
    fn set_state(&mut self, flat: HashMap<String, Array>) -> Result<()> {
        set_flat_state::<Self>(self.core_mut(), flat)
    }

    /// Writes the state to a safetensors file.
    ///
    /// # Errors
    /// As [`io::save_safetensors`](crate::io::save_safetensors).
    fn save_state(&self, path: impl AsRef<Path>) -> Result<()>
    where
        Self: Sized,
    {
        let state = self.state();
        crate::io::save_safetensors(
            path,
            state.iter().map(|(k, v)| (k.as_str(), v)),
            [("optimizer", Self::NAME)],
        )
    }

    /// Reads a state written by [`save_state`](Optimizer::save_state).
    ///
    /// # Errors
    /// As [`io::load_safetensors`](crate::io::load_safetensors) and
    /// [`set_state`](Optimizer::set_state).
    fn load_state(&mut self, path: impl AsRef<Path>) -> Result<()>
    where
        Self: Sized,
    {
        let st = crate::io::load_safetensors(path)?;
        self.set_state(st.arrays)
    }
}

/// [`Optimizer::state`] of `core`.
pub(crate) fn flat_state(core: &Core) -> HashMap<String, Array> {
    let mut flat = HashMap::from([
        ("step".to_string(), core.step.clone()),
        ("learning_rate".to_string(), core.learning_rate.clone()),
    ]);
    for (name, slots) in &core.slots {
        for (slot, a) in slots {
            flat.insert(format!("{name}.{slot}"), a.clone());
        }
    }
    flat
}

/// [`Optimizer::set_state`] of `core`, for optimizer `O`'s errors.
pub(crate) fn set_flat_state<O: Optimizer + ?Sized>(
    core: &mut Core,
    mut flat: HashMap<String, Array>,
) -> Result<()> {
    let missing = |k: &str| invalid(O::NAME, format!("the state has no {k:?}"));
    let step = flat.remove("step").ok_or_else(|| missing("step"))?;
    let lr = flat
        .remove("learning_rate")
        .ok_or_else(|| missing("learning_rate"))?;
    if step.dtype() != Dtype::Uint64 || step.ndim() != 0 {
        return Err(invalid(O::NAME, "the state's step must be a uint64 scalar"));
    }
    let mut slots: BTreeMap<String, Slots> = BTreeMap::new();
    for (k, a) in flat {
        let (name, slot) = k
            .rsplit_once('.')
            .ok_or_else(|| invalid(O::NAME, format!("state entry {k:?} is not <param>.<slot>")))?;
        slots
            .entry(name.to_owned())
            .or_default()
            .insert(slot.to_owned(), a);
    }
    core.step = step;
    core.learning_rate = lr;
    core.slots = slots;
    Ok(())
}

/// [`Error::InvalidArgument`] of optimizer `op`.
pub(crate) fn invalid(op: &'static str, reason: impl Into<String>) -> Error {
    Error::InvalidArgument {
        op,
        reason: reason.into(),
    }
}

/// The slot `name` of `state` (made by `init_single`).
pub(crate) fn slot<'s>(state: &'s Slots, name: &str) -> Result<&'s Array> {
    state.get(name).ok_or_else(|| Error::InvalidArgument {
        op: "optimizer",
        reason: format!("the parameter's state has no {name:?} (a state from another optimizer?)"),
    })
}

/// Implements the [`Core`] accessors of an optimizer struct with a `core`
/// field.
macro_rules! core_access {
    () => {
        fn core(&self) -> &$crate::optimizers::Core {
            &self.core
        }
        fn core_mut(&mut self) -> &mut $crate::optimizers::Core {
            &mut self.core
        }
    };
}
pub(crate) use core_access;
