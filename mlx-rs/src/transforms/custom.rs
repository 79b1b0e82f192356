//! Functions with their own derivative and batching rules ([`CustomFunction`],
//! [`custom_vjp`]) and [`checkpoint`].

use std::ffi::c_void;

use super::closure::{borrowed_arrays, drop_payload, guarded, write_arrays, Closure, Payload};
use crate::error::Result;
use crate::raw::{self, Owned};
use crate::Array;

/// The trampoline of a vjp rule: `(primals, cotangents, outputs)` to one
/// cotangent per primal.
unsafe extern "C" fn call_vjp<F>(
    res: *mut mlx_sys::mlx_vector_array,
    primals: mlx_sys::mlx_vector_array,
    cotangents: mlx_sys::mlx_vector_array,
    outputs: mlx_sys::mlx_vector_array,
    payload: *mut c_void,
) -> i32
where
    F: FnMut(&[Array], &[Array], &[Array]) -> Result<Vec<Array>>,
{
    const OP: &str = "mlx_closure_custom_new_func_payload";
    guarded(|| {
        // SAFETY: mlx-c lends the three vectors for this call.
        let (p, c, o) = unsafe {
            (
                borrowed_arrays(OP, primals)?,
                borrowed_arrays(OP, cotangents)?,
                borrowed_arrays(OP, outputs)?,
            )
        };
        // SAFETY: the payload `vjp_closure::<F>` made for `F`.
        let out = unsafe { Payload::<F>::with(payload, |f| f(&p, &c, &o)) }?;
        // SAFETY: `res` is the result vector mlx-c owns.
        unsafe { write_arrays(OP, res, &out) }
    })
}

/// The trampoline of a jvp rule: `(primals, tangents, argnums)` to one
/// tangent per output.
unsafe extern "C" fn call_jvp<F>(
    res: *mut mlx_sys::mlx_vector_array,
    primals: mlx_sys::mlx_vector_array,
    tangents: mlx_sys::mlx_vector_array,
    argnums: *const i32,
    argnums_num: usize,
    payload: *mut c_void,
) -> i32
where
    F: FnMut(&[Array], &[Array], &[i32]) -> Result<Vec<Array>>,
{
    const OP: &str = "mlx_closure_custom_jvp_new_func_payload";
    guarded(|| {
        // SAFETY: mlx-c lends the vectors for this call.
        let (p, t) = unsafe {
            (
                borrowed_arrays(OP, primals)?,
                borrowed_arrays(OP, tangents)?,
            )
        };
        let argnums: &[i32] = if argnums_num == 0 {
            &[]
        } else {
            // SAFETY: mlx-c passes a vector's data, valid for `argnums_num`
            // ints during this call.
            unsafe { std::slice::from_raw_parts(argnums, argnums_num) }
        };
        // SAFETY: the payload `jvp_closure::<F>` made for `F`.
        let out = unsafe { Payload::<F>::with(payload, |f| f(&p, &t, argnums)) }?;
        // SAFETY: `res` is the result vector mlx-c owns.
        unsafe { write_arrays(OP, res, &out) }
    })
}

/// The trampoline of a vmap rule: `(inputs, axes)` to the batched outputs
/// and the axis of each output that the batch runs along.
unsafe extern "C" fn call_vmap<F>(
    res: *mut mlx_sys::mlx_vector_array,
    res_axes: *mut mlx_sys::mlx_vector_int,
    inputs: mlx_sys::mlx_vector_array,
    axes: *const i32,
    axes_num: usize,
    payload: *mut c_void,
) -> i32
where
    F: FnMut(&[Array], &[Option<i32>]) -> Result<(Vec<Array>, Vec<i32>)>,
{
    const OP: &str = "mlx_closure_custom_vmap_new_func_payload";
    guarded(|| {
        // SAFETY: mlx-c lends the vector for this call.
        let x = unsafe { borrowed_arrays(OP, inputs) }?;
        let axes: Vec<Option<i32>> = if axes_num == 0 {
            Vec::new()
        } else {
            // SAFETY: mlx-c passes a vector's data, valid for `axes_num`
            // ints during this call.
            unsafe { std::slice::from_raw_parts(axes, axes_num) }
                .iter()
                .map(|&a| (a >= 0).then_some(a))
                .collect()
        };
        // SAFETY: the payload `vmap_closure::<F>` made for `F`.
        let (out, mut out_axes) = unsafe { Payload::<F>::with(payload, |f| f(&x, &axes)) }?;
        // SAFETY: `res` is the result vector mlx-c owns.
        unsafe { write_arrays(OP, res, &out) }?;
        // SAFETY: `res_axes` points to the (empty) int vector handle mlx-c
        // owns and frees; `set_data` fills it with a copy of `out_axes`,
        // valid for its length.
        raw::call(OP, || unsafe {
            mlx_sys::mlx_vector_int_set_data(res_axes, out_axes.as_mut_ptr(), out_axes.len())
        })
    })
}

