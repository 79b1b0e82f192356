//! [`MultiOptimizer`] (Python's `optimizers.MultiOptimizer`) and the
//! object-safe [`DynOptimizer`] it holds its optimizers as.

use std::collections::HashMap;

use super::{invalid, Optimizer, Params};
use crate::{Array, Result};

/// What [`MultiOptimizer`] needs of an optimizer, object-safe; every
/// [`Optimizer`] is one. The methods carry a `_dyn` suffix so that they
/// never clash with [`Optimizer`]'s when both traits are in scope.
pub trait DynOptimizer {
    /// [`Optimizer::NAME`].
    fn name_dyn(&self) -> &'static str;

    /// [`Optimizer::update`].
    ///
    /// # Errors
    /// As [`Optimizer::update`].
    fn update_dyn(&mut self, params: &mut Params, grads: &Params) -> Result<()>;

    /// [`Optimizer::state`].
    fn state_dyn(&self) -> HashMap<String, Array>;

    /// [`Optimizer::set_state`].
    ///
    /// # Errors
    /// As [`Optimizer::set_state`].
    fn set_state_dyn(&mut self, flat: HashMap<String, Array>) -> Result<()>;

    /// [`Optimizer::learning_rate`].
    fn learning_rate_dyn(&self) -> &Array;

    /// [`Optimizer::set_learning_rate`].
    ///
    /// # Errors
    /// As [`Optimizer::set_learning_rate`].
    fn set_learning_rate_dyn(&mut self, lr: f32) -> Result<()>;
}

impl<O: Optimizer> DynOptimizer for O {
    fn name_dyn(&self) -> &'static str {
        O::NAME
    }
    fn update_dyn(&mut self, params: &mut Params, grads: &Params) -> Result<()> {
        self.update(params, grads)
    }
    fn state_dyn(&self) -> HashMap<String, Array> {
        self.state()
    }
    fn set_state_dyn(&mut self, flat: HashMap<String, Array>) -> Result<()> {
        self.set_state(flat)
    }
    fn learning_rate_dyn(&self) -> &Array {
        self.learning_rate()
    }
    fn set_learning_rate_dyn(&mut self, lr: f32) -> Result<()> {
        self.set_learning_rate(lr)
    }
}

/// A parameter filter: the parameter's dotted name and its gradient.
pub type Filter = Box<dyn Fn(&str, &Array) -> bool>;

/// Several optimizers, each for the parameters the first matching filter
/// gives it (the last optimizer takes the rest), as Python's
/// `MultiOptimizer(optimizers, filters)`. Every optimizer's step advances
/// at every update, as in Python. Its state is `states.<i>.<name>`.
///
/// ```
/// use std::collections::BTreeMap;
/// use mlx_rs::optimizers::{Adam, MultiOptimizer, Sgd};
/// use mlx_rs::Array;
/// let mut opt = MultiOptimizer::new(
///     vec![Box::new(Sgd::new(0.5)?), Box::new(Adam::new(0.1)?)],
///     vec![Box::new(|name: &str, _: &Array| name.ends_with("bias"))],
/// )?;
/// let mut params = BTreeMap::from([
///     ("bias".to_string(), Array::from_slice(&[1.0f32], &[1])?),
///     ("weight".to_string(), Array::from_slice(&[1.0f32], &[1])?),
/// ]);
/// let grads = params.clone();
/// opt.update(&mut params, &grads)?;
/// assert_eq!(params["bias"].to_vec::<f32>()?, [0.5]); // SGD
/// assert!(opt.state().contains_key("states.1.weight.m")); // Adam
/// # Ok::<(), mlx_rs::Error>(())
/// ```
pub struct MultiOptimizer {
    optimizers: Vec<Box<dyn DynOptimizer>>,
    filters: Vec<Filter>,
}

impl std::fmt::Debug for MultiOptimizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.optimizers.iter().map(|o| o.name_dyn()).collect();
        f.debug_struct("MultiOptimizer")
            .field("optimizers", &names)
            .finish_non_exhaustive()
    }
}

const NAME: &str = "MultiOptimizer";

impl MultiOptimizer {
    /// `optimizers` with one filter fewer than optimizers.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`](crate::Error::InvalidArgument) for no
    /// optimizers, or a filter count other than `optimizers.len() - 1`
    /// (Python's message).
    pub fn new(optimizers: Vec<Box<dyn DynOptimizer>>, filters: Vec<Filter>) -> Result<Self> {
        if optimizers.is_empty() || filters.len() != optimizers.len() - 1 {
            return Err(invalid(
                NAME,
                format!(
                    "Given {} filters but {} needed.",
                    filters.len(),
                    optimizers.len().saturating_sub(1)
                ),
            ));
        }
        Ok(MultiOptimizer {
            optimizers,
            filters,
        })
    }

