//! One test body, run per device (docs/gpu.md).
//!
//! Every test binary runs on MLX's default device: the CPU in a plain
//! `cargo test`, the GPU when the binaries are built with the `cuda` feature
//! and run with `MLX_RS_DEFAULT_DEVICE=gpu` (`scripts/gpu/run.sh`). What the
//! tests share to do that lives here, in one place:
//!
//! - [`on_gpu`]: where the op under test runs (the current stream's device);
//! - harness work that must not depend on that device: [`host_f64`] reads
//!   values on the host (no MLX op, so never a `float64` array on the GPU)
//!   and [`on_cpu_stream`] runs golden decoding on the CPU;
//! - [`Family`]: the single table of GPU tolerances, keyed by op family;
//! - [`Report`]: compares results, prints one `GPU-DIFF` line per comparison
//!   on the GPU and reports every failure of a test at its end;
//! - [`assert_f64_refused`]: MLX's `float64` refusal on the GPU.
//!
//! On the CPU the table is not used: each comparison keeps the strictness
//! its test states (bit for bit against Python MLX where it was).
//!
//! Included by the test files of mlx-rs (`mod device;`, the support modules
//! reach it as `crate::device`) and of mlx-lm (`#[path]`).

#![allow(dead_code)]

use std::fmt;
use std::io::Write;

use mlx_rs::{bf16, f16, Array, Complex32, Device, DeviceType, Dtype, Error, Stream};

/// Whether the op under test runs on the GPU: the device of the current
/// stream (MLX's default device, unless a `with_stream` scope says
/// otherwise).
pub fn on_gpu() -> bool {
    current_device().kind() == DeviceType::Gpu
}

/// Whether the op under test runs on the CPU.
pub fn on_cpu() -> bool {
    !on_gpu()
}

/// The device of the current stream.
pub fn current_device() -> Device {
    Stream::current()
        .and_then(|s| s.device())
        .expect("the current stream and its device")
}

/// This thread's default stream on the CPU.
pub fn cpu_stream() -> Stream {
    Stream::default_for(Device::cpu()).expect("the CPU's default stream")
}

/// Runs `f` with this thread's CPU stream as the current stream: for
/// harness work (decoding golden data the way the generator built it,
/// setting up inputs of the op under test) that must give the CPU's result
/// whatever the default device. Nothing inside should be the op under test.
pub fn on_cpu_stream<R>(f: impl FnOnce() -> R) -> R {
    mlx_rs::with_stream(&cpu_stream(), f)
}

/// `a`'s elements as `f64`, read and converted on the host (evaluating `a`
/// on its own stream, but building no MLX op): exact for every real dtype
/// but `uint64`/`int64` beyond 2^53. Complex elements give their real and
/// imaginary parts, interleaved.
pub fn host_f64(a: &Array) -> Vec<f64> {
    fn read<T: mlx_rs::ArrayElement>(a: &Array, f: impl Fn(T) -> f64) -> Vec<f64> {
        a.to_vec::<T>()
            .unwrap_or_else(|e| panic!("reading {:?} {:?}: {e}", a.dtype(), a.shape()))
            .into_iter()
            .map(f)
            .collect()
    }
    match a.dtype() {
        Dtype::Bool => read(a, |x: bool| f64::from(u8::from(x))),
        Dtype::Uint8 => read(a, |x: u8| f64::from(x)),
        Dtype::Uint16 => read(a, |x: u16| f64::from(x)),
        Dtype::Uint32 => read(a, |x: u32| f64::from(x)),
        Dtype::Uint64 => read(a, |x: u64| x as f64),
        Dtype::Int8 => read(a, |x: i8| f64::from(x)),
        Dtype::Int16 => read(a, |x: i16| f64::from(x)),
        Dtype::Int32 => read(a, |x: i32| f64::from(x)),
        Dtype::Int64 => read(a, |x: i64| x as f64),
        Dtype::Float16 => read(a, |x: f16| f64::from(x)),
        Dtype::Bfloat16 => read(a, |x: bf16| f64::from(x)),
        Dtype::Float32 => read(a, |x: f32| f64::from(x)),
        Dtype::Float64 => read(a, |x: f64| x),
        Dtype::Complex64 => a
            .to_vec::<Complex32>()
            .unwrap()
            .into_iter()
            .flat_map(|c| [f64::from(c.re), f64::from(c.im)])
            .collect(),
        other => panic!("no host reader for {other}"),
    }
}

