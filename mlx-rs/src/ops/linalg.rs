//! Linear algebra: norms, factorizations (QR, SVD, LU, Cholesky), inverses,
//! linear solves, eigen decompositions, determinants and the cross product
//! (mlx-c's `linalg.h`, all 21 functions).
//!
//! ```
//! use mlx_rs::ops::linalg;
//! use mlx_rs::Array;
//! let a = Array::from_slice(&[4.0f32, 1.0, 1.0, 3.0], &[2, 2])?;
//! let b = Array::from_slice(&[1.0f32, 2.0], &[2])?;
//! let x = linalg::solve(&a, &b)?; // runs on the CPU
//! let v = x.to_vec::<f32>()?;
//! assert!((v[0] - 1.0 / 11.0).abs() < 1e-6 && (v[1] - 7.0 / 11.0).abs() < 1e-6);
//! assert_eq!(linalg::norm(&b, None, None, false)?.item::<f32>()?, 5f32.sqrt());
//! # Ok::<(), mlx_rs::Error>(())
//! ```
//!
//! # Streams: the CPU by default
//! MLX 0.32.2 implements the factorizations on the CPU only (through
//! LAPACK): its CUDA backend has no kernel for LU, QR, SVD, the inverse,
//! Cholesky, Eig or Eigh, and before any kernel runs, `linalg` checks the
//! stream of QR, SVD, LU, Cholesky, the inverses, the solves, the eigen
//! decompositions and the determinants, refusing a GPU stream on CUDA and
//! Metal builds alike ("This op is not yet supported on the GPU. Explicitly
//! pass a CPU stream to run it."). So the plain form of each of those
//! functions runs on [the CPU stream](linalg_stream): the current stream if
//! it is a CPU stream, else this thread's default CPU stream. Their `_on`
//! forms take any stream and pass it on, so a GPU stream gets MLX's error.
//! [`norm`] and [`cross`] run anywhere and use [`Stream::current`], except
//! that the matrix norms computed through an SVD (`ord` ±2 and
//! [`NormOrd::Nuc`]) take the CPU stream too.
//!
//! MLX's CPU backend implements every function here, for some dtypes
//! only: the factorizations take `float32` or `float64` (SVD and the eigen
//! decompositions also `complex64`; no `float16`/`bfloat16`, no integers),
//! and `float64` exists on the CPU only. Batches: every function works on
//! the last two axes and maps over the others.
//!
//! # Checks MLX lacks
//! Two inputs would end the process inside MLX 0.32.2's CPU backend; they
//! are refused here with an `Err` instead:
//! - a matrix with a zero dimension (`0×0`, `3×0`, …) given to [`inv`],
//!   [`tri_inv`], [`cholesky_inv`], [`lu`], [`lu_factor`], [`solve`] or
//!   [`solve_triangular`] (an integer division by zero, `SIGFPE`);
//! - a matrix holding NaN or infinity given to [`eig`] or [`eigvals`]
//!   (LAPACK's `xGEBAL` rejects it and the reference LAPACK that MLX ships
//!   stops the process). These two evaluate their input to check it.

use crate::device::{Device, DeviceType};
use crate::error::{Error, Result};
use crate::ops::support::op;
use crate::stream::Stream;
use crate::Array;

/// The stream the CPU-only functions of this module run on when none is
/// given: the current stream ([`Stream::current`]) when it is on the CPU,
/// else this thread's default CPU stream.
///
/// # Errors
/// [`Error::Mlx`] if MLX cannot report its streams.
pub fn linalg_stream() -> Result<Stream> {
    let current = Stream::current()?;
    if current.device()?.kind() == DeviceType::Cpu {
        Ok(current)
    } else {
        Stream::default_for(Device::cpu())
    }
}

/// Takes exactly `N` arrays out of `v`.
fn take<const N: usize>(op: &'static str, v: Vec<Array>) -> Result<[Array; N]> {
    let len = v.len();
    v.try_into().map_err(|_| Error::Mlx {
        op,
        message: format!("expected {N} arrays from MLX, got {len}"),
        location: None,
    })
}

