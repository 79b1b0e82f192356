//! [`vmap`]: a function mapped over an axis of its inputs.

use super::closure::{run, Closure};
use crate::array::vector;
use crate::error::{Error, Result};
use crate::raw;
use crate::Array;

/// A vectorized function: see [`vmap`].
#[derive(Debug)]
pub struct Vmap {
    fun: Closure,
    in_axes: Vec<Option<i32>>,
    out_axes: Vec<i32>,
}

/// Vectorizes `f` over axis `in_axes[i]` of argument `i` (`None`: the
/// argument is not mapped), stacking output `j` along `out_axes[j]`, as
/// Python's `mx.vmap`. An empty `in_axes` maps axis 0 of every argument;
/// an empty `out_axes` stacks every output along axis 0.
///
/// `f` is traced once per call on inputs without the mapped axis, and its
/// graph is then rewritten with each primitive's batched rule.
///
/// ```
/// use mlx_rs::{ops, transforms::vmap, Array};
/// // Row-wise dot product of x with a shared vector y.
/// let dot = vmap(|a: &[Array]| Ok(vec![ops::sum(&ops::multiply(&a[0], &a[1])?, ops::Axes::All, false)?]),
///                &[Some(0), None], &[])?;
/// let x = Array::from_slice(&[1.0f32, 2.0, 3.0, 4.0], &[2, 2])?;
/// let y = Array::from_slice(&[10.0f32, 1.0], &[2])?;
/// assert_eq!(dot.call(&[x, y])?[0].to_vec::<f32>()?, [12.0, 34.0]);
/// # Ok::<(), mlx_rs::Error>(())
/// ```
///
/// # Errors
/// [`Error::InvalidArgument`] for a negative axis; [`Error::Mlx`] if
/// mlx-c cannot make the closure.
pub fn vmap<F>(f: F, in_axes: &[Option<i32>], out_axes: &[i32]) -> Result<Vmap>
where
    F: FnMut(&[Array]) -> Result<Vec<Array>> + 'static,
{
    if let Some(a) = in_axes.iter().flatten().chain(out_axes).find(|a| **a < 0) {
        return Err(Error::InvalidArgument {
            op: "mlx_detail_vmap_trace",
            reason: format!("vmap axis {a} is negative; axes count from 0"),
        });
    }
    Ok(Vmap {
        fun: Closure::new(f)?,
        in_axes: in_axes.to_vec(),
        out_axes: out_axes.to_vec(),
    })
}

impl Vmap {
    /// Runs the vectorized function on `args`.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when `in_axes` does not have one entry
    /// per argument, names an axis an argument does not have, or maps no
    /// argument, or `out_axes` does not have one entry per output;
    /// [`Error::Mlx`] for mapped axes of different sizes, an output axis
    /// out of range, or a panic of `f`; `f`'s own `Err`.
    #[doc(alias = "mlx_detail_vmap_trace")]
    #[doc(alias = "mlx_detail_vmap_replace")]
    pub fn call(&self, args: &[Array]) -> Result<Vec<Array>> {
        const TRACE: &str = "mlx_detail_vmap_trace";
        const REPLACE: &str = "mlx_detail_vmap_replace";
        let bad = |reason: String| Error::InvalidArgument { op: TRACE, reason };
        let in_axes: Vec<i32> = if self.in_axes.is_empty() {
            vec![0; args.len()]
        } else if self.in_axes.len() != args.len() {
            return Err(bad(format!(
                "{} in_axes for {} arguments",
                self.in_axes.len(),
                args.len()
            )));
        } else {
            self.in_axes.iter().map(|a| a.unwrap_or(-1)).collect()
        };
        for (i, (&ax, a)) in in_axes.iter().zip(args).enumerate() {
            if ax >= 0 && ax as usize >= a.ndim() {
                return Err(bad(format!(
                    "in_axes[{i}] = {ax}, but argument {i} has {} dimensions",
                    a.ndim()
                )));
            }
        }
        if !in_axes.iter().any(|&a| a >= 0) {
            return Err(bad("in_axes maps no argument".to_owned()));
        }
        let inputs = vector(args)?;
        run(TRACE, || {
            let (s_inputs, s_outputs) = raw::out2(TRACE, |si, so| {
                // SAFETY: closure and inputs are live; `in_axes` is valid
                // for its length; `si`, `so` are fresh out-params.
                unsafe {
                    mlx_sys::mlx_detail_vmap_trace(
                        si,
                        so,
                        self.fun.get(),
                        inputs.get(),
                        in_axes.as_ptr(),
                        in_axes.len(),
                    )
                }
            })?;
            // SAFETY: `s_outputs` is a live vector.
            let n_out = unsafe { mlx_sys::mlx_vector_array_size(s_outputs.get()) };
            let out_axes = if self.out_axes.is_empty() {
                vec![0; n_out]
            } else if self.out_axes.len() != n_out {
                return Err(Error::InvalidArgument {
                    op: REPLACE,
                    reason: format!("{} out_axes for {n_out} outputs", self.out_axes.len()),
                });
            } else {
                self.out_axes.clone()
            };
            Array::build_vec(REPLACE, |res| {
                // SAFETY: all vectors are live; both axis slices are valid
                // for their lengths; `res` is a fresh out-param.
                unsafe {
                    mlx_sys::mlx_detail_vmap_replace(
                        res,
                        inputs.get(),
                        s_inputs.get(),
                        s_outputs.get(),
                        in_axes.as_ptr(),
                        in_axes.len(),
                        out_axes.as_ptr(),
                        out_axes.len(),
                    )
                }
            })
        })
    }
}