/// The raw bits of `a`'s elements, read on the host (complex64: the pair's
/// 64 bits, real part low): for exact comparisons of any dtype.
pub fn host_bits(a: &Array) -> Vec<u64> {
    fn map<T: mlx_rs::ArrayElement>(a: &Array, f: impl Fn(T) -> u64) -> Vec<u64> {
        a.to_vec::<T>().unwrap().into_iter().map(f).collect()
    }
    match a.dtype() {
        Dtype::Bool => map(a, |x: bool| u64::from(x)),
        Dtype::Uint8 => map(a, |x: u8| u64::from(x)),
        Dtype::Uint16 => map(a, |x: u16| u64::from(x)),
        Dtype::Uint32 => map(a, |x: u32| u64::from(x)),
        Dtype::Uint64 => map(a, |x: u64| x),
        Dtype::Int8 => map(a, |x: i8| u64::from(x as u8)),
        Dtype::Int16 => map(a, |x: i16| u64::from(x as u16)),
        Dtype::Int32 => map(a, |x: i32| u64::from(x as u32)),
        Dtype::Int64 => map(a, |x: i64| x as u64),
        Dtype::Float16 => map(a, |x: f16| u64::from(x.to_bits())),
        Dtype::Bfloat16 => map(a, |x: bf16| u64::from(x.to_bits())),
        Dtype::Float32 => map(a, |x: f32| u64::from(x.to_bits())),
        Dtype::Float64 => map(a, |x: f64| x.to_bits()),
        Dtype::Complex64 => map(a, |x: Complex32| {
            u64::from(x.re.to_bits()) | (u64::from(x.im.to_bits()) << 32)
        }),
        other => panic!("no bit reader for {other}"),
    }
}

/// `a`'s elements as `f32`, read on the host (float dtypes up to 32 bits).
pub fn host_f32(a: &Array) -> Vec<f32> {
    match a.dtype() {
        Dtype::Float32 => a.to_vec::<f32>().unwrap(),
        Dtype::Float16 => a
            .to_vec::<f16>()
            .unwrap()
            .into_iter()
            .map(f32::from)
            .collect(),
        Dtype::Bfloat16 => a
            .to_vec::<bf16>()
            .unwrap()
            .into_iter()
            .map(f32::from)
            .collect(),
        other => panic!("host_f32 reads float16/bfloat16/float32, not {other}"),
    }
}

// ------------------------------------------------------------- float64

/// MLX's message when a `float64` array meets a GPU stream: MLX 0.32.2
/// raises it while building the op (the array constructor checks the
/// inputs and the output of every op placed on a GPU stream).
pub const F64_UNSUPPORTED: &str = "float64 is not supported on the GPU";

/// Asserts that `r` is MLX's refusal of `float64` on the GPU.
#[track_caller]
pub fn assert_f64_refused<T: fmt::Debug>(r: mlx_rs::Result<T>, what: &str) {
    match r {
        Err(Error::Mlx { message, .. }) => {
            assert_eq!(message, F64_UNSUPPORTED, "{what}: MLX's float64 refusal")
        }
        other => panic!("{what}: expected MLX's {F64_UNSUPPORTED:?}, got {other:?}"),
    }
}

/// Runs `f`, an op with a `float64` input or output: on the CPU as it is;
/// on the GPU it must first be MLX's refusal, and then runs on the CPU
/// stream, so that what does not depend on the device is still checked.
#[track_caller]
pub fn float64_op<R: fmt::Debug>(
    what: &str,
    f: impl Fn() -> mlx_rs::Result<R>,
) -> mlx_rs::Result<R> {
    if on_gpu() {
        assert_f64_refused(f(), what);
        on_cpu_stream(f)
    } else {
        f()
    }
}