/// Refuses a matrix with a zero dimension, which MLX 0.32.2's LU-based CPU
/// kernels divide by (`SIGFPE`). Called after MLX accepted the arguments,
/// so MLX's own messages keep precedence.
fn refuse_empty_matrix(a: &Array, out: Array) -> Result<Array> {
    let s = a.shape();
    if s.len() >= 2 && (s[s.len() - 1] == 0 || s[s.len() - 2] == 0) {
        return Err(Error::InvalidShape {
            shape: s.iter().map(|&d| i64::from(d)).collect(),
            reason: "MLX 0.32.2 divides by zero on a matrix with a zero dimension \
                     (inverse, LU and solves)",
        });
    }
    Ok(out)
}

/// Refuses non-finite input to `eig`/`eigvals`, which ends the process in
/// the reference LAPACK that MLX ships (`xGEBAL` → `xerbla` → `STOP`).
/// Evaluates `all(isfinite(a))` on `stream`.
fn refuse_non_finite(a: &Array, stream: &Stream) -> Result<()> {
    let finite = Array::build("mlx_isfinite", |res| {
        // SAFETY: `res` is a fresh out-param; `a` and the stream are live.
        unsafe { mlx_sys::mlx_isfinite(res, a.as_raw(), stream.as_raw()) }
    })?;
    let all = Array::build("mlx_all", |res| {
        // SAFETY: `res` is a fresh out-param; `finite` and the stream are
        // live.
        unsafe { mlx_sys::mlx_all(res, finite.as_raw(), false, stream.as_raw()) }
    })?;
    if all.item::<bool>()? {
        Ok(())
    } else {
        Err(Error::InvalidData {
            reason: "eigenvalues of a matrix holding NaN or infinity (LAPACK's xGEBAL \
                     would end the process)",
        })
    }
}

/// The order of a [`norm`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum NormOrd {
    /// A numeric order. Vectors: `sum(|x|^p)^(1/p)`, with `inf`/`-inf` the
    /// largest/smallest `|x|` and `0` the count of non-zeros. Matrices:
    /// `1`/`-1` (max/min column sum of `|x|`), `inf`/`-inf` (max/min row
    /// sum), `2`/`-2` (largest/smallest singular value; CPU only).
    P(f64),
    /// The Frobenius norm (matrices only).
    Fro,
    /// The nuclear norm, the sum of the singular values (matrices only;
    /// CPU only).
    Nuc,
}

impl NormOrd {
    /// Whether this order, over `axes` of an `ndim`-dimensional array, needs
    /// an SVD (a CPU-only op).
    fn needs_svd(self, ndim: usize, axes: Option<&[i32]>) -> bool {
        let matrix = axes.map_or(ndim == 2, |ax| ax.len() == 2);
        match self {
            NormOrd::Nuc => true,
            NormOrd::P(p) => matrix && p.abs() == 2.0,
            NormOrd::Fro => false,
        }
    }
}

/// A vector or matrix norm.
///
/// - `ord: None`: the 2-norm of the flattened array when `axes` is `None`,
///   else the 2-norm (one axis) or Frobenius norm (two axes) over `axes`.
/// - `ord: Some(_)` with `axes: None`: `a` must be 1-D or 2-D.
/// - At most two axes.
///
/// Runs on [`Stream::current`], except the SVD-based orders (`Nuc`, and
/// `P(±2)` on matrices), which run on [`linalg_stream`].
///
/// ```
/// use mlx_rs::ops::linalg::{norm, NormOrd};
/// use mlx_rs::Array;
/// let m = Array::from_slice(&[1.0f32, -2.0, 3.0, -4.0], &[2, 2])?;
/// assert_eq!(norm(&m, Some(NormOrd::P(f64::INFINITY)), None, false)?.item::<f32>()?, 7.0);
/// let cols = norm(&m, Some(NormOrd::P(1.0)), Some(&[0]), false)?;
/// assert_eq!(cols.to_vec::<f32>()?, [4.0, 6.0]);
/// # Ok::<(), mlx_rs::Error>(())
/// ```
///
/// # Errors
/// [`Error::Mlx`] with MLX's message for an invalid axis, more than two
/// axes, an order that does not exist for vectors or matrices, or `Fro` /
/// `Nuc` on a vector.
#[doc(alias = "mlx_linalg_norm")]
#[doc(alias = "mlx_linalg_norm_matrix")]
#[doc(alias = "mlx_linalg_norm_l2")]
pub fn norm(
    a: &Array,
    ord: Option<NormOrd>,
    axes: Option<&[i32]>,
    keepdims: bool,
) -> Result<Array> {
    let stream = match ord {
        Some(o) if o.needs_svd(a.ndim(), axes) => linalg_stream()?,
        _ => Stream::current()?,
    };
    norm_on(a, ord, axes, keepdims, &stream)
}

