//! The [`Module`] trait: named traversal of a model's parameters and
//! sub-modules, and what is built on it (loading, saving, counting,
//! replacing layers).

use std::any::Any;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use crate::error::Result;
use crate::io::{self, LoadOptions, WeightSpec, WeightSpecs, WeightsReport};
use crate::Array;

/// The dotted path of `name` inside `prefix` (`"a.b"`, or `name` alone
/// when `prefix` is empty). Used by the code `#[derive(Module)]`
/// generates.
pub fn join_name(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_owned()
    } else {
        format!("{prefix}.{name}")
    }
}

/// A model or a layer: something with named parameters.
///
/// Names are dotted paths as in MLX and mlx-lm
/// (`layers.0.self_attn.q_proj.weight`), so weights saved from Rust load in
/// Python and the other way round. Implement it with
/// [`#[derive(Module)]`](derive@crate::nn::Module); the implementations
/// for [`Array`] (one parameter, named by the path that leads to it),
/// `Option<T>` (nothing when `None`), `Vec<T>` and `[T; N]` (elements
/// named `0`, `1`, …) and `Box<T>` are what the derive builds on.
///
/// ```
/// use mlx_rs::nn::{Linear, Module, RmsNorm};
/// use mlx_rs::{Array, Dtype};
///
/// #[derive(Debug, Module)]
/// struct Block {
///     norm: RmsNorm,
///     #[module(rename = "proj")]
///     layers: Vec<Linear>,
///     #[module(skip)]
///     scale: f32,
/// }
///
/// let mut block = Block {
///     norm: RmsNorm::new(4, 1e-5)?,
///     layers: vec![Linear::new(4, 4, true)?, Linear::new(4, 2, false)?],
///     scale: 0.5,
/// };
/// let names: Vec<String> = block.parameters().into_keys().collect();
/// assert_eq!(names, ["norm.weight", "proj.0.bias", "proj.0.weight", "proj.1.weight"]);
/// assert_eq!(block.num_parameters(), 4 + 16 + 4 + 8);
///
/// // Strict loading: every name present, nothing unexpected, same shapes and dtypes.
/// let mut weights = block.parameters();
/// weights.insert("proj.1.weight".into(), Array::ones(&[2, 4], Dtype::Float32)?);
/// block.load_weights(weights.into_iter().collect())?;
/// assert_eq!(block.layers[1].weight.to_vec::<f32>()?, [1.0; 8]);
/// # Ok::<(), mlx_rs::Error>(())
/// ```
///
/// A field that is not a parameter or a module is a compile error ("`f32`
/// is not a `Module` … mark fields that are not parameters with
/// `#[module(skip)]`"), and so is a type parameter that is not a module:
///
/// ```compile_fail
/// use mlx_rs::nn::Module;
/// #[derive(Module)]
/// struct Norm { weight: mlx_rs::Array, eps: f32 }
/// ```
///
/// ```compile_fail
/// use mlx_rs::nn::Module;
/// #[derive(Module)]
/// struct Wrapper<T> { inner: T }
/// fn needs_module<M: Module>(_: &M) {}
/// needs_module(&Wrapper { inner: 1u8 });
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a `Module` (a parameter, a layer or a model)",
    label = "not a parameter or a sub-module",
    note = "mark fields that are not parameters with `#[module(skip)]`"
)]
pub trait Module: Any {
    /// Calls `f` with the name and value of every parameter, in field
    /// order; `prefix` is this module's own path (`""` at the root).
    fn visit_params<'a>(&'a self, prefix: &str, f: &mut dyn FnMut(&str, &'a Array));

    /// Calls `f` with the name of every parameter and a mutable reference
    /// to it, in field order.
    fn visit_params_mut(&mut self, prefix: &str, f: &mut dyn FnMut(&str, &mut Array));

    /// Calls `f` with this module and then, recursively, every sub-module,
    /// with their paths. Containers (`Vec`, `Option`, …) and plain arrays
    /// are not modules themselves: `f` sees what they hold.
    ///
    /// # Errors
    /// The first error `f` returns, which stops the traversal.
    fn visit_modules(
        &self,
        prefix: &str,
        f: &mut dyn FnMut(&str, &dyn Module) -> Result<()>,
    ) -> Result<()>;

    /// Calls `f` with a mutable reference to this module, then visits its
    /// sub-modules *as they are after `f` returned*: `f` may replace a
    /// module in place (e.g. through [`Module::as_any_mut`] and
    /// `downcast_mut`), and the traversal then goes into the replacement.
    ///
    /// # Errors
    /// The first error `f` returns, which stops the traversal (modules
    /// already visited keep whatever `f` did to them).
    fn visit_modules_mut(
        &mut self,
        prefix: &str,
        f: &mut dyn FnMut(&str, &mut dyn Module) -> Result<()>,
    ) -> Result<()>;

    /// `self` as [`Any`], to downcast a `&dyn Module` to its type.
    fn as_any(&self) -> &dyn Any;

    /// `self` as [`Any`], to downcast a `&mut dyn Module` to its type.
    fn as_any_mut(&mut self) -> &mut dyn Any;

    /// The names of this module's own fields that are buffers
    /// (`#[module(buffer)]`): state that is saved and loaded but never
    /// trained. Empty unless the derive says otherwise.
    fn local_buffers(&self) -> &'static [&'static str] {
        &[]
    }