// ---------------------------------------------------------- tolerances

/// Absolute and relative tolerance: `|got − want| ≤ atol + rtol·|want|`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tol {
    pub atol: f64,
    pub rtol: f64,
}

impl Tol {
    /// Equal values (NaN equals NaN; on the CPU the support modules compare
    /// bits instead where the test is bit for bit).
    pub const EXACT: Tol = Tol {
        atol: 0.0,
        rtol: 0.0,
    };

    pub const fn new(atol: f64, rtol: f64) -> Tol {
        Tol { atol, rtol }
    }

    /// The looser of two tolerances, component by component.
    pub fn max(self, other: Tol) -> Tol {
        Tol {
            atol: self.atol.max(other.atol),
            rtol: self.rtol.max(other.rtol),
        }
    }

    /// Whether `got` is within the tolerance of `want` (equal infinities
    /// and NaNs pass).
    pub fn accepts(self, got: f64, want: f64) -> bool {
        got == want
            || (got.is_nan() && want.is_nan())
            || (got - want).abs() <= self.atol + self.rtol * want.abs()
    }
}

/// Op families, each with its tolerance on the GPU against the CPU's
/// (Python MLX's) results: the one table of the suite (docs/gpu.md has it
/// with the reasons and what an H200 run measured). A GPU run prints one
/// `GPU-DIFF` line per comparison with the measured maxima.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Family {
    /// Data movement and integer/boolean results (take, gather, copy,
    /// slices, comparisons): identical on every device.
    Exact,
    /// Correctly rounded float arithmetic (add, multiply, divide, sqrt,
    /// casts): a few ulps where a GPU contracts to fused multiply-add.
    Elementwise,
    /// exp, log, sin, tanh, erf, erfinv, sigmoid, silu, gelu, power...:
    /// CUDA's libdevice is within 1-4 ulps, not correctly rounded.
    Transcendental,
    /// sum, mean, prod, var, std, logsumexp, softmax, scans, norms: another
    /// summation order (tree / warp shuffles).
    Reduction,
    /// float32 matmul, linear layers, convolutions: TF32 on the GPU by
    /// default (`MLX_ENABLE_TF32`), a 10-bit mantissa per operand.
    Matmul,
    /// Dequantized values of the fp modes (mxfp4, mxfp8, nvfp4) quantized
    /// on the GPU, against the CPU's: the block scale may round another way.
    QuantizeFp,
    /// Dequantizing the same packed weights: the GPU kernel's
    /// `scale * q + bias` may be one fused multiply-add.
    Dequantize,
    /// quantized_matmul with float32 activations (same packed weights).
    QuantizedMatmul,
    /// quantized_matmul with float16/bfloat16 activations.
    QuantizedMatmulHalf,
    /// gather_qmm (same packed weights).
    GatherQmm,
    /// qqmm: the activations are quantized on the device too.
    Qqmm,
    /// scaled_dot_product_attention.
    Sdpa,
    /// fast::rms_norm and nn::RmsNorm.
    RmsNorm,
    /// fast::layer_norm and nn::LayerNorm.
    LayerNorm,
    /// fast::rope and nn::Rope (sin/cos of the positions).
    Rope,
    /// FFTs (cuFFT against pocketfft), at most 24 points.
    Fft,
    /// Floating samplers of `random` (erfinv, log of the same bits).
    RandomFloat,
    /// Logits of a whole transformer (matmuls, norms, attention, rope).
    TransformerLogits,
}

impl Family {
    /// Every family, in the table's order.
    pub const ALL: [Family; 18] = [
        Family::Exact,
        Family::Elementwise,
        Family::Transcendental,
        Family::Reduction,
        Family::Matmul,
        Family::QuantizeFp,
        Family::Dequantize,
        Family::QuantizedMatmul,
        Family::QuantizedMatmulHalf,
        Family::GatherQmm,
        Family::Qqmm,
        Family::Sdpa,
        Family::RmsNorm,
        Family::LayerNorm,
        Family::Rope,
        Family::Fft,
        Family::RandomFloat,
        Family::TransformerLogits,
    ];