/// [`norm`] on an explicit stream.
///
/// # Errors
/// As [`norm`]; on a GPU stream, also MLX's error for the SVD-based orders.
#[doc(alias = "mlx_linalg_norm")]
#[doc(alias = "mlx_linalg_norm_matrix")]
#[doc(alias = "mlx_linalg_norm_l2")]
pub fn norm_on(
    a: &Array,
    ord: Option<NormOrd>,
    axes: Option<&[i32]>,
    keepdims: bool,
    stream: &Stream,
) -> Result<Array> {
    let (ax, n) = axes.map_or((std::ptr::null(), 0), |x| (x.as_ptr(), x.len()));
    let (a, s) = (a.as_raw(), stream.as_raw());
    match ord {
        None => Array::build("mlx_linalg_norm_l2", |res| {
            // SAFETY: `res` is a fresh out-param; `a` and `s` are live
            // handles; `ax` is null (no axes) or points at `n` ints that
            // outlive the call.
            unsafe { mlx_sys::mlx_linalg_norm_l2(res, a, ax, n, keepdims, s) }
        }),
        Some(NormOrd::P(p)) => Array::build("mlx_linalg_norm", |res| {
            // SAFETY: as above.
            unsafe { mlx_sys::mlx_linalg_norm(res, a, p, ax, n, keepdims, s) }
        }),
        Some(o) => {
            let name: &std::ffi::CStr = if o == NormOrd::Fro { c"fro" } else { c"nuc" };
            Array::build("mlx_linalg_norm_matrix", |res| {
                // SAFETY: as above; `name` is a NUL-terminated static
                // string.
                unsafe {
                    mlx_sys::mlx_linalg_norm_matrix(res, a, name.as_ptr(), ax, n, keepdims, s)
                }
            })
        }
    }
}

/// Runs an mlx-c function `(res, a, upper, stream)`.
fn with_upper(
    op: &'static str,
    a: &Array,
    upper: bool,
    stream: &Stream,
    f: unsafe extern "C" fn(
        *mut mlx_sys::mlx_array,
        mlx_sys::mlx_array,
        bool,
        mlx_sys::mlx_stream,
    ) -> i32,
) -> Result<Array> {
    Array::build(op, |res| {
        // SAFETY: `f` is an mlx-c function of this exact signature; `res`
        // is a fresh out-param; `a` and the stream are live handles.
        unsafe { f(res, a.as_raw(), upper, stream.as_raw()) }
    })
}

/// Which triangle of a symmetric (Hermitian) matrix [`eigh`] and
/// [`eigvalsh`] read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Uplo {
    /// The lower triangle (MLX's default, `"L"`).
    #[default]
    Lower,
    /// The upper triangle (`"U"`).
    Upper,
}

impl Uplo {
    fn as_cstr(self) -> &'static std::ffi::CStr {
        match self {
            Uplo::Lower => c"L",
            Uplo::Upper => c"U",
        }
    }
}