    /// The index of the optimizer that takes parameter `name`.
    fn owner(&self, name: &str, g: &Array) -> usize {
        self.filters
            .iter()
            .position(|f| f(name, g))
            .unwrap_or(self.filters.len())
    }

    /// One step: each optimizer updates its share of `grads`.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`](crate::Error::InvalidArgument) for a
    /// gradient without a parameter or of another shape (checked for all
    /// before any optimizer runs); as each optimizer's `update`.
    pub fn update(&mut self, params: &mut Params, grads: &Params) -> Result<()> {
        for (name, g) in grads {
            match params.get(name) {
                None => return Err(invalid(NAME, format!("gradient {name:?} has no parameter"))),
                Some(p) if p.shape() != g.shape() => {
                    return Err(invalid(
                        NAME,
                        format!(
                            "gradient {name:?} has shape {:?}, the parameter {:?}",
                            g.shape(),
                            p.shape()
                        ),
                    ))
                }
                Some(_) => {}
            }
        }
        let mut parts = vec![Params::new(); self.optimizers.len()];
        for (name, g) in grads {
            parts[self.owner(name, g)].insert(name.clone(), g.clone());
        }
        for (o, part) in self.optimizers.iter_mut().zip(&parts) {
            o.update_dyn(params, part)?;
        }
        Ok(())
    }

    /// Every optimizer's state, flat: `states.<i>.<name>` (Python's
    /// `tree_flatten(opt.state)`).
    pub fn state(&self) -> HashMap<String, Array> {
        let mut flat = HashMap::new();
        for (i, o) in self.optimizers.iter().enumerate() {
            for (k, v) in o.state_dyn() {
                flat.insert(format!("states.{i}.{k}"), v);
            }
        }
        flat
    }

    /// Replaces every optimizer's state from `flat` (as
    /// [`state`](MultiOptimizer::state) returns it).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`](crate::Error::InvalidArgument) naming an
    /// entry that is not `states.<i>.…` for one of the optimizers, or an
    /// optimizer without state; as each optimizer's `set_state`.
    pub fn set_state(&mut self, flat: HashMap<String, Array>) -> Result<()> {
        let n = self.optimizers.len();
        let mut parts: Vec<HashMap<String, Array>> = vec![HashMap::new(); n];
        for (k, v) in flat {
            let slot = k
                .strip_prefix("states.")
                .and_then(|r| r.split_once('.'))
                .and_then(|(i, rest)| Some((i.parse::<usize>().ok()?, rest)))
                .filter(|(i, _)| *i < n);
            let Some((i, rest)) = slot else {
                return Err(invalid(
                    NAME,
                    format!("Invalid state provided: {k:?} is not states.<i>.<name> for i < {n}"),
                ));
            };
            parts[i].insert(rest.to_owned(), v);
        }
        if let Some(i) = parts.iter().position(HashMap::is_empty) {
            return Err(invalid(
                NAME,
                format!("Invalid state provided: nothing for optimizer {i}"),
            ));
        }
        for (o, part) in self.optimizers.iter_mut().zip(parts) {
            o.set_state_dyn(part)?;
        }
        Ok(())
    }

    /// The first optimizer's learning rate (Python's).
    pub fn learning_rate(&self) -> &Array {
        self.optimizers[0].learning_rate_dyn()
    }

    /// Sets every optimizer's learning rate.
    ///
    /// # Errors
    /// As [`Optimizer::set_learning_rate`].
    pub fn set_learning_rate(&mut self, lr: f32) -> Result<()> {
        self.optimizers
            .iter_mut()
            .try_for_each(|o| o.set_learning_rate_dyn(lr))
    }

    /// Writes the state to a safetensors file.
    ///
    /// # Errors
    /// As [`io::save_safetensors`](crate::io::save_safetensors).
    pub fn save_state(&self, path: impl AsRef<std::path::Path>) -> Result<()> {
        let state = self.state();
        crate::io::save_safetensors(
            path,
            state.iter().map(|(k, v)| (k.as_str(), v)),
            [("optimizer", NAME)],
        )
    }

    /// Reads a state written by [`save_state`](MultiOptimizer::save_state).
    ///
    /// # Errors
    /// As [`io::load_safetensors`](crate::io::load_safetensors) and
    /// [`set_state`](MultiOptimizer::set_state).
    pub fn load_state(&mut self, path: impl AsRef<std::path::Path>) -> Result<()> {
        self.set_state(crate::io::load_safetensors(path)?.arrays)
    }
}
