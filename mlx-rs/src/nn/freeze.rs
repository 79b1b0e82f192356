//! Freezing parameters: Python's `Module.freeze` / `unfreeze` /
//! `trainable_parameters`.
//!
//! Python keeps, in every module, the set of its own attribute names that
//! are frozen (`_no_grad`). A Rust layer is a plain struct, so the names
//! live in one place instead: a [`Frozen`] field marked
//! `#[module(frozen)]` in the model (usually its root), holding the full
//! dotted names frozen at or below it. [`Module::freeze`] and
//! [`Module::unfreeze`] select what to change with a [`Freeze`]: a
//! sub-module by path, all of its parameters or only some of each module's
//! own keys, recursively or not, as Python's keyword arguments do.
//! Buffers (`#[module(buffer)]`, e.g. [`BatchNorm`](crate::nn::BatchNorm)'s
//! running statistics) are never trainable.
//!
//! ```
//! use mlx_rs::nn::{Freeze, Frozen, Linear, Module};
//! #[derive(Debug, Module)]
//! struct Net { l1: Linear, l2: Linear, #[module(frozen)] frozen: Frozen }
//! let mut net = Net { l1: Linear::new(2, 2, true)?, l2: Linear::new(2, 1, true)?,
//!                     frozen: Frozen::default() };
//! net.freeze(&Freeze::all())?;
//! net.unfreeze(&Freeze::at("l2").keys(&["bias"]))?;
//! assert_eq!(net.trainable_parameters().keys().collect::<Vec<_>>(), ["l2.bias"]);
//! # Ok::<(), mlx_rs::Error>(())
//! ```

use std::collections::{BTreeMap, BTreeSet};

use super::module::{join_name, Module};
use crate::error::{Error, Result};

/// The full names of the frozen parameters of a model (Python's
/// `_no_grad` sets, gathered): the field a model marks
/// `#[module(frozen)]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Frozen {
    names: BTreeSet<String>,
}

impl Frozen {
    /// Whether the parameter `name` (relative to the module holding this
    /// set) is frozen.
    pub fn contains(&self, name: &str) -> bool {
        self.names.contains(name)
    }

    /// The frozen names, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.names.iter().map(String::as_str)
    }
}

/// What [`Module::freeze`] and [`Module::unfreeze`] change, with Python's
/// defaults: every parameter of the whole module, recursively, not strict.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Freeze<'a> {
    path: &'a str,
    keys: Option<&'a [&'a str]>,
    recurse: bool,
    strict: bool,
}

impl<'a> Freeze<'a> {
    /// Every parameter of the module (`model.freeze()`).
    pub fn all() -> Self {
        Freeze::at("")
    }

    /// The sub-module at the dotted `path` (`model.layers[0].freeze()` is
    /// `Freeze::at("layers.0")`).
    pub fn at(path: &'a str) -> Self {
        Freeze {
            path,
            keys: None,
            recurse: true,
            strict: false,
        }
    }

    /// Only these keys of each module (`keys=[...]`): a key names a field
    /// of the module (`"weight"`, `"bias"`, or a sub-module such as
    /// `"proj"`) and takes every parameter under it.
    pub fn keys(mut self, keys: &'a [&'a str]) -> Self {
        self.keys = Some(keys);
        self
    }

    /// Whether the modules below the selected one are changed too
    /// (`recurse=`, default `true`).
    pub fn recurse(mut self, recurse: bool) -> Self {
        self.recurse = recurse;
        self
    }

    /// With `keys`, refuse a key that a changed module does not have
    /// (`strict=`, default `false`).
    pub fn strict(mut self, strict: bool) -> Self {
        self.strict = strict;
        self
    }
}

/// The module's own parameters: names (full) by the key (first segment
/// below the module) they sit under, excluding those a sub-module owns.
fn own_parameters(prefix: &str, m: &dyn Module) -> Result<BTreeMap<String, Vec<String>>> {
    let mut all = BTreeSet::new();
    m.visit_params(prefix, &mut |name, _| {
        all.insert(name.to_owned());
    });
    m.visit_modules(prefix, &mut |p, sub| {
        if p != prefix {
            sub.visit_params(p, &mut |name, _| {
                all.remove(name);
            });
        }
        Ok(())
    })?;
    let mut by_key: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for name in all {
        let rest = if prefix.is_empty() {
            name.as_str()
        } else {
            &name[prefix.len() + 1..]
        };
        let key = rest.split('.').next().unwrap_or(rest).to_owned();
        by_key.entry(key).or_default().push(name);
    }
    Ok(by_key)
}