op! {
    /// The inverse of each square matrix in `a` (`float32` or `float64`).
    ///
    /// A singular matrix fails when evaluated ("LU factorization failed").
    ///
    /// Runs on [`linalg_stream`] (CPU only in MLX 0.32.2).
    ///
    /// # Errors
    /// [`Error::Mlx`] with MLX's message for fewer than two dimensions, a
    /// non-square matrix or another dtype; [`Error::InvalidShape`] for a matrix
    /// with a zero dimension (see the [module docs](self)).
    ["mlx_linalg_inv"]
    pub fn inv(a: &Array) -> Array;
    on inv_on, stream in cpu => {
        let out = crate::ops::unary("mlx_linalg_inv", a, stream, mlx_sys::mlx_linalg_inv)?;
        refuse_empty_matrix(a, out)
    }

    /// The Moore–Penrose pseudo-inverse of each matrix in `a` (through an SVD;
    /// `float32` or `float64`).
    ///
    /// Runs on [`linalg_stream`] (CPU only in MLX 0.32.2).
    ///
    /// # Errors
    /// [`Error::Mlx`] with MLX's message for fewer than two dimensions or
    /// another dtype, or (when evaluated) when the SVD fails, e.g. on NaN.
    ["mlx_linalg_pinv"]
    pub fn pinv(a: &Array) -> Array;
    on pinv_on, stream in cpu => {
        crate::ops::unary("mlx_linalg_pinv", a, stream, mlx_sys::mlx_linalg_pinv)
    }

    /// The determinant of each square matrix in `a` (through an LU
    /// factorization; integer and `float16` inputs are promoted, complex ones
    /// refused).
    ///
    /// Runs on [`linalg_stream`] (CPU only in MLX 0.32.2).
    ///
    /// # Errors
    /// [`Error::Mlx`] with MLX's message for fewer than two dimensions, a
    /// non-square matrix or a complex input.
    ["mlx_linalg_det"]
    pub fn det(a: &Array) -> Array;
    on det_on, stream in cpu => {
        crate::ops::unary("mlx_linalg_det", a, stream, mlx_sys::mlx_linalg_det)
    }

    /// The inverse of each triangular matrix in `a`: lower triangular unless
    /// `upper` (the other triangle is ignored).
    ///
    /// Runs on [`linalg_stream`] (CPU only in MLX 0.32.2).
    ///
    /// # Errors
    /// [`Error::Mlx`] with MLX's message for fewer than two dimensions, a
    /// non-square matrix or a dtype other than `float32`/`float64`;
    /// [`Error::InvalidShape`] for a matrix with a zero dimension.
    ["mlx_linalg_tri_inv"]
    pub fn tri_inv(a: &Array, upper: bool) -> Array;
    on tri_inv_on, stream in cpu => {
        let f = mlx_sys::mlx_linalg_tri_inv;
        let out = with_upper("mlx_linalg_tri_inv", a, upper, stream, f)?;
        refuse_empty_matrix(a, out)
    }

    /// The Cholesky factor of each symmetric positive-definite matrix in `a`:
    /// `L` with `a = L Lᵀ`, or `U` with `a = Uᵀ U` when `upper`. Only the
    /// chosen triangle of `a` is read; MLX does not check definiteness (the
    /// result is then meaningless, not an error).
    ///
    /// Runs on [`linalg_stream`] (CPU only in MLX 0.32.2).
    ///
    /// # Errors
    /// [`Error::Mlx`] with MLX's message for fewer than two dimensions, a
    /// non-square matrix or a dtype other than `float32`/`float64`.
    ["mlx_linalg_cholesky"]
    pub fn cholesky(a: &Array, upper: bool) -> Array;
    on cholesky_on, stream in cpu => {
        let f = mlx_sys::mlx_linalg_cholesky;
        with_upper("mlx_linalg_cholesky", a, upper, stream, f)
    }

    /// The inverse of a symmetric positive-definite matrix from its Cholesky
    /// factor `a` (lower unless `upper`).
    ///
    /// Runs on [`linalg_stream`] (CPU only in MLX 0.32.2).
    ///
    /// # Errors
    /// [`Error::Mlx`] with MLX's message for fewer than two dimensions, a
    /// non-square matrix or a dtype other than `float32`/`float64`;
    /// [`Error::InvalidShape`] for a matrix with a zero dimension.
    ["mlx_linalg_cholesky_inv"]
    pub fn cholesky_inv(a: &Array, upper: bool) -> Array;
    on cholesky_inv_on, stream in cpu => {
        let f = mlx_sys::mlx_linalg_cholesky_inv;
        let out = with_upper("mlx_linalg_cholesky_inv", a, upper, stream, f)?;
        refuse_empty_matrix(a, out)
    }

    /// The QR factorization of each matrix in `a` (`M×N`, `K = min(M, N)`):
    /// returns `(Q, R)`, `Q` of shape `M×K` with orthonormal columns and `R`
    /// of shape `K×N`, upper triangular.
    ///
    /// Runs on [`linalg_stream`] (CPU only in MLX 0.32.2).
    ///
    /// # Errors
    /// [`Error::Mlx`] with MLX's message for fewer than two dimensions or a
    /// dtype other than `float32`/`float64`.
    ["mlx_linalg_qr"]
    pub fn qr(a: &Array) -> (Array, Array);
    on qr_on, stream in cpu => {
        Array::build_pair("mlx_linalg_qr", |q, r| {
            // SAFETY: `q` and `r` are fresh out-params; `a` and the stream are
            // live handles.
            unsafe { mlx_sys::mlx_linalg_qr(q, r, a.as_raw(), stream.as_raw()) }
        })
    }

    /// The singular value decomposition `a = U · diag(S) · Vᵀ` of each matrix
    /// in `a` (`M×N`): returns `(U, S, Vt)` with `U` of shape `M×M`, `S` the
    /// `min(M, N)` singular values in descending order, and `Vt` of shape
    /// `N×N` (full matrices). `float32`, `float64` or `complex64`.
    ///
    /// The signs (phases) of matching columns of `U` and rows of `Vt` are
    /// LAPACK's choice; compare reconstructions, not factors.
    ///
    /// Runs on [`linalg_stream`] (CPU only in MLX 0.32.2).
    ///
    /// # Errors
    /// [`Error::Mlx`] with MLX's message for fewer than two dimensions or
    /// another dtype, or (when evaluated) when LAPACK fails, e.g. on NaN.
    ["mlx_linalg_svd"]
    pub fn svd(a: &Array) -> (Array, Array, Array);
    on svd_on, stream in cpu => {
        let [u, s, vt] = svd_parts(a, true, stream)?;
        Ok((u, s, vt))
    }

    /// The singular values of each matrix in `a`, in descending order (an
    /// [`svd`] without `U` and `Vt`).
    ///
    /// Runs on [`linalg_stream`] (CPU only in MLX 0.32.2).
    ///
    /// # Errors
    /// As [`svd`].
    ["mlx_linalg_svd"]
    pub fn svdvals(a: &Array) -> Array;
    on svdvals_on, stream in cpu => {
        let [s] = svd_parts(a, false, stream)?;
        Ok(s)
    }

    /// The LU factorization with partial pivoting of each matrix in `a`
    /// (`M×N`, `K = min(M, N)`): returns `(P, L, U)` where `P` holds the row
    /// permutation as `uint32` indices (`a = L[P, :] · U`), `L` is `M×K`
    /// unit lower triangular and `U` is `K×N` upper triangular.
    ///
    /// Runs on [`linalg_stream`] (CPU only in MLX 0.32.2).
    ///
    /// # Errors
    /// [`Error::Mlx`] with MLX's message for fewer than two dimensions or a
    /// dtype other than `float32`/`float64`; [`Error::InvalidShape`] for a
    /// matrix with a zero dimension.
    ["mlx_linalg_lu"]
    pub fn lu(a: &Array) -> (Array, Array, Array);
    on lu_on, stream in cpu => {
        let v = Array::build_vec("mlx_linalg_lu", |res| {
            // SAFETY: `res` is a live, empty vector out-param; `a` and the
            // stream are live handles.
            unsafe { mlx_sys::mlx_linalg_lu(res, a.as_raw(), stream.as_raw()) }
        })?;
        let [p, l, u] = take("mlx_linalg_lu", v)?;
        let p = refuse_empty_matrix(a, p)?;
        Ok((p, l, u))
    }

    /// The compact LU factorization of each matrix in `a`, as LAPACK's
    /// `getrf`: returns `(LU, pivots)`, `L` (unit diagonal implied) and `U`
    /// packed in one matrix, and the `uint32` pivot indices (row `i` was
    /// swapped with row `pivots[i]`).
    ///
    /// Runs on [`linalg_stream`] (CPU only in MLX 0.32.2).
    ///
    /// # Errors
    /// As [`lu`].
    ["mlx_linalg_lu_factor"]
    pub fn lu_factor(a: &Array) -> (Array, Array);
    on lu_factor_on, stream in cpu => {
        let (lu, piv) = Array::build_pair("mlx_linalg_lu_factor", |lu, piv| {
            // SAFETY: `lu` and `piv` are fresh out-params; `a` and the stream
            // are live handles.
            unsafe { mlx_sys::mlx_linalg_lu_factor(lu, piv, a.as_raw(), stream.as_raw()) }
        })?;
        Ok((refuse_empty_matrix(a, lu)?, piv))
    }

    /// Solves `a · x = b` for `x`, `a` square (batched; `b` a vector or a
    /// matrix of right-hand sides).
    ///
    /// A singular `a` fails when evaluated.
    ///
    /// Runs on [`linalg_stream`] (CPU only in MLX 0.32.2).
    ///
    /// # Errors
    /// [`Error::Mlx`] with MLX's message for fewer than two dimensions in `a`,
    /// a non-square `a`, shapes that do not match or a dtype other than
    /// `float32`/`float64`; [`Error::InvalidShape`] for an `a` with a zero
    /// dimension.
    ["mlx_linalg_solve"]
    pub fn solve(a: &Array, b: &Array) -> Array;
    on solve_on, stream in cpu => {
        let f = mlx_sys::mlx_linalg_solve;
        let out = crate::ops::support::array2_op("mlx_linalg_solve", a, b, stream, f)?;
        refuse_empty_matrix(a, out)
    }

    /// Solves `a · x = b` for `x` with `a` triangular: lower unless `upper`.
    ///
    /// Runs on [`linalg_stream`] (CPU only in MLX 0.32.2).
    ///
    /// # Errors
    /// As [`solve`].
    ["mlx_linalg_solve_triangular"]
    pub fn solve_triangular(a: &Array, b: &Array, upper: bool) -> Array;
    on solve_triangular_on, stream in cpu => {
        let out = Array::build("mlx_linalg_solve_triangular", |res| {
            // SAFETY: `res` is a fresh out-param; `a`, `b` and the stream are
            // live handles.
            unsafe {
                mlx_sys::mlx_linalg_solve_triangular(
                    res,
                    a.as_raw(),
                    b.as_raw(),
                    upper,
                    stream.as_raw(),
                )
            }
        })?;
        refuse_empty_matrix(a, out)
    }

    /// The eigenvalues and right eigenvectors of each square matrix in `a`:
    /// returns `(w, v)`, both `complex64`, with `a · v[:, i] = w[i] · v[:, i]`.
    /// Eigenvectors are normalized to unit length; their phase is LAPACK's
    /// choice. `float32`, `float64` or `complex64` input.
    ///
    /// Evaluates `a` first to refuse NaN and infinity (see the [module
    /// docs](self)).
    ///
    /// Runs on [`linalg_stream`] (CPU only in MLX 0.32.2).
    ///
    /// # Errors
    /// [`Error::Mlx`] with MLX's message for fewer than two dimensions, a
    /// non-square matrix or another dtype; [`Error::InvalidData`] for a
    /// non-finite entry.
    ["mlx_linalg_eig"]
    pub fn eig(a: &Array) -> (Array, Array);
    on eig_on, stream in cpu => {
        let out = Array::build_pair("mlx_linalg_eig", |w, v| {
            // SAFETY: `w` and `v` are fresh out-params; `a` and the stream are
            // live handles.
            unsafe { mlx_sys::mlx_linalg_eig(w, v, a.as_raw(), stream.as_raw()) }
        })?;
        refuse_non_finite(a, stream)?;
        Ok(out)
    }

    /// The eigenvalues of each square matrix in `a` (`complex64`), as
    /// [`eig`] without the vectors.
    ///
    /// Evaluates `a` first to refuse NaN and infinity.
    ///
    /// Runs on [`linalg_stream`] (CPU only in MLX 0.32.2).
    ///
    /// # Errors
    /// As [`eig`].
    ["mlx_linalg_eigvals"]
    pub fn eigvals(a: &Array) -> Array;
    on eigvals_on, stream in cpu => {
        let f = mlx_sys::mlx_linalg_eigvals;
        let out = crate::ops::unary("mlx_linalg_eigvals", a, stream, f)?;
        refuse_non_finite(a, stream)?;
        Ok(out)
    }

    /// The eigenvalues (ascending, real) and orthonormal eigenvectors (columns)
    /// of each symmetric or Hermitian matrix in `a`, reading the triangle
    /// `uplo`: returns `(w, v)`. `float32`, `float64` or `complex64` input.
    ///
    /// Runs on [`linalg_stream`] (CPU only in MLX 0.32.2).
    ///
    /// # Errors
    /// [`Error::Mlx`] with MLX's message for fewer than two dimensions, a
    /// non-square matrix or another dtype, or (when evaluated) when LAPACK
    /// fails to converge, e.g. on NaN.
    ["mlx_linalg_eigh"]
    pub fn eigh(a: &Array, uplo: Uplo) -> (Array, Array);
    on eigh_on, stream in cpu => {
        let uplo = uplo.as_cstr();
        Array::build_pair("mlx_linalg_eigh", |w, v| {
            // SAFETY: `w` and `v` are fresh out-params; `a` and the stream are
            // live handles; the UPLO string is NUL-terminated and static.
            unsafe { mlx_sys::mlx_linalg_eigh(w, v, a.as_raw(), uplo.as_ptr(), stream.as_raw()) }
        })
    }

    /// The eigenvalues (ascending, real) of each symmetric or Hermitian matrix
    /// in `a`, reading the triangle `uplo`.
    ///
    /// Runs on [`linalg_stream`] (CPU only in MLX 0.32.2).
    ///
    /// # Errors
    /// As [`eigh`].
    ["mlx_linalg_eigvalsh"]
    pub fn eigvalsh(a: &Array, uplo: Uplo) -> Array;
    on eigvalsh_on, stream in cpu => {
        let uplo = uplo.as_cstr();
        Array::build("mlx_linalg_eigvalsh", |res| {
            // SAFETY: `res` is a fresh out-param; `a` and the stream are live
            // handles; the UPLO string is NUL-terminated and static.
            unsafe { mlx_sys::mlx_linalg_eigvalsh(res, a.as_raw(), uplo.as_ptr(), stream.as_raw()) }
        })
    }

    /// The sign and the natural logarithm of the absolute value of the
    /// determinant of each square matrix in `a`: returns `(sign, logabsdet)`
    /// (`sign` is 0 and `logabsdet` −inf for a singular matrix).
    ///
    /// Runs on [`linalg_stream`] (CPU only in MLX 0.32.2).
    ///
    /// # Errors
    /// As [`det`].
    ["mlx_linalg_slogdet"]
    pub fn slogdet(a: &Array) -> (Array, Array);
    on slogdet_on, stream in cpu => {
        Array::build_pair("mlx_linalg_slogdet", |sign, logdet| {
            // SAFETY: `sign` and `logdet` are fresh out-params; `a` and the
            // stream are live handles.
            unsafe { mlx_sys::mlx_linalg_slogdet(sign, logdet, a.as_raw(), stream.as_raw()) }
        })
    }
}