fn vjp_closure<F>(f: F) -> Result<Owned<mlx_sys::mlx_closure_custom>>
where
    F: FnMut(&[Array], &[Array], &[Array]) -> Result<Vec<Array>> + 'static,
{
    let payload = Payload::into_raw(f);
    // SAFETY: trampoline and destructor take the payload made for `F`;
    // mlx-c owns it from here (and frees it if making the closure fails).
    raw::returned("mlx_closure_custom_new_func_payload", || unsafe {
        mlx_sys::mlx_closure_custom_new_func_payload(
            Some(call_vjp::<F>),
            payload,
            Some(drop_payload::<F>),
        )
    })
}

fn jvp_closure<F>(f: F) -> Result<Owned<mlx_sys::mlx_closure_custom_jvp>>
where
    F: FnMut(&[Array], &[Array], &[i32]) -> Result<Vec<Array>> + 'static,
{
    let payload = Payload::into_raw(f);
    // SAFETY: as in `vjp_closure`.
    raw::returned("mlx_closure_custom_jvp_new_func_payload", || unsafe {
        mlx_sys::mlx_closure_custom_jvp_new_func_payload(
            Some(call_jvp::<F>),
            payload,
            Some(drop_payload::<F>),
        )
    })
}

fn vmap_closure<F>(f: F) -> Result<Owned<mlx_sys::mlx_closure_custom_vmap>>
where
    F: FnMut(&[Array], &[Option<i32>]) -> Result<(Vec<Array>, Vec<i32>)> + 'static,
{
    let payload = Payload::into_raw(f);
    // SAFETY: as in `vjp_closure`.
    raw::returned("mlx_closure_custom_vmap_new_func_payload", || unsafe {
        mlx_sys::mlx_closure_custom_vmap_new_func_payload(
            Some(call_vmap::<F>),
            payload,
            Some(drop_payload::<F>),
        )
    })
}

/// `f` with its vector-Jacobian product replaced by `vjp(primals,
/// cotangents, outputs)`, which returns one cotangent per primal, as
/// Python's `@mx.custom_function` with `.vjp`.
///
/// ```
/// use mlx_rs::{ops, transforms::{custom_vjp, grad}, Array};
/// // sin(x) whose "derivative" is reported as 2 * cotangent.
/// let f = custom_vjp(
///     |a: &[Array]| Ok(vec![ops::sin(&a[0])?]),
///     |_p: &[Array], ct: &[Array], _o: &[Array]| Ok(vec![ops::multiply(&ct[0], &Array::scalar(2.0f32)?)?]),
/// )?;
/// let g = grad(move |a: &[Array]| f.call(a), &[0])?;
/// assert_eq!(g.call(&[Array::scalar(0.5f32)?])?[0].item::<f32>()?, 2.0);
/// # Ok::<(), mlx_rs::Error>(())
/// ```
///
/// # Errors
/// [`Error::Mlx`](crate::Error::Mlx) if mlx-c cannot make the closures.
#[doc(alias = "mlx_custom_vjp")]
pub fn custom_vjp<F, V>(f: F, vjp: V) -> Result<Closure>
where
    F: FnMut(&[Array]) -> Result<Vec<Array>> + 'static,
    V: FnMut(&[Array], &[Array], &[Array]) -> Result<Vec<Array>> + 'static,
{
    let fun = Closure::new(f)?;
    let rule = vjp_closure(vjp)?;
    raw::out("mlx_custom_vjp", |res| {
        // SAFETY: both closures are live (MLX copies them); `res` is a
        // fresh out-param.
        unsafe { mlx_sys::mlx_custom_vjp(res, fun.get(), rule.get()) }
    })
    .map(Closure)
}

/// A function with custom derivative rules, built up as Python's
/// `mx.custom_function`: [`vjp`](CustomFunction::vjp) and
/// [`jvp`](CustomFunction::jvp) and [`vmap`](CustomFunction::vmap) rules,
/// then [`build`](CustomFunction::build).
/// A rule left out is derived from the function as usual.
///
/// ```
/// use mlx_rs::{ops, transforms::{jvp, CustomFunction}, Array};
/// let f = CustomFunction::new(|a: &[Array]| Ok(vec![ops::exp(&a[0])?]))?
///     .jvp(|_p: &[Array], t: &[Array], _argnums: &[i32]| Ok(vec![ops::multiply(&t[0], &Array::scalar(3.0f32)?)?]))?
///     .build()?;
/// let (_, tangents) = jvp(move |a: &[Array]| f.call(a), &[Array::scalar(1.0f32)?], &[Array::scalar(1.0f32)?])?;
/// assert_eq!(tangents[0].item::<f32>()?, 3.0);
/// # Ok::<(), mlx_rs::Error>(())
/// ```
#[derive(Debug)]
pub struct CustomFunction {
    fun: Closure,
    vjp: Option<Owned<mlx_sys::mlx_closure_custom>>,
    jvp: Option<Owned<mlx_sys::mlx_closure_custom_jvp>>,
    vmap: Option<Owned<mlx_sys::mlx_closure_custom_vmap>>,
}