    /// The name in `GPU-DIFF` lines and docs/gpu.md.
    pub const fn name(self) -> &'static str {
        match self {
            Family::Exact => "exact",
            Family::Elementwise => "elementwise",
            Family::Transcendental => "transcendental",
            Family::Reduction => "reduction",
            Family::Matmul => "matmul",
            Family::QuantizeFp => "quantize_fp",
            Family::Dequantize => "dequantize",
            Family::QuantizedMatmul => "quantized_matmul",
            Family::QuantizedMatmulHalf => "quantized_matmul_half",
            Family::GatherQmm => "gather_qmm",
            Family::Qqmm => "qqmm",
            Family::Sdpa => "sdpa",
            Family::RmsNorm => "rms_norm",
            Family::LayerNorm => "layer_norm",
            Family::Rope => "rope",
            Family::Fft => "fft",
            Family::RandomFloat => "random_float",
            Family::TransformerLogits => "transformer_logits",
        }
    }

    /// The tolerance on the GPU. THE TABLE: keep docs/gpu.md in step (it
    /// also has the maxima measured on an H200; all are inside).
    pub const fn gpu_tol(self) -> Tol {
        match self {
            Family::Exact => Tol::new(0.0, 0.0),
            // a few float32 ulps (2^-23 ≈ 1.2e-7 relative)
            Family::Elementwise => Tol::new(1e-6, 1e-6),
            // libdevice: ≤ 4 ulps on the documented ranges
            Family::Transcendental => Tol::new(1e-6, 1e-5),
            // n ≤ 100 terms of O(1): n·2^-24·Σ|x| ≲ 1e-5
            Family::Reduction => Tol::new(1e-5, 1e-5),
            // TF32: each operand rounded to 11 significant bits (2^-11 ≈
            // 4.9e-4), ~1e-3 per product; K ≤ 64 products of O(1) summing
            // to O(√K) give ~1e-2 worst case
            Family::Matmul => Tol::new(1e-2, 2e-3),
            // one level of the format at the largest block scale of the
            // golden input (|w| ≤ 3.2: scale ≤ 1, level gap ≤ 2·scale);
            // the invariant check of the test is the strict one
            Family::QuantizeFp => Tol::new(1.0, 0.0),
            // one fused multiply-add: ≤ 1 ulp of max(|scale·q|, |bias|) ≤ 4
            Family::Dequantize => Tol::new(1e-6, 1e-6),
            // K = 128 of O(1) terms; a TF32-class tensor-core kernel gives
            // ~1e-3·√128 ≈ 1e-2, a float32 kernel ~1e-5
            Family::QuantizedMatmul => Tol::new(2e-2, 2e-3),
            // measured on the H200: max |diff| 0.25 in bfloat16 (8 ulps of
            // outputs near 8), 0.031 in float16
            Family::QuantizedMatmulHalf => Tol::new(0.25, 1.6e-2),
            // float32 gather_qmv (the only CUDA gather_qmm kernel)
            Family::GatherQmm => Tol::new(1e-4, 1e-4),
            // activations quantized on the device; one element on a
            // neighbouring level moves an O(10) output by ~0.1
            Family::Qqmm => Tol::new(1e-1, 1e-2),
            // the unfused float32 path is two TF32 matmuls (D = 8, T = 7)
            // around a softmax
            Family::Sdpa => Tol::new(5e-3, 5e-3),
            Family::RmsNorm => Tol::new(1e-5, 1e-5),
            Family::LayerNorm => Tol::new(1e-5, 1e-5),
            // sin/cos of positions ≤ 10 rad: a few ulps of the angle
            Family::Rope => Tol::new(1e-5, 1e-5),
            Family::Fft => Tol::new(1e-5, 1e-5),
            Family::RandomFloat => Tol::new(1e-5, 1e-5),
            // measured ~2e-2 on the float model with TF32 (last GPU run,
            // from the failures; not yet per run), ×2.5
            Family::TransformerLogits => Tol::new(5e-2, 0.0),
        }
    }

    /// Whether the CPU result goes through BLAS (`cblas_sgemm`).
    pub const fn uses_blas(self) -> bool {
        matches!(
            self,
            Family::Matmul | Family::Sdpa | Family::TransformerLogits
        )
    }

    /// The tolerance on the CPU when MLX calls another BLAS than the wheel's
    /// reference one, which made the Python goldens (`mlx_sys::BLAS` is
    /// not `"reference"`; OpenBLAS by default): its kernels sum in another
    /// order, so float results move by a few ulps. Measured with Debian's
    /// OpenBLAS 0.3.21: docs/benchmarks/cpu-blas.md.
    pub const fn blas_tol(self) -> Tol {
        match self {
            Family::TransformerLogits => Tol::new(1e-4, 1e-4),
            _ => Tol::new(1e-6, 1e-5),
        }
    }

    /// The tolerance a comparison uses: `cpu` on the CPU (what the test
    /// states there; [`Tol::EXACT`] for bit-for-bit tests), loosened to
    /// [`blas_tol`](Self::blas_tol) where [`blas_moves`] says so, the
    /// looser of `cpu` and the table's on the GPU.
    pub fn tol(self, cpu: Tol) -> Tol {
        if on_gpu() {
            cpu.max(self.gpu_tol())
        } else if blas_moves(self) {
            cpu.max(self.blas_tol())
        } else {
            cpu
        }
    }

    /// [`tol`](Self::tol) for a result of `dtype`: on the GPU a float16 or
    /// bfloat16 result may also be one ulp of its own dtype away (the table
    /// is for float32; rtol ≥ 2^-10 resp. 2^-7).
    pub fn tol_for(self, cpu: Tol, dtype: Dtype) -> Tol {
        let t = self.tol(cpu);
        match dtype {
            _ if !on_gpu() => t,
            Dtype::Float16 => t.max(Tol::new(0.0, HALF_ULP)),
            Dtype::Bfloat16 => t.max(Tol::new(0.0, BF16_ULP)),
            _ => t,
        }
    }
}

