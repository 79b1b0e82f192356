//! Tensor- and data-parallel layers and helpers over a
//! [`Group`](crate::distributed::Group), as MLX's
//! `mlx.nn.layers.distributed` and `mlx.nn.utils.average_gradients`.
//!
//! - [`AllToShardedLinear`]: every rank holds `1/N` of the output features
//!   (rows of the weight); the input is the same everywhere, the output is
//!   sharded. Its backward pass sums the input's gradient over the group.
//! - [`ShardedToAllLinear`]: every rank holds `1/N` of the input features
//!   (columns); the partial products are summed over the group, so every
//!   rank ends with the same output.
//! - [`average_gradients`]: the data-parallel step, gradients averaged
//!   over the group in few large `all_sum`s.
//!
//! A Llama MLP in tensor parallel is `gate_proj`/`up_proj` as
//! all-to-sharded and `down_proj` as sharded-to-all: one `all_sum` per
//! block.

use crate::distributed::{all_sum, Group};
use crate::error::Result;
use crate::nn::Linear;
use crate::ops::support::invalid;
use crate::ops::{add, addmm, concatenate, contiguous, divide, matmul, reshape, split_sections};
use crate::optimizers::Params;
use crate::transforms::{custom_vjp, Closure};
use crate::Array;

/// `x` forward, `all_sum` of the cotangent backward (MLX's
/// `sum_gradients`); the identity for a group of one.
fn sum_gradients(group: &Group) -> Result<Option<Closure>> {
    if group.size() == 1 {
        return Ok(None);
    }
    let g = group.clone();
    custom_vjp(
        |a: &[Array]| Ok(vec![a[0].clone()]),
        move |_p: &[Array], ct: &[Array], _o: &[Array]| Ok(vec![all_sum(&ct[0], &g)?]),
    )
    .map(Some)
}

/// Rank `rank`'s part of `w` along `axis` out of `n`, each of `segments`
/// equal segments sharded separately (a fused QKV weight has 3), as MLX's
/// `_shard`.
fn shard(op: &'static str, w: &Array, axis: i32, segments: usize, group: &Group) -> Result<Array> {
    let (n, r) = (group.size(), group.rank());
    let ndim = w.ndim() as i32;
    let ax = if axis < 0 { axis + ndim } else { axis };
    let len = w.shape().get(ax as usize).copied().unwrap_or(0) as usize;
    if segments == 0 || len % (segments * n) != 0 {
        return Err(invalid(
            op,
            format!(
                "axis {axis} of size {len} does not split into {segments} segment(s) across {n} rank(s)"
            ),
        ));
    }
    let cuts = |parts: usize, total: usize| -> Vec<i32> {
        (1..parts).map(|i| (i * total / parts) as i32).collect()
    };
    let mut mine = Vec::with_capacity(segments);
    for seg in split_sections(w, &cuts(segments, len), ax)? {
        let pieces = split_sections(&seg, &cuts(n, len / segments), ax)?;
        mine.push(pieces[r].clone());
    }
    contiguous(&concatenate(&mine, Some(ax))?, false)
}

/// A linear layer whose output features are split across the ranks of a
/// group (MLX's `nn.AllToShardedLinear`): the input is the same on every
/// rank, rank `r` computes output features `r·O/N .. (r+1)·O/N`.
///
/// Parameters: `weight` (`[output_dims / N, input_dims]`), `bias`
/// (`[output_dims / N]`, if any).
#[derive(Debug, Clone, crate::nn::Module)]
#[module(crate = crate)]
pub struct AllToShardedLinear {
    /// This rank's rows of the weight.
    pub weight: Array,
    /// This rank's part of the bias.
    pub bias: Option<Array>,
    #[module(skip)]
    group: Group,
}

impl AllToShardedLinear {
    /// This rank's shard of `linear` (MLX's `from_linear`), its rows
    /// split as `segments` equal segments each sharded on its own (1 for a
    /// plain layer, 3 for a fused QKV projection).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`](crate::Error::InvalidArgument) when the
    /// output features do not divide by `segments * group.size()`.
    pub fn from_linear(linear: &Linear, segments: usize, group: &Group) -> Result<Self> {
        const OP: &str = "AllToShardedLinear";
        Ok(AllToShardedLinear {
            weight: shard(OP, &linear.weight, 0, segments, group)?,
            bias: linear
                .bias
                .as_ref()
                .map(|b| shard(OP, b, -1, segments, group))
                .transpose()?,
            group: group.clone(),
        })
    }

