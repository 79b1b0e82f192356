//! Comparing results with golden data: on the CPU (where the golden data
//! comes from) bit for bit (within `Family::blas_tol` for the families
//! that call BLAS when the build linked another BLAS than the wheel's
//! reference one); on the GPU within the tolerance of the op
//! family the caller names (`crate::device::Family`, the suite's one
//! table), with a `GPU-DIFF` line each. Failures go to a
//! `crate::device::Report`, which reports them all at the end of a test.

use mlx_rs::{Array, Dtype, Error};
use serde_json::Value;

use super::golden::{bits, bits_to_values, dtype_of, shape};
use crate::device::{host_bits, on_cpu, Family, Report, Tol};

/// Checks that `got` has the dtype and shape of the hex-encoded `want`, and
/// its values: bit for bit on the CPU (and for non-float dtypes
/// everywhere), within `family`'s tolerance on the GPU. Failures go to `r`.
pub fn assert_golden(r: &mut Report, got: &Array, want: &Value, family: Family, what: &str) {
    if let Err(e) = got.eval() {
        r.fail(format!("{what}: evaluation failed: {e}"));
        return;
    }
    if !same_dtype_and_shape(r, got, want, what) {
        return;
    }
    let wd = dtype_of(want);
    let w = bits(want);
    let g = host_bits(got);
    if !r.check(g.len() == w.len(), || format!("{what}: element count")) {
        return;
    }
    if (on_cpu() && !crate::device::blas_moves(family))
        || !(wd.is_floating() || wd == Dtype::Complex64)
    {
        let bad: Vec<usize> = (0..w.len()).filter(|&i| g[i] != w[i]).collect();
        if let Some(&i) = bad.first() {
            let gv = bits_to_values(wd, &g[i..=i]);
            let wv = bits_to_values(wd, &w[i..=i]);
            r.fail(format!(
                "{what}: {} of {} elements differ from Python MLX; first at {i}: \
                 got {gv:?} ({:#x}), want {wv:?} ({:#x})",
                bad.len(),
                w.len(),
                g[i],
                w[i]
            ));
        }
    } else {
        let (gv, wv) = (bits_to_values(wd, &g), bits_to_values(wd, &w));
        r.close_as(wd, family, what, &gv, &wv, Tol::EXACT);
    }
}

/// Whether `got` has the `"dtype"` and `"shape"` of the stored array
/// `want` (either encoding); a difference goes to `r`.
pub fn same_dtype_and_shape(r: &mut Report, got: &Array, want: &Value, what: &str) -> bool {
    let wd = dtype_of(want);
    r.check(got.dtype() == wd, || {
        format!("{what}: dtype {}, want {wd}", got.dtype())
    }) && r.check(got.shape() == &shape(&want["shape"])[..], || {
        format!("{what}: shape {:?}, want {}", got.shape(), want["shape"])
    })
}

/// What an op under test returns: one array or several, evaluated together.
pub trait Outputs: std::fmt::Debug {
    /// Evaluates every output.
    fn eval_all(&self) -> mlx_rs::Result<()>;
}

impl Outputs for Array {
    fn eval_all(&self) -> mlx_rs::Result<()> {
        self.eval()
    }
}

impl Outputs for Vec<Array> {
    fn eval_all(&self) -> mlx_rs::Result<()> {
        mlx_rs::eval(self)
    }
}

/// What is wrong with `got` as the failure `want` describes, if anything:
/// it must fail with MLX's exact `"message"`, when the op is called
/// (`"phase": "build"`) or when its outputs are evaluated (`"eval"`).
pub fn mlx_error_problem<T: Outputs>(
    got: mlx_rs::Result<T>,
    want: &Value,
    what: &str,
) -> Option<String> {
    let message = want["message"].as_str().unwrap();
    let err = match (want["phase"].as_str().unwrap(), got) {
        ("build", Err(e)) => e,
        ("build", Ok(a)) => {
            return Some(format!(
                "{what}: expected an error when building, got {a:?}"
            ))
        }
        ("eval", Ok(a)) => match a.eval_all() {
            Err(e) => e,
            Ok(()) => return Some(format!("{what}: expected an error when evaluating")),
        },
        ("eval", Err(e)) => {
            return Some(format!(
                "{what}: expected an error when evaluating, got {e:?} when building"
            ))
        }
        (p, _) => panic!("unknown phase {p}"),
    };
    match err {
        Error::Mlx { message: m, .. } if m == message => None,
        Error::Mlx { message: m, .. } => Some(format!("{what}: {m:?}, Python {message:?}")),
        other => Some(format!(
            "{what}: expected MLX's error {message:?}, got {other:?}"
        )),
    }
}

/// Checks that `got` fails as Python MLX did ([`mlx_error_problem`]).
/// Failures go to `r`.
pub fn assert_mlx_error<T: Outputs>(
    r: &mut Report,
    got: mlx_rs::Result<T>,
    want: &Value,
    what: &str,
) {
    if let Some(problem) = mlx_error_problem(got, want, what) {
        r.fail(problem);
    }
}
