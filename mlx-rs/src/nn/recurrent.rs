//! Recurrent layers: [`Rnn`], [`Gru`], [`Lstm`], computed step by step as
//! Python MLX's `nn.RNN`, `nn.GRU` and `nn.LSTM` compute them, with their
//! parameter names (`Wxh`, `Whh`, `Wx`, `Wh`, `b`, `bhn`, `bias`).
//!
//! Inputs are `[N, L, D]` or `[L, D]`; outputs stack the hidden state of
//! every step along the sequence axis (`[N, L, H]`).

use crate::error::Result;
use crate::nn::Module;
use crate::ops::support::invalid;
use crate::ops::{addmm, matmul, sigmoid, split, split_sections, stack, tanh, unstack};
use crate::random::uniform;
use crate::{Array, Dtype};

/// `uniform(±1/sqrt(hidden))` of `shape`, from the global random state.
fn init(hidden: i32, shape: &[i32]) -> Result<Array> {
    let scale = (1.0 / f64::from(hidden).sqrt()) as f32;
    uniform(-scale, scale, shape, Dtype::Float32, None)
}

/// Checks sizes and the input: `[N, L, input]` or `[L, input]`.
fn check_sizes(layer: &'static str, input: i32, hidden: i32) -> Result<()> {
    if input < 1 || hidden < 1 {
        return Err(invalid(
            layer,
            format!("input_size and hidden_size must be positive, got {input} and {hidden}"),
        ));
    }
    Ok(())
}

fn check_input(layer: &'static str, x: &Array, input: i32) -> Result<()> {
    if !(2..=3).contains(&x.ndim()) || x.shape().last() != Some(&input) {
        return Err(invalid(
            layer,
            format!(
                "expects an input [N, L, {input}] or [L, {input}], got shape {:?}",
                x.shape()
            ),
        ));
    }
    Ok(())
}

/// `b + x Wᵀ`, or `x Wᵀ` without a bias.
fn project(x: &Array, w: &Array, b: Option<&Array>) -> Result<Array> {
    match b {
        Some(b) => addmm(b, x, &w.transpose()?, 1.0, 1.0),
        None => matmul(x, &w.transpose()?),
    }
}

/// An Elman RNN: `h_t = tanh(x_t Wxhᵀ + b + h_{t−1} Whhᵀ)` (MLX's `nn.RNN`
/// with its default non-linearity).
///
/// ```
/// use mlx_rs::nn::Rnn;
/// use mlx_rs::{Array, Dtype};
/// let rnn = Rnn::new(3, 5, true)?;
/// let y = rnn.forward(&Array::ones(&[2, 4, 3], Dtype::Float32)?, None)?;
/// assert_eq!(y.shape(), [2, 4, 5]);
/// # Ok::<(), mlx_rs::Error>(())
/// ```
#[derive(Debug, Clone, Module)]
#[module(crate = crate)]
pub struct Rnn {
    /// `[hidden, input]`.
    #[module(rename = "Wxh")]
    pub wxh: Array,
    /// `[hidden, hidden]`.
    #[module(rename = "Whh")]
    pub whh: Array,
    /// `[hidden]`, if the layer has one.
    pub bias: Option<Array>,
}

impl Rnn {
    /// A layer initialised as Python's (uniform in `±1/sqrt(hidden)`, in
    /// the order `Wxh`, `Whh`, `bias`, from the global random state).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`](crate::Error::InvalidArgument) for
    /// non-positive sizes.
    #[doc(alias = "mlx_random_uniform")]
    pub fn new(input_size: i32, hidden_size: i32, bias: bool) -> Result<Self> {
        check_sizes("RNN", input_size, hidden_size)?;
        Ok(Rnn {
            wxh: init(hidden_size, &[hidden_size, input_size])?,
            whh: init(hidden_size, &[hidden_size, hidden_size])?,
            bias: if bias {
                Some(init(hidden_size, &[hidden_size])?)
            } else {
                None
            },
        })
    }

    /// Every step's hidden state, from `hidden` (or none) before the first.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`](crate::Error::InvalidArgument) naming the
    /// layer for an input of the wrong shape; [`Error::Mlx`](crate::Error::Mlx)
    /// for a `hidden` that does not fit.
    #[doc(alias = "mlx_addmm")]
    pub fn forward(&self, x: &Array, hidden: Option<&Array>) -> Result<Array> {
        check_input("RNN", x, self.wxh.shape()[1])?;
        let x = project(x, &self.wxh, self.bias.as_ref())?;
        let whh_t = self.whh.transpose()?;
        let mut h = hidden.cloned();
        let mut all = Vec::new();
        for xt in unstack(&x, -2)? {
            let pre = match &h {
                Some(h) => addmm(&xt, h, &whh_t, 1.0, 1.0)?,
                None => xt,
            };
            let next = tanh(&pre)?;
            all.push(next.clone());
            h = Some(next);
        }
        stack(&all, -2)
    }
}

/// A gated recurrent unit (MLX's `nn.GRU`): gates `r`, `z` and the
/// candidate `n`, `h_t = (1 − z) n + z h_{t−1}`.
#[derive(Debug, Clone, Module)]
#[module(crate = crate)]
pub struct Gru {
    /// `[3 · hidden, input]` (`r`, `z`, `n`).
    #[module(rename = "Wx")]
    pub wx: Array,
    /// `[3 · hidden, hidden]`.
    #[module(rename = "Wh")]
    pub wh: Array,
    /// `[3 · hidden]`, if the layer has a bias.
    pub b: Option<Array>,
    /// `[hidden]`, the bias of `n`'s hidden projection, with `b`.
    pub bhn: Option<Array>,
}