/// Whether a bit-for-bit CPU golden of `family` is compared within
/// [`Family::blas_tol`] instead: on the CPU, for a family that calls BLAS,
/// when the build linked a BLAS other than the wheel's reference one.
pub fn blas_moves(family: Family) -> bool {
    on_cpu() && family.uses_blas() && mlx_sys::BLAS != "reference"
}

/// The family of a result computed by LAPACK (linalg factorizations and
/// what builds on them): `default` with the wheel's reference LAPACK, which
/// made the Python goldens; [`Family::Matmul`] (so [`Family::blas_tol`])
/// on the CPU when the build linked another BLAS/LAPACK (OpenBLAS), whose
/// kernels sum in another order.
pub fn lapack_family(default: Family) -> Family {
    if on_cpu() && mlx_sys::BLAS != "reference" {
        Family::Matmul
    } else {
        default
    }
}

/// One ulp of a float16 value, relative to it (at most 2^-10).
pub const HALF_ULP: f64 = 1.0 / 1024.0;
/// One ulp of a bfloat16 value, relative to it (at most 2^-7).
pub const BF16_ULP: f64 = 1.0 / 128.0;

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

// ---------------------------------------------------------- reporting

/// Writes one line to the process's stderr directly: not through
/// `eprintln!`, which the test harness captures for passing tests, so the
/// line appears in every run without `--nocapture`.
pub fn stderr_line(line: &str) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{line}");
}

/// A case name as one whitespace-free field of a `GPU-DIFF` line.
fn field(s: &str) -> String {
    let f: String = s
        .chars()
        .map(|c| if c.is_whitespace() { '_' } else { c })
        .collect();
    if f.is_empty() {
        "-".into()
    } else {
        f
    }
}