/// The names of the fields of the module at `prefix`: its own parameters'
/// keys and its sub-modules' first path segments (Python's `k in module`).
fn member_keys(prefix: &str, m: &dyn Module) -> Result<BTreeSet<String>> {
    let mut keys = BTreeSet::new();
    let first = |name: &str| -> String {
        let rest = if prefix.is_empty() {
            name
        } else {
            name.get(prefix.len() + 1..).unwrap_or("")
        };
        rest.split('.').next().unwrap_or(rest).to_owned()
    };
    m.visit_params(prefix, &mut |name, _| {
        keys.insert(first(name));
    });
    m.visit_modules(prefix, &mut |p, _| {
        if p != prefix {
            keys.insert(first(p));
        }
        Ok(())
    })?;
    Ok(keys)
}

/// The full names `sel` selects in `root`.
fn selected(root: &dyn Module, sel: &Freeze<'_>) -> Result<BTreeSet<String>> {
    let mut target: Option<()> = None;
    let mut out = BTreeSet::new();
    let mut problem: Option<String> = None;
    root.visit_modules("", &mut |p, m| {
        let inside = p == sel.path
            || (sel.recurse && (sel.path.is_empty() || p.starts_with(&format!("{}.", sel.path))));
        if p == sel.path {
            target = Some(());
        }
        if !inside {
            return Ok(());
        }
        match sel.keys {
            None => out.extend(own_parameters(p, m)?.into_values().flatten()),
            Some(keys) => {
                if sel.strict {
                    let members = member_keys(p, m)?;
                    if let Some(k) = keys.iter().find(|k| !members.contains(**k)) {
                        problem.get_or_insert_with(|| {
                            let at = if p.is_empty() { "the model" } else { p };
                            format!("{at} doesn't contain member {k:?}")
                        });
                    }
                }
                // A key takes everything under the member it names, a
                // sub-module's parameters too (Python filters the tree by
                // the module's keys).
                for k in keys {
                    let member = join_name(p, k);
                    let under = format!("{member}.");
                    m.visit_params(p, &mut |name, _| {
                        if name == member || name.starts_with(&under) {
                            out.insert(name.to_owned());
                        }
                    });
                }
            }
        }
        Ok(())
    })?;
    if target.is_none() {
        return Err(invalid(format!("no module at {:?}", sel.path)));
    }
    match problem {
        Some(p) => Err(invalid(p)),
        None => Ok(out),
    }
}

fn invalid(reason: String) -> Error {
    Error::InvalidArgument {
        op: "Module::freeze",
        reason,
    }
}

/// [`Module::freeze`] (`freeze == true`) and [`Module::unfreeze`].
pub(crate) fn set_frozen<M: Module>(model: &mut M, sel: &Freeze<'_>, freeze: bool) -> Result<()> {
    if model.frozen_store().is_none() {
        return Err(invalid(
            "this module has no `#[module(frozen)] Frozen` field to keep the frozen names in"
                .to_owned(),
        ));
    }
    let names = selected(&*model, sel)?;
    let store = model
        .frozen_store_mut()
        .expect("checked above: the module has a frozen store");
    if freeze {
        store.names.extend(names);
    } else {
        store.names.retain(|n| !names.contains(n));
    }
    Ok(())
}

/// Every name of `root` that is not trainable: the buffers of every module
/// and the names in every frozen store (relative to its module).
pub(crate) fn frozen_names(root: &dyn Module) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let _ = root.visit_modules("", &mut |p, m| {
        for b in m.local_buffers() {
            let name = join_name(p, b);
            // A buffer field may hold several arrays (or none).
            m.visit_params(p, &mut |n, _| {
                if n == name || n.starts_with(&format!("{name}.")) {
                    out.insert(n.to_owned());
                }
            });
        }
        if let Some(store) = m.frozen_store() {
            out.extend(store.names().map(|n| join_name(p, n)));
        }
        Ok(())
    });
    out
}