impl Gru {
    /// A layer initialised as Python's (`Wx`, `Wh`, `b`, `bhn`).
    ///
    /// # Errors
    /// As [`Rnn::new`].
    #[doc(alias = "mlx_random_uniform")]
    pub fn new(input_size: i32, hidden_size: i32, bias: bool) -> Result<Self> {
        check_sizes("GRU", input_size, hidden_size)?;
        let h = hidden_size;
        Ok(Gru {
            wx: init(h, &[3 * h, input_size])?,
            wh: init(h, &[3 * h, h])?,
            b: if bias { Some(init(h, &[3 * h])?) } else { None },
            bhn: if bias { Some(init(h, &[h])?) } else { None },
        })
    }

    /// Every step's hidden state.
    ///
    /// # Errors
    /// As [`Rnn::forward`].
    #[doc(alias = "mlx_addmm")]
    pub fn forward(&self, x: &Array, hidden: Option<&Array>) -> Result<Array> {
        check_input("GRU", x, self.wx.shape()[1])?;
        let hs = self.wh.shape()[1];
        let x = project(x, &self.wx, self.b.as_ref())?;
        let parts = split_sections(&x, &[2 * hs], -1)?;
        let (x_rz, x_n) = (unstack(&parts[0], -2)?, unstack(&parts[1], -2)?);
        let wh_t = self.wh.transpose()?;
        let mut h = hidden.cloned();
        let mut all = Vec::new();
        for (rz, n) in x_rz.into_iter().zip(x_n) {
            let mut h_proj_n = None;
            let rz = match &h {
                Some(h) => {
                    let h_proj = matmul(h, &wh_t)?;
                    let p = split_sections(&h_proj, &[2 * hs], -1)?;
                    h_proj_n = Some(match &self.bhn {
                        Some(bhn) => (&p[1] + bhn)?,
                        None => p[1].clone(),
                    });
                    (&rz + &p[0])?
                }
                None => rz,
            };
            let rz = sigmoid(&rz)?;
            let rz = split(&rz, 2, -1)?;
            let (r, z) = (&rz[0], &rz[1]);
            let n = match (&h_proj_n, &self.bhn) {
                (Some(hn), _) => (&n + (r * hn)?)?,
                (None, Some(bhn)) => (&n + (r * bhn)?)?,
                (None, None) => n,
            };
            let n = tanh(&n)?;
            let one_minus_z = (1 - z)?;
            let next = match &h {
                Some(h) => ((&one_minus_z * &n)? + (z * h)?)?,
                None => (&one_minus_z * &n)?,
            };
            all.push(next.clone());
            h = Some(next);
        }
        stack(&all, -2)
    }
}

/// A long short-term memory layer (MLX's `nn.LSTM`): gates `i`, `f`, `g`,
/// `o`; returns every step's hidden and cell states.
#[derive(Debug, Clone, Module)]
#[module(crate = crate)]
pub struct Lstm {
    /// `[4 · hidden, input]` (`i`, `f`, `g`, `o`).
    #[module(rename = "Wx")]
    pub wx: Array,
    /// `[4 · hidden, hidden]`.
    #[module(rename = "Wh")]
    pub wh: Array,
    /// `[4 · hidden]`, if the layer has one.
    pub bias: Option<Array>,
}

impl Lstm {
    /// A layer initialised as Python's (`Wx`, `Wh`, `bias`).
    ///
    /// # Errors
    /// As [`Rnn::new`].
    #[doc(alias = "mlx_random_uniform")]
    pub fn new(input_size: i32, hidden_size: i32, bias: bool) -> Result<Self> {
        check_sizes("LSTM", input_size, hidden_size)?;
        let h = hidden_size;
        Ok(Lstm {
            wx: init(h, &[4 * h, input_size])?,
            wh: init(h, &[4 * h, h])?,
            bias: if bias { Some(init(h, &[4 * h])?) } else { None },
        })
    }

    /// `(hidden, cell)`: every step's states, from `hidden` and `cell` (or
    /// none) before the first.
    ///
    /// # Errors
    /// As [`Rnn::forward`].
    #[doc(alias = "mlx_addmm")]
    pub fn forward(
        &self,
        x: &Array,
        hidden: Option<&Array>,
        cell: Option<&Array>,
    ) -> Result<(Array, Array)> {
        check_input("LSTM", x, self.wx.shape()[1])?;
        let x = project(x, &self.wx, self.bias.as_ref())?;
        let wh_t = self.wh.transpose()?;
        let (mut h, mut c) = (hidden.cloned(), cell.cloned());
        let (mut all_h, mut all_c) = (Vec::new(), Vec::new());
        for ifgo in unstack(&x, -2)? {
            let ifgo = match &h {
                Some(h) => addmm(&ifgo, h, &wh_t, 1.0, 1.0)?,
                None => ifgo,
            };
            let g4 = split(&ifgo, 4, -1)?;
            let i = sigmoid(&g4[0])?;
            let f = sigmoid(&g4[1])?;
            let g = tanh(&g4[2])?;
            let o = sigmoid(&g4[3])?;
            let next_c = match &c {
                Some(c) => ((&f * c)? + (&i * &g)?)?,
                None => (&i * &g)?,
            };
            let next_h = (&o * tanh(&next_c)?)?;
            all_c.push(next_c.clone());
            all_h.push(next_h.clone());
            c = Some(next_c);
            h = Some(next_h);
        }
        Ok((stack(&all_h, -2)?, stack(&all_c, -2)?))
    }
}