/// The largest absolute and relative differences of `got` against `want`,
/// and how many elements `tol` rejects.
#[derive(Debug, Clone, Copy)]
pub struct Diff {
    pub n: usize,
    pub max_abs: f64,
    pub max_rel: f64,
    /// The element with the largest absolute difference.
    pub worst: usize,
    pub bad: usize,
    pub first_bad: Option<usize>,
}

impl Diff {
    pub fn of(got: &[f64], want: &[f64], tol: Tol) -> Diff {
        assert_eq!(got.len(), want.len(), "compared lengths");
        let mut d = Diff {
            n: got.len(),
            max_abs: 0.0,
            max_rel: 0.0,
            worst: 0,
            bad: 0,
            first_bad: None,
        };
        for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
            let same = g == w || (g.is_nan() && w.is_nan());
            let abs = if same { 0.0 } else { (g - w).abs() };
            // NaN against a number, or unequal infinities: infinitely far
            let abs = if abs.is_nan() { f64::INFINITY } else { abs };
            if abs > d.max_abs {
                d.max_abs = abs;
                d.worst = i;
            }
            if w != 0.0 && abs > 0.0 {
                d.max_rel = d.max_rel.max(abs / w.abs());
            } else if abs > 0.0 {
                d.max_rel = f64::INFINITY;
            }
            if !tol.accepts(g, w) {
                d.bad += 1;
                d.first_bad.get_or_insert(i);
            }
        }
        d
    }
}

/// The failures of one test, reported together at its end; on the GPU
/// also one `GPU-DIFF` line per tolerance comparison:
///
/// ```text
/// GPU-DIFF <family> <case> n=<elements> max_abs=<x> max_rel=<y> tol=<atol>/<rtol> bad=<k> ok|FAIL
/// ```
///
/// `finish` panics with every failure; dropping an unfinished report with
/// failures (outside a panic) panics too.
#[derive(Default)]
pub struct Report {
    failures: Vec<String>,
    comparisons: usize,
    finished: bool,
}

impl Report {
    pub fn new() -> Report {
        Report::default()
    }

    /// Compares float32 values: `cpu` is the tolerance on the CPU (what
    /// the test states there), the GPU uses [`Family::tol`]. Prints a
    /// `GPU-DIFF` line on the GPU. Returns whether every element passed.
    pub fn close(
        &mut self,
        family: Family,
        case: &str,
        got: &[f64],
        want: &[f64],
        cpu: Tol,
    ) -> bool {
        self.close_as(Dtype::Float32, family, case, got, want, cpu)
    }

    /// [`close`](Self::close) for values of `dtype` ([`Family::tol_for`]).
    pub fn close_as(
        &mut self,
        dtype: Dtype,
        family: Family,
        case: &str,
        got: &[f64],
        want: &[f64],
        cpu: Tol,
    ) -> bool {
        self.comparisons += 1;
        if got.len() != want.len() {
            self.fail(format!("{case}: {} values, want {}", got.len(), want.len()));
            return false;
        }
        let tol = family.tol_for(cpu, dtype);
        let d = Diff::of(got, want, tol);
        if on_gpu() {
            stderr_line(&format!(
                "GPU-DIFF {family} {} n={} max_abs={:.3e} max_rel={:.3e} tol={:e}/{:e} bad={} {}",
                field(case),
                d.n,
                d.max_abs,
                d.max_rel,
                tol.atol,
                tol.rtol,
                d.bad,
                if d.bad == 0 { "ok" } else { "FAIL" }
            ));
        }
        if let Some(i) = d.first_bad {
            self.fail(format!(
                "{case} [{family}]: {} of {} elements beyond {tol:?}; first at {i}: got {}, want {}; \
                 max |diff| {:.3e} at {}",
                d.bad, d.n, got[i], want[i], d.max_abs, d.worst
            ));
            return false;
        }
        true
    }