impl CustomFunction {
    /// Starts from `f`, with no custom rules.
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) if mlx-c cannot make the closure.
    pub fn new<F>(f: F) -> Result<CustomFunction>
    where
        F: FnMut(&[Array]) -> Result<Vec<Array>> + 'static,
    {
        Ok(CustomFunction {
            fun: Closure::new(f)?,
            vjp: None,
            jvp: None,
            vmap: None,
        })
    }

    /// Sets the vjp rule: `(primals, cotangents, outputs)` to one cotangent
    /// per primal.
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) if mlx-c cannot make the closure.
    #[doc(alias = "mlx_closure_custom_new_func_payload")]
    pub fn vjp<V>(mut self, rule: V) -> Result<CustomFunction>
    where
        V: FnMut(&[Array], &[Array], &[Array]) -> Result<Vec<Array>> + 'static,
    {
        self.vjp = Some(vjp_closure(rule)?);
        Ok(self)
    }

    /// Sets the jvp rule: `(primals, tangents, argnums)` (the tangents
    /// belong to the primals at `argnums`) to one tangent per output.
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) if mlx-c cannot make the closure.
    #[doc(alias = "mlx_closure_custom_jvp_new_func_payload")]
    pub fn jvp<J>(mut self, rule: J) -> Result<CustomFunction>
    where
        J: FnMut(&[Array], &[Array], &[i32]) -> Result<Vec<Array>> + 'static,
    {
        self.jvp = Some(jvp_closure(rule)?);
        Ok(self)
    }

    /// Sets the vmap rule: `(inputs, axes)`, where `axes[i]` is the axis
    /// of input `i` that the batch runs along (`None`: not batched), to
    /// the batched outputs and, for each, the axis the batch runs along.
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) if mlx-c cannot make the closure.
    #[doc(alias = "mlx_closure_custom_vmap_new_func_payload")]
    pub fn vmap<V>(mut self, rule: V) -> Result<CustomFunction>
    where
        V: FnMut(&[Array], &[Option<i32>]) -> Result<(Vec<Array>, Vec<i32>)> + 'static,
    {
        self.vmap = Some(vmap_closure(rule)?);
        Ok(self)
    }

    /// The function with its rules, as a [`Closure`].
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) if mlx-c fails.
    #[doc(alias = "mlx_custom_function")]
    pub fn build(self) -> Result<Closure> {
        let vjp = self.vjp.as_ref().map_or(
            mlx_sys::mlx_closure_custom {
                ctx: std::ptr::null_mut(),
            },
            Owned::get,
        );
        let jvp = self.jvp.as_ref().map_or(
            mlx_sys::mlx_closure_custom_jvp {
                ctx: std::ptr::null_mut(),
            },
            Owned::get,
        );
        let vmap = self.vmap.as_ref().map_or(
            mlx_sys::mlx_closure_custom_vmap {
                ctx: std::ptr::null_mut(),
            },
            Owned::get,
        );
        raw::out("mlx_custom_function", |res| {
            // SAFETY: the function and the rules given are live (MLX copies
            // them); a rule not given is the null handle, which mlx-c reads
            // as "none"; `res` is a fresh out-param.
            unsafe { mlx_sys::mlx_custom_function(res, self.fun.get(), vjp, jvp, vmap) }
        })
        .map(Closure)
    }
}

/// `f` recomputed in the backward pass instead of keeping its
/// intermediate values (gradient checkpointing), as Python's
/// `mx.checkpoint`. The values and gradients are those of `f`.
///
/// ```
/// use mlx_rs::{ops, transforms::{checkpoint, grad}, Array};
/// let f = checkpoint(|a: &[Array]| Ok(vec![ops::sum(&ops::square(&a[0])?, ops::Axes::All, false)?]))?;
/// let g = grad(move |a: &[Array]| f.call(a), &[0])?;
/// assert_eq!(g.call(&[Array::from_slice(&[3.0f32], &[1])?])?[0].to_vec::<f32>()?, [6.0]);
/// # Ok::<(), mlx_rs::Error>(())
/// ```
///
/// # Errors
/// [`Error::Mlx`](crate::Error::Mlx) if mlx-c fails.
#[doc(alias = "mlx_checkpoint")]
pub fn checkpoint<F>(f: F) -> Result<Closure>
where
    F: FnMut(&[Array]) -> Result<Vec<Array>> + 'static,
{
    let fun = Closure::new(f)?;
    raw::out("mlx_checkpoint", |res| {
        // SAFETY: the closure is live (MLX copies it); `res` is a fresh
        // out-param.
        unsafe { mlx_sys::mlx_checkpoint(res, fun.get()) }
    })
    .map(Closure)
}