    /// The [`Frozen`](crate::nn::Frozen) names this module keeps (its
    /// `#[module(frozen)]` field), if it has one.
    fn frozen_store(&self) -> Option<&crate::nn::Frozen> {
        None
    }

    /// [`Module::frozen_store`], mutable.
    fn frozen_store_mut(&mut self) -> Option<&mut crate::nn::Frozen> {
        None
    }

    /// Freezes the parameters `sel` selects (Python's `Module.freeze`): they
    /// leave [`Module::trainable_parameters`] and get no gradient from
    /// [`Module::value_and_grad`]. See [`freeze`](crate::nn::freeze).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`](crate::Error::InvalidArgument) when the
    /// module has no `#[module(frozen)]` field, the path names no module,
    /// or (strict) a key is not a member of a selected module; nothing
    /// changes then.
    fn freeze(&mut self, sel: &crate::nn::Freeze<'_>) -> Result<()>
    where
        Self: Sized,
    {
        crate::nn::freeze::set_frozen(self, sel, true)
    }

    /// Unfreezes the parameters `sel` selects (Python's
    /// `Module.unfreeze`); buffers stay untrainable.
    ///
    /// # Errors
    /// As [`Module::freeze`].
    fn unfreeze(&mut self, sel: &crate::nn::Freeze<'_>) -> Result<()>
    where
        Self: Sized,
    {
        crate::nn::freeze::set_frozen(self, sel, false)
    }

    /// The full names of the parameters that are not trainable: frozen
    /// ones and buffers.
    fn frozen_names(&self) -> std::collections::BTreeSet<String>
    where
        Self: Sized,
    {
        crate::nn::freeze::frozen_names(self)
    }

    /// The parameters that train (Python's `trainable_parameters()`): all
    /// but the frozen ones and the buffers.
    fn trainable_parameters(&self) -> BTreeMap<String, Array>
    where
        Self: Sized,
    {
        let frozen = self.frozen_names();
        self.parameters_where(&|n| !frozen.contains(n))
    }

    /// Switches this one module between training and evaluation behaviour
    /// (what [`Module::train`] calls on every module of a model). Does
    /// nothing unless the layer behaves differently when training, as
    /// [`Dropout`](crate::nn::Dropout) does; `#[derive(Module)]` keeps this
    /// default.
    fn set_training(&mut self, training: bool) {
        let _ = training;
    }

    /// Puts the whole model in training (`true`) or evaluation (`false`)
    /// mode, as Python's `Module.train(mode)` / `Module.eval()`: calls
    /// [`Module::set_training`] on this module and every sub-module.
    /// Layers start in training mode, as in Python.
    ///
    /// ```
    /// use mlx_rs::nn::{Dropout, Linear, Module};
    /// use mlx_rs::{Array, Dtype};
    /// #[derive(Debug, Module)]
    /// struct Net { fc: Linear, drop: Dropout }
    /// let mut net = Net { fc: Linear::new(4, 4, false)?, drop: Dropout::new(0.5)? };
    /// net.train(false);
    /// let x = Array::ones(&[2, 4], Dtype::Float32)?;
    /// assert_eq!(net.drop.forward(&x)?.to_vec::<f32>()?, [1.0; 8]);
    /// # Ok::<(), mlx_rs::Error>(())
    /// ```
    fn train(&mut self, training: bool)
    where
        Self: Sized,
    {
        let _ = self.visit_modules_mut("", &mut |_, m| {
            m.set_training(training);
            Ok(())
        });
    }

    /// Every parameter by name (`Clone` of an array is cheap).
    fn parameters(&self) -> BTreeMap<String, Array> {
        let mut out = BTreeMap::new();
        self.visit_params("", &mut |name, a| {
            out.insert(name.to_owned(), a.clone());
        });
        out
    }

    /// The names, shapes and dtypes of every parameter: what
    /// [`Module::load_weights`] expects.
    fn weight_specs(&self) -> WeightSpecs {
        let mut out = WeightSpecs::new();
        self.visit_params("", &mut |name, a| {
            out.insert(name.to_owned(), WeightSpec::of(a));
        });
        out
    }

    /// The number of parameter elements (for quantized layers: of the
    /// packed weights, scales and biases as stored).
    fn num_parameters(&self) -> usize {
        let mut n = 0;
        self.visit_params("", &mut |_, a| n += a.size());
        n
    }

    /// The bytes the parameters take.
    fn parameters_nbytes(&self) -> usize {
        let mut n = 0;
        self.visit_params("", &mut |_, a| n += a.nbytes());
        n
    }

    /// Replaces every parameter with the weight of the same name, strictly:
    /// every parameter must have a weight of the same shape and dtype, and
    /// every weight a parameter. All or nothing: on error nothing changes.
    ///
    /// # Errors
    /// [`Error::WeightsMismatch`](crate::Error::WeightsMismatch) listing
    /// every missing, unexpected or mismatching name.
    fn load_weights(&mut self, weights: HashMap<String, Array>) -> Result<WeightsReport> {
        self.load_weights_with(weights, LoadOptions::strict())
    }

    /// [`Module::load_weights`] with the leniencies of `options`; what was
    /// tolerated is listed in the returned report.
    ///
    /// # Errors
    /// As [`io::check_weights`], with this module's parameters as the specs.
    fn load_weights_with(
        &mut self,
        mut weights: HashMap<String, Array>,
        options: LoadOptions,
    ) -> Result<WeightsReport> {
        let report = io::check_weights(&self.weight_specs(), &weights, options)?;
        let matched: std::collections::HashSet<&str> =
            report.matched.iter().map(String::as_str).collect();
        self.visit_params_mut("", &mut |name, slot| {
            if matched.contains(name) {
                if let Some(w) = weights.remove(name) {
                    *slot = w;
                }
            }
        });
        Ok(report)
    }

    /// Loads a safetensors file (through [`io::load_safetensors`]) with
    /// [`Module::load_weights_with`].
    ///
    /// # Errors
    /// As [`io::load_safetensors`] and [`Module::load_weights_with`].
    fn load_safetensors(&mut self, path: &Path, options: LoadOptions) -> Result<WeightsReport> {
        let file = io::load_safetensors(path)?;
        self.load_weights_with(file.arrays, options)
    }

    /// Saves every parameter to a safetensors file with the metadata
    /// `{"format": "mlx"}`, as Python MLX's `Module.save_weights` does.
    ///
    /// # Errors
    /// As [`io::save_safetensors`].
    fn save_safetensors(&self, path: &Path) -> Result<()> {
        let arrays: HashMap<String, Array> = self.parameters().into_iter().collect();
        let metadata = HashMap::from([("format".to_owned(), "mlx".to_owned())]);
        io::save_safetensors(path, &arrays, &metadata)
    }

    /// Replaces parameters by name (a gradient step's result, or part of
    /// a model), as Python's `Module.update`: every name must be a
    /// parameter of this module and keep its shape and dtype. Checked for
    /// all names first, so an `Err` leaves the module unchanged.
    ///
    /// ```
    /// use std::collections::BTreeMap;
    /// use mlx_rs::nn::{Linear, Module};
    /// use mlx_rs::{Array, Dtype};
    /// let mut l = Linear::new(2, 1, false)?;
    /// l.update(&BTreeMap::from([("weight".to_owned(), Array::ones(&[1, 2], Dtype::Float32)?)]))?;
    /// assert_eq!(l.weight.to_vec::<f32>()?, [1.0, 1.0]);
    /// # Ok::<(), mlx_rs::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidArgument`](crate::Error::InvalidArgument) naming
    /// every unknown name and every shape or dtype that differs.
    fn update(&mut self, params: &BTreeMap<String, Array>) -> Result<()> {
        let specs = self.weight_specs();
        let mut problems = Vec::new();
        for (name, a) in params {
            match specs.get(name) {
                None => problems.push(format!("{name:?} is not a parameter")),
                Some(spec) if *spec != WeightSpec::of(a) => problems.push(format!(
                    "{name:?} is {spec:?}, the update is {:?}",
                    WeightSpec::of(a)
                )),
                Some(_) => {}
            }
        }
        if !problems.is_empty() {
            return Err(crate::Error::InvalidArgument {
                op: "Module::update",
                reason: problems.join("; "),
            });
        }
        self.visit_params_mut("", &mut |name, a| {
            if let Some(new) = params.get(name) {
                *a = new.clone();
            }
        });
        Ok(())
    }

    /// `loss_fn(model, inputs)` and the gradients of its first output (a
    /// scalar) with respect to every trainable parameter (see
    /// [`Module::trainable_parameters`]), by the parameters' dotted names,
    /// as Python's `nn.value_and_grad(model, loss_fn)(inputs)`.
    /// Further outputs come back with the loss (gradients stopped).
    ///
    /// ```
    /// use mlx_rs::nn::{Linear, Module};
    /// use mlx_rs::{ops, Array};
    /// let mut l = Linear::new(2, 1, true)?;
    /// let x = Array::from_slice(&[1.0f32, 2.0], &[1, 2])?;
    /// let (loss, grads) = l.value_and_grad(
    ///     |m: &Linear, x: &[Array]| Ok(vec![ops::sum(&m.forward(&x[0])?, ops::Axes::All, false)?]),
    ///     &[x],
    /// )?;
    /// assert_eq!(loss[0].item::<f32>()?, 0.0);
    /// assert_eq!(grads["weight"].to_vec::<f32>()?, [1.0, 2.0]);
    /// assert_eq!(grads["bias"].to_vec::<f32>()?, [1.0]);
    /// # Ok::<(), mlx_rs::Error>(())
    /// ```
    ///
    /// The module's parameters are swapped for MLX's tracers while
    /// `loss_fn` runs and restored afterwards, whatever happened.
    ///
    /// # Errors
    /// As [`transforms::ValueAndGrad::call`](crate::transforms::ValueAndGrad::call),
    /// and an [`Error::InvalidArgument`](crate::Error::InvalidArgument) for
    /// a module without parameters.
    #[doc(alias = "mlx_value_and_grad")]
    fn value_and_grad<F>(
        &mut self,
        loss_fn: F,
        inputs: &[Array],
    ) -> Result<(Vec<Array>, BTreeMap<String, Array>)>
    where
        Self: Sized,
        F: FnMut(&Self, &[Array]) -> Result<Vec<Array>> + 'static,
    {
        let mut loss_fn = loss_fn;
        let frozen = self.frozen_names();
        value_and_grad_impl(
            self,
            &|n| !frozen.contains(n),
            move |m: &mut Self, x: &[Array]| loss_fn(m, x),
            inputs,
        )
    }

    /// [`Module::value_and_grad`] whose loss function may change the
    /// module: the state a layer updates while training (a
    /// [`BatchNorm`](crate::nn::BatchNorm)'s running statistics) stays
    /// updated after the call, while the parameters are put back as they
    /// were (apply the gradients with an optimizer).
    ///
    /// # Errors
    /// As [`Module::value_and_grad`].
    #[doc(alias = "mlx_value_and_grad")]
    fn value_and_grad_mut<F>(
        &mut self,
        loss_fn: F,
        inputs: &[Array],
    ) -> Result<(Vec<Array>, BTreeMap<String, Array>)>
    where
        Self: Sized,
        F: FnMut(&mut Self, &[Array]) -> Result<Vec<Array>> + 'static,
    {
        let frozen = self.frozen_names();
        value_and_grad_impl(self, &|n| !frozen.contains(n), loss_fn, inputs)
    }

    /// [`Module::value_and_grad`] with respect to the parameters whose
    /// names `trainable` accepts only (Python's `trainable_parameters()` of
    /// a partly frozen model, e.g. the adapters of a LoRA model: see
    /// [`lora::is_adapter_parameter`](crate::nn::lora::is_adapter_parameter));
    /// the others are constants of the loss and get no gradient.
    ///
    /// ```
    /// use mlx_rs::nn::{Linear, Module};
    /// use mlx_rs::{ops, Array};
    /// let mut l = Linear::new(2, 1, true)?;
    /// let x = Array::from_slice(&[1.0f32, 2.0], &[1, 2])?;
    /// let (_, grads) = l.value_and_grad_of(
    ///     |name| name == "bias",
    ///     |m: &Linear, x: &[Array]| Ok(vec![ops::sum(&m.forward(&x[0])?, ops::Axes::All, false)?]),
    ///     &[x],
    /// )?;
    /// assert_eq!(grads.keys().collect::<Vec<_>>(), ["bias"]);
    /// # Ok::<(), mlx_rs::Error>(())
    /// ```
    ///
    /// Frozen parameters and buffers are left out whatever `trainable`
    /// says.
    ///
    /// # Errors
    /// As [`Module::value_and_grad`]; an
    /// [`Error::InvalidArgument`](crate::Error::InvalidArgument) when no
    /// parameter is trainable.
    #[doc(alias = "mlx_value_and_grad")]
    fn value_and_grad_of<P, F>(
        &mut self,
        trainable: P,
        loss_fn: F,
        inputs: &[Array],
    ) -> Result<(Vec<Array>, BTreeMap<String, Array>)>
    where
        Self: Sized,
        P: Fn(&str) -> bool,
        F: FnMut(&Self, &[Array]) -> Result<Vec<Array>> + 'static,
    {
        let mut loss_fn = loss_fn;
        let frozen = self.frozen_names();
        value_and_grad_impl(
            self,
            &|n| trainable(n) && !frozen.contains(n),
            move |m: &mut Self, x: &[Array]| loss_fn(m, x),
            inputs,
        )
    }

    /// The parameters whose names `keep` accepts (e.g. the trainable ones).
    fn parameters_where(&self, keep: &dyn Fn(&str) -> bool) -> BTreeMap<String, Array> {
        let mut out = BTreeMap::new();
        self.visit_params("", &mut |name, a| {
            if keep(name) {
                out.insert(name.to_owned(), a.clone());
            }
        });
        out
    }
}

/// [`Module::value_and_grad`]: the parameters (sorted by name) are the
/// first arguments of a [`transforms::value_and_grad`] function that puts
/// them into the module and runs `loss_fn` on it.
fn value_and_grad_impl<M, F>(
    model: &mut M,
    trainable: &dyn Fn(&str) -> bool,
    mut loss_fn: F,
    inputs: &[Array],
) -> Result<(Vec<Array>, BTreeMap<String, Array>)>
where
    M: Module,
    F: FnMut(&mut M, &[Array]) -> Result<Vec<Array>> + 'static,
{
    use std::cell::Cell;
    use std::rc::Rc;

    let originals = model.parameters_where(trainable);
    if originals.is_empty() {
        return Err(crate::Error::InvalidArgument {
            op: "mlx_value_and_grad",
            reason: "the module has no (trainable) parameters to differentiate".to_owned(),
        });
    }
    let names: Rc<HashMap<String, usize>> = Rc::new(
        originals
            .keys()
            .enumerate()
            .map(|(i, n)| (n.clone(), i))
            .collect(),
    );
    let n = names.len();
    // The model, reachable from the 'static function only while this call
    // runs (null otherwise, so a later call through a copy MLX kept is an
    // `Err`, never a dangling reference).
    let slot: Rc<Cell<*mut M>> = Rc::new(Cell::new(std::ptr::null_mut()));
    let inner = slot.clone();
    let vg = crate::transforms::value_and_grad(
        move |args: &[Array]| {
            let p = inner.get();
            if p.is_null() {
                return Err(crate::Error::InvalidArgument {
                    op: "mlx_value_and_grad",
                    reason: "a module's loss function was called after value_and_grad returned"
                        .to_owned(),
                });
            }
            // SAFETY: `p` is set only while `value_and_grad_impl` runs
            // `vg.call`, during which it holds the module's `&mut` and does
            // not touch the module; MLX runs this function on that thread,
            // inside that call, and the payload's `RefCell` rules out a
            // second, overlapping run.
            let model = unsafe { &mut *p };
            let (params, rest) = args.split_at(n);
            model.visit_params_mut("", &mut |name, a| {
                if let Some(&i) = names.get(name) {
                    *a = params[i].clone();
                }
            });
            loss_fn(model, rest)
        },
        &(0..n as i32).collect::<Vec<_>>(),
    )?;
    let mut args: Vec<Array> = originals.values().cloned().collect();
    args.extend(inputs.iter().cloned());
    slot.set(std::ptr::from_mut(model));
    let result = vg.call(&args);
    slot.set(std::ptr::null_mut());
    // Put the real parameters back, whatever the loss function did.
    model.visit_params_mut("", &mut |name, a| {
        if let Some(orig) = originals.get(name) {
            *a = orig.clone();
        }
    });
    let (values, grads) = result?;
    Ok((values, originals.into_keys().zip(grads).collect()))
}

impl dyn Module {
    /// The module as a `T`, if it is one.
    pub fn downcast_ref<T: Module>(&self) -> Option<&T> {
        self.as_any().downcast_ref()
    }

    /// The module as a mutable `T`, if it is one.
    pub fn downcast_mut<T: Module>(&mut self) -> Option<&mut T> {
        self.as_any_mut().downcast_mut()
    }
}

/// Calls `f` on every module of type `T` inside `model`, with its path, so
/// that it can change or replace it in place.
///
/// ```
/// use mlx_rs::nn::{replace_modules, Linear, Module};
/// #[derive(Debug, Module)]
/// struct Mlp { up: Linear, down: Linear }
/// let mut m = Mlp { up: Linear::new(4, 8, true)?, down: Linear::new(8, 4, true)? };
/// // drop the bias of every layer
/// replace_modules(&mut m, |_, l: &mut Linear| { l.bias = None; Ok(()) })?;
/// assert_eq!(m.parameters().len(), 2);
/// # Ok::<(), mlx_rs::Error>(())
/// ```
///
/// # Errors
/// The first error `f` returns.
pub fn replace_modules<T: Module>(
    model: &mut dyn Module,
    mut f: impl FnMut(&str, &mut T) -> Result<()>,
) -> Result<()> {
    model.visit_modules_mut("", &mut |path, m| match m.downcast_mut::<T>() {
        Some(t) => f(path, t),
        None => Ok(()),
    })
}

impl Module for Array {
    fn visit_params<'a>(&'a self, prefix: &str, f: &mut dyn FnMut(&str, &'a Array)) {
        f(prefix, self);
    }

    fn visit_params_mut(&mut self, prefix: &str, f: &mut dyn FnMut(&str, &mut Array)) {
        f(prefix, self);
    }

    fn visit_modules(
        &self,
        _prefix: &str,
        _f: &mut dyn FnMut(&str, &dyn Module) -> Result<()>,
    ) -> Result<()> {
        Ok(())
    }

    fn visit_modules_mut(
        &mut self,
        _prefix: &str,
        _f: &mut dyn FnMut(&str, &mut dyn Module) -> Result<()>,
    ) -> Result<()> {
        Ok(())
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
}

/// Implements `Module` for a container by forwarding to each element with
/// the name `elem_name(prefix, index)`.
macro_rules! container_impl {
    ([$($gen:tt)*] $ty:ty, $iter:ident, $iter_mut:ident, $name:expr) => {
        impl<$($gen)*> Module for $ty {
            fn visit_params<'a>(&'a self, prefix: &str, f: &mut dyn FnMut(&str, &'a Array)) {
                for (i, m) in self.$iter().enumerate() {
                    m.visit_params(&$name(prefix, i), f);
                }
            }

            fn visit_params_mut(&mut self, prefix: &str, f: &mut dyn FnMut(&str, &mut Array)) {
                for (i, m) in self.$iter_mut().enumerate() {
                    m.visit_params_mut(&$name(prefix, i), f);
                }
            }

            fn visit_modules(
                &self,
                prefix: &str,
                f: &mut dyn FnMut(&str, &dyn Module) -> Result<()>,
            ) -> Result<()> {
                for (i, m) in self.$iter().enumerate() {
                    m.visit_modules(&$name(prefix, i), f)?;
                }
                Ok(())
            }

            fn visit_modules_mut(
                &mut self,
                prefix: &str,
                f: &mut dyn FnMut(&str, &mut dyn Module) -> Result<()>,
            ) -> Result<()> {
                for (i, m) in self.$iter_mut().enumerate() {
                    m.visit_modules_mut(&$name(prefix, i), f)?;
                }
                Ok(())
            }

            fn as_any(&self) -> &dyn Any {
                self
            }

            fn as_any_mut(&mut self) -> &mut dyn Any {
                self
            }
        }
    };
}

fn indexed(prefix: &str, i: usize) -> String {
    join_name(prefix, &i.to_string())
}

fn same(prefix: &str, _: usize) -> String {
    prefix.to_owned()
}

container_impl!([T: Module] Vec<T>, iter, iter_mut, indexed);
container_impl!([T: Module, const N: usize] [T; N], iter, iter_mut, indexed);
container_impl!([T: Module] Option<T>, iter, iter_mut, same);
container_impl!([T: Module] Box<T>, once_ref, once_mut, same);

/// `Box` as a one-element iterator, for `container_impl!`.
trait Once<T> {
    fn once_ref(&self) -> std::iter::Once<&T>;
    fn once_mut(&mut self) -> std::iter::Once<&mut T>;
}

impl<T> Once<T> for Box<T> {
    fn once_ref(&self) -> std::iter::Once<&T> {
        std::iter::once(&**self)
    }
    fn once_mut(&mut self) -> std::iter::Once<&mut T> {
        std::iter::once(&mut **self)
    }
}