    /// Compares two arrays (read on the host) as [`close`](Self::close).
    pub fn close_arrays(
        &mut self,
        family: Family,
        case: &str,
        got: &Array,
        want: &Array,
        cpu: Tol,
    ) -> bool {
        if got.shape() != want.shape() {
            self.fail(format!(
                "{case}: shape {:?}, want {:?}",
                got.shape(),
                want.shape()
            ));
            return false;
        }
        self.close_as(
            got.dtype(),
            family,
            case,
            &host_f64(got),
            &host_f64(want),
            cpu,
        )
    }

    /// Records `message` as a failure when `ok` is false.
    pub fn check(&mut self, ok: bool, message: impl FnOnce() -> String) -> bool {
        if !ok {
            self.fail(message());
        }
        ok
    }

    /// Records a failure.
    pub fn fail(&mut self, message: String) {
        self.failures.push(message);
    }

    /// Whether nothing failed so far.
    pub fn is_clean(&self) -> bool {
        self.failures.is_empty()
    }

    /// Panics listing every failure, if any.
    #[track_caller]
    pub fn finish(mut self) {
        self.finished = true;
        let failures = std::mem::take(&mut self.failures);
        assert!(
            failures.is_empty(),
            "{} failure(s) ({} tolerance comparisons):\n  {}",
            failures.len(),
            self.comparisons,
            failures.join("\n  ")
        );
    }
}

impl Drop for Report {
    fn drop(&mut self) {
        if !self.finished && !self.failures.is_empty() && !std::thread::panicking() {
            panic!(
                "unfinished report with failures:\n  {}",
                self.failures.join("\n  ")
            );
        }
    }
}

// ------------------------------------------------ known MLX GPU bugs

/// Affine `quantized_matmul` shapes `(mode, M, N, K)` where MLX 0.32.2's
/// CUDA kernel returns garbage (uninitialised values, different each run):
/// seen from Rust and from Python MLX on the same libmlx
/// (`scripts/gpu/qmm_sweep.py`), on an H200. Common to all: 1 < M < 8 and
/// K equal to the group size (one group per row) with 4 or 8 bits. Every
/// other mode and shape of `quantized_matmul_is_x_times_dequantized_w`
/// agrees with `x·ŵᵀ`. See docs/gpu.md.
pub const GPU_QMM_MISMATCHES: &[(&str, i32, i32, i32)] = &[
    ("affine (4 bits, group size 128)", 2, 4, 128),
    ("affine (4 bits, group size 128)", 3, 16, 128),
    ("affine (8 bits, group size 128)", 2, 4, 128),
    ("affine (8 bits, group size 128)", 3, 16, 128),
    // ops_golden.rs's `quantized_matmul` case
    ("affine (4 bits, group size 64)", 2, 4, 64),
];

/// Whether `quantized_matmul` of this mode and shape is a known MLX GPU
/// mismatch on the device under test (never on the CPU).
pub fn known_gpu_qmm_mismatch(mode: &str, m: i32, n: i32, k: i32) -> bool {
    on_gpu() && GPU_QMM_MISMATCHES.contains(&(mode, m, n, k))
}

/// `max |got − want| / max |want|`: the largest error relative to the
/// largest value (NaN for an all-zero `want`).
pub fn rel_to_max(got: &[f64], want: &[f64]) -> f64 {
    let scale = want.iter().fold(0.0f64, |a, v| a.max(v.abs()));
    let err = got
        .iter()
        .zip(want)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    err / scale
}

/// For a known MLX GPU mismatch: asserts that `got` is still far from
/// `want` (so the day MLX fixes it, the test says so) and notes it.
pub fn assert_known_mismatch(r: &mut Report, got: &[f64], want: &[f64], what: &str) {
    let err = rel_to_max(got, want);
    stderr_line(&format!(
        "GPU-NOTE known_qmm_mismatch {} rel_to_max={err:.3e}",
        field(what)
    ));
    r.check(err > 1e-2 || err.is_nan(), || {
        format!("{what}: a known MLX GPU mismatch now agrees (rel {err:.1e}): update GPU_QMM_MISMATCHES")
    });
}