op! {
    /// The cross product of `a` and `b` along `axis` (of size 3; size 2 is
    /// taken as a zero third component). Shapes broadcast.
    ///
    /// Runs on [`Stream::current`] (any device).
    ///
    /// # Errors
    /// [`Error::Mlx`] with MLX's message for an axis out of range, an axis of
    /// size other than 2 or 3, or shapes that do not broadcast.
    ["mlx_linalg_cross"]
    pub fn cross(a: &Array, b: &Array, axis: i32) -> Array;
    on cross_on, stream => {
        Array::build("mlx_linalg_cross", |res| {
            // SAFETY: `res` is a fresh out-param; `a`, `b` and the stream are
            // live handles.
            unsafe { mlx_sys::mlx_linalg_cross(res, a.as_raw(), b.as_raw(), axis, stream.as_raw()) }
        })
    }
}

/// The `N` arrays of an SVD of `a`: `[U, S, Vt]` when `uv`, else `[S]`.
fn svd_parts<const N: usize>(a: &Array, uv: bool, stream: &Stream) -> Result<[Array; N]> {
    let v = Array::build_vec("mlx_linalg_svd", |res| {
        // SAFETY: `res` is a live, empty vector out-param; `a` and the
        // stream are live handles.
        unsafe { mlx_sys::mlx_linalg_svd(res, a.as_raw(), uv, stream.as_raw()) }
    })?;
    take("mlx_linalg_svd", v)
}