    /// The group the layer is sharded over.
    pub fn group(&self) -> &Group {
        &self.group
    }

    /// `x Wᵀ + b` for this rank's output features; the gradient that flows
    /// back into `x` is summed over the group.
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) when the last axis of `x` is not
    /// `input_dims`.
    pub fn forward(&self, x: &Array) -> Result<Array> {
        let x = match sum_gradients(&self.group)? {
            Some(f) => f.call(std::slice::from_ref(x))?.remove(0),
            None => x.clone(),
        };
        let wt = self.weight.transpose()?;
        match &self.bias {
            Some(b) => addmm(b, &x, &wt, 1.0, 1.0),
            None => matmul(&x, &wt),
        }
    }
}

/// A linear layer whose input features are split across the ranks of a
/// group (MLX's `nn.ShardedToAllLinear`): rank `r` takes input features
/// `r·I/N .. (r+1)·I/N`, the partial products are summed over the group,
/// and every rank gets the whole output.
///
/// Parameters: `weight` (`[output_dims, input_dims / N]`), `bias`
/// (`[output_dims]`, whole, if any).
#[derive(Debug, Clone, crate::nn::Module)]
#[module(crate = crate)]
pub struct ShardedToAllLinear {
    /// This rank's columns of the weight.
    pub weight: Array,
    /// The whole bias, added after the sum.
    pub bias: Option<Array>,
    #[module(skip)]
    group: Group,
}

impl ShardedToAllLinear {
    /// This rank's shard of `linear` (MLX's `from_linear`): the weight's
    /// columns split as `segments` equal segments, each sharded on its own;
    /// the bias is kept whole.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`](crate::Error::InvalidArgument) when the
    /// input features do not divide by `segments * group.size()`.
    pub fn from_linear(linear: &Linear, segments: usize, group: &Group) -> Result<Self> {
        Ok(ShardedToAllLinear {
            weight: shard("ShardedToAllLinear", &linear.weight, -1, segments, group)?,
            bias: linear.bias.clone(),
            group: group.clone(),
        })
    }

    /// The group the layer is sharded over.
    pub fn group(&self) -> &Group {
        &self.group
    }

    /// `all_sum(x Wᵀ) + b`, where `x` holds this rank's input features.
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) when the last axis of `x` is not
    /// this rank's `input_dims / N`, or what the collective reports.
    pub fn forward(&self, x: &Array) -> Result<Array> {
        let y = all_sum(&matmul(x, &self.weight.transpose()?)?, &self.group)?;
        match &self.bias {
            Some(b) => add(&y, b),
            None => Ok(y),
        }
    }
}

/// The gradients averaged over the ranks of `group`, as MLX's
/// `nn.utils.average_gradients`: the arrays (all of one dtype) are
/// flattened and concatenated into buffers of about `all_reduce_size`
/// bytes, each buffer is `all_sum`med and divided by the group size, and
/// the results are split back. With `all_reduce_size == 0`, or gradients
/// of mixed dtypes, each array is reduced on its own. The identity for a
/// group of one. Nothing is evaluated.
///
/// ```
/// use mlx_rs::distributed::{Backend, Group};
/// use mlx_rs::nn::average_gradients;
/// use mlx_rs::Array;
/// let g = Group::init(Backend::Any, false)?;
/// let grads = [("w".to_owned(), Array::from_slice(&[2.0f32], &[1])?)].into();
/// let avg = average_gradients(&grads, &g, 32 << 20)?;
/// assert_eq!(avg["w"].to_vec::<f32>()?, [2.0]);
/// # Ok::<(), mlx_rs::Error>(())
/// ```
///
/// # Errors
/// What the collectives report (see
/// [`all_sum`](crate::distributed::all_sum)).
pub fn average_gradients(grads: &Params, group: &Group, all_reduce_size: usize) -> Result<Params> {
    let n = group.size();
    if n == 1 || grads.is_empty() {
        return Ok(grads.clone());
    }
    // `/ N` with a weak scalar, as in Python: the gradient keeps its dtype.
    let mean = |x: &Array| -> Result<Array> { divide(&all_sum(x, group)?, n as f32) };
    let dtype = grads.values().next().map(Array::dtype);
    let mixed = grads.values().any(|g| Some(g.dtype()) != dtype);
    if all_reduce_size == 0 || mixed {
        return grads
            .iter()
            .map(|(k, g)| Ok((k.clone(), mean(g)?)))
            .collect();
    }
    let item = dtype.map_or(4, |d| d.size());
    // Groups of names whose bytes just reach `all_reduce_size` (MLX's
    // `_group_by_size`).
    let mut groups: Vec<Vec<(&String, &Array)>> = vec![Vec::new()];
    let mut bytes = 0usize;
    for (k, g) in grads {
        groups.last_mut().expect("non-empty").push((k, g));
        bytes += g.size() * item;
        if bytes >= all_reduce_size {
            groups.push(Vec::new());
            bytes = 0;
        }
    }
    let mut out = Params::new();
    for group_items in groups.into_iter().filter(|g| !g.is_empty()) {
        let flat: Vec<Array> = group_items
            .iter()
            .map(|(_, g)| reshape(g, &[-1]))
            .collect::<Result<_>>()?;
        let big = mean(&concatenate(&flat, Some(0))?)?;
        let mut cuts = Vec::with_capacity(group_items.len());
        let mut at = 0i32;
        for (_, g) in &group_items[..group_items.len() - 1] {
            at += g.size() as i32;
            cuts.push(at);
        }
        let parts = split_sections(&big, &cuts, 0)?;
        for ((k, g), p) in group_items.iter().zip(parts) {
            out.insert((*k).clone(), reshape(&p, g.shape())?);
        }
    }
    Ok(out)
}

/// How [`shard_linear_layer`] splits a layer (MLX's `"all-to-sharded"` and
/// `"sharded-to-all"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sharding {
    /// Output features split across the ranks: rows of the weight (and the
    /// bias) sharded; the input is whole on every rank.
    AllToSharded,
    /// Input features split across the ranks: columns of the weight
    /// sharded; the partial outputs must be `all_sum`med by the caller.
    /// The bias is kept on rank 0 only (zeros elsewhere), so the sum adds
    /// it once.
    ShardedToAll,
}

/// This rank's shard of `layer`, float or quantized, of the same kind: the
/// plain-layer form of MLX's `shard_inplace` for a tensor-parallel plan
/// whose model does the `all_sum` itself (as mlx-lm's Llama `shard` plan
/// does after `o_proj` and `down_proj`). A quantized layer's packed
/// weight, scales and biases are split along the same features; for
/// [`Sharding::ShardedToAll`] the input features of a rank must be a
/// whole number of quantization groups.
///
/// # Errors
/// [`Error::InvalidArgument`](crate::Error::InvalidArgument) when the
/// features (or a quantized layer's packed words or groups) do not divide
/// by `segments * group.size()`.
pub fn shard_linear_layer(
    layer: &crate::nn::LinearLayer,
    sharding: Sharding,
    segments: usize,
    group: &Group,
) -> Result<crate::nn::LinearLayer> {
    use crate::nn::{LinearLayer, QuantizedLinear};
    const OP: &str = "shard_linear_layer";
    let axis = match sharding {
        Sharding::AllToSharded => 0,
        Sharding::ShardedToAll => -1,
    };
    let s = |a: &Array| shard(OP, a, axis, segments, group);
    let bias = |b: &Option<Array>| -> Result<Option<Array>> {
        match (b, sharding) {
            (None, _) => Ok(None),
            (Some(b), Sharding::AllToSharded) => shard(OP, b, -1, segments, group).map(Some),
            (Some(b), Sharding::ShardedToAll) if group.rank() == 0 => Ok(Some(b.clone())),
            (Some(b), Sharding::ShardedToAll) => crate::ops::zeros_like(b, None).map(Some),
        }
    };
    Ok(match layer {
        LinearLayer::Float(l) => LinearLayer::Float(Linear {
            weight: s(&l.weight)?,
            bias: bias(&l.bias)?,
        }),
        LinearLayer::Quantized(q) => LinearLayer::Quantized(QuantizedLinear {
            weight: s(&q.weight)?,
            scales: s(&q.scales)?,
            biases: q.biases.as_ref().map(s).transpose()?,
            bias: bias(&q.bias)?,
            mode: q.mode,
        }),
        LinearLayer::Lora(_) => {
            return Err(invalid(
                OP,
                "a layer with a LoRA adapter cannot be sharded: fuse the adapter first",
            ))
        }
    })
}
