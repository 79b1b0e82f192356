//! Runs the benchmarks of mlx-rs side by side with Python MLX (and, for
//! graph building, a C program against mlx-c alone), and writes
//! `docs/benchmarks/<device>.md` (medians, Rust/Python ratios, machine,
//! versions), `<device>.svg` (the ratios) and `<device>.json` (every run).
//!
//! ```text
//! cargo run --release --example bench_report -- run --python /path/to/venv/bin/python
//! cargo run --release --example bench_report -- run --quick --python ...   # smoke test
//! ```
//!
//! The cases are `mlx_workspace::bench::CASES` (tests/support/bench.rs),
//! mirrored by `benches/python/bench_<family>.py` and
//! `benches/c/graph_building.c`. Each run of a case is a fresh process (this
//! binary's `case` subcommand, or Python) that sets the case up, then times
//! it: warmup, then timed batches, and reports the median batch time per
//! iteration. For every case the runner alternates the implementations
//! (Rust, Python, C; the order reversed every other round) for `--rounds`
//! rounds, and reports the median over rounds of the runs' medians.
//!
//! Without cargo (the GPU machine), run a prebuilt binary with
//! `--python-dir` pointing at `benches/python` and `--device gpu`.

use std::collections::btree_map::Entry;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use mlx_workspace::bench::{self, Env, Spec, Target, Timing};
use serde_json::{json, Value};

#[derive(Debug, Parser)]
#[command(
    version,
    about = "mlx-rs benchmarks side by side with Python MLX and mlx-c"
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Run every case side by side and write the report.
    Run(RunArgs),
    /// Run one case in this process and print one JSON line (what `run`
    /// spawns for the Rust and C sides).
    Case(CaseArgs),
    /// Fetch and convert the SmolLM2 model of the LLM cases (if needed) and
    /// print its directory.
    PrepareModel {
        /// Where the converted model is (or goes).
        #[arg(long)]
        model_dir: Option<PathBuf>,
    },
    /// List the cases.
    List,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum DeviceArg {
    Cpu,
    Gpu,
}

impl DeviceArg {
    fn name(self) -> &'static str {
        match self {
            DeviceArg::Cpu => "cpu",
            DeviceArg::Gpu => "gpu",
        }
    }
}

#[derive(Debug, Args)]
struct RunArgs {
    /// Short timings, one round, report in a scratch folder: a smoke test,
    /// not for reporting.
    #[arg(long)]
    quick: bool,
    /// Rounds per case [default: 5, or 1 with --quick].
    #[arg(long)]
    rounds: Option<usize>,
    /// Device of both sides.
    #[arg(long, value_enum, default_value_t = DeviceArg::Cpu)]
    device: DeviceArg,
    /// The Python with MLX 0.32.2 (`$MLX_BENCH_PYTHON`, else `python3`).
    #[arg(long)]
    python: Option<PathBuf>,
    /// The folder of bench_<family>.py.
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/python"))]
    python_dir: PathBuf,
    /// The binary that runs the Rust and C sides (`<bin> case ...`)
    /// [default: this one].
    #[arg(long)]
    rust_bin: Option<PathBuf>,
    /// Only the cases whose name contains one of these (repeatable).
    #[arg(long)]
    filter: Vec<String>,
    /// The SmolLM2 directory of the LLM cases [default: converted into the
    /// cache on first use; see `prepare-model`].
    #[arg(long)]
    model_dir: Option<PathBuf>,
    /// Where to write <device>.md/.svg/.json [default: docs/benchmarks, or
    /// a scratch folder with --quick].
    #[arg(long)]
    out_dir: Option<PathBuf>,
    /// The report's name [default: `cpu`, or `cuda-<gpu name>`].
    #[arg(long)]
    name: Option<String>,
    /// Keep the cases of the earlier `<name>.json` in the output folder that
    /// this invocation does not run: splits a long run over several
    /// invocations (e.g. one `--filter` per family), one report at the end.
    #[arg(long)]
    merge: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Impl {
    Rust,
    C,
}

#[derive(Debug, Args)]
struct CaseArgs {
    /// The case (see `list`).
    name: String,
    /// Which side.
    #[arg(long = "impl", value_enum, default_value_t = Impl::Rust)]
    imp: Impl,
    #[arg(long)]
    warmup: usize,
    #[arg(long)]
    samples: usize,
    #[arg(long)]
    batch: usize,
    /// The SmolLM2 directory (LLM cases).
    #[arg(long)]
    model_dir: Option<PathBuf>,
}

type Res<T> = bench::BenchResult<T>;

fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        Cmd::Run(args) => run(args),
        Cmd::Case(args) => case(args),
        Cmd::PrepareModel { model_dir } => bench::smollm2_bench_dir(model_dir.as_deref(), true)
            .map(|d| println!("{}", d.display())),
        Cmd::List => {
            for s in bench::CASES {
                println!("{:34} {}", s.name, s.what);
            }
            Ok(())
        }
    };
    if let Err(e) = result {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

/// The worker: one run of one case, one JSON line on stdout.
fn case(args: CaseArgs) -> Res<()> {
    let timing = Timing {
        warmup: args.warmup,
        samples: args.samples,
        batch: args.batch,
    };
    let device = mlx_rs::Device::default_device()?;
    let device = format!("{:?}", device.kind()).to_lowercase();
    let record = match args.imp {
        Impl::C => {
            if !args.name.starts_with("graph_building/add_chain_100") {
                return Err(format!("no C side for {}", args.name).into());
            }
            json!({
                "name": args.name,
                "impl": "c",
                "median_ns": bench::c_add_chain(&timing)?,
                "device": device,
            })
        }
        Impl::Rust => {
            let env = Env {
                model_dir: args.model_dir,
            };
            let mut case = bench::build(&args.name, &env)?;
            let samples = bench::measure(case.as_mut(), &timing)?;
            json!({
                "name": args.name,
                "impl": "rust",
                "median_ns": bench::median(&samples),
                "samples_ns": samples,
                "device": device,
            })
        }
    };
    println!("{record}");
    Ok(())
}

/// One side of a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Side {
    Rust,
    Python,
    C,
}

impl Side {
    fn name(self) -> &'static str {
        match self {
            Side::Rust => "rust",
            Side::Python => "python",
            Side::C => "c",
        }
    }
}

/// The runs of one case.
#[derive(Debug, Default)]
struct CaseResult {
    /// Run medians (ns per iteration) per side.
    runs: BTreeMap<Side, Vec<f64>>,
    /// Failures, per side.
    errors: BTreeMap<Side, String>,
    /// Extra fields from the Python side (`model_impl`).
    python_info: BTreeMap<String, String>,
}

impl CaseResult {
    /// Median over runs, ns per iteration.
    fn median(&self, side: Side) -> Option<f64> {
        self.runs
            .get(&side)
            .filter(|v| !v.is_empty())
            .map(|v| bench::median(v))
    }

    /// (max − min) / median over runs.
    fn spread(&self, side: Side) -> Option<f64> {
        let v = self.runs.get(&side).filter(|v| !v.is_empty())?;
        let (lo, hi) = v
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &x| {
                (l.min(x), h.max(x))
            });
        Some((hi - lo) / bench::median(v))
    }

    fn ratio(&self, num: Side, den: Side) -> Option<f64> {
        Some(self.median(num)? / self.median(den)?)
    }
}

struct Runner<'a> {
    args: &'a RunArgs,
    python: PathBuf,
    rust_bin: PathBuf,
    model_dir: Option<PathBuf>,
}

impl Runner<'_> {
    fn timing(&self, spec: &Spec) -> Timing {
        if self.args.quick {
            spec.quick
        } else {
            spec.full
        }
    }

    /// One run of `spec` on `side`: the JSON record it printed.
    fn run_once(&self, spec: &Spec, side: Side) -> Res<Value> {
        let t = self.timing(spec);
        let counts = [
            "--warmup".to_owned(),
            t.warmup.to_string(),
            "--samples".to_owned(),
            t.samples.to_string(),
            "--batch".to_owned(),
            t.batch.to_string(),
        ];
        let mut cmd = match side {
            Side::Rust | Side::C => {
                let mut c = Command::new(&self.rust_bin);
                c.arg("case").arg(spec.name).args(["--impl", side.name()]);
                c.env(mlx_rs::DEFAULT_DEVICE_ENV, self.args.device.name());
                c
            }
            Side::Python => {
                let family = spec.name.split('/').next().unwrap_or_default();
                let mut c = Command::new(&self.python);
                c.arg(self.args.python_dir.join(format!("bench_{family}.py")))
                    .args(["--case", spec.name, "--device", self.args.device.name()])
                    .env("PYTHONDONTWRITEBYTECODE", "1");
                c
            }
        };
        cmd.args(counts);
        if let Some(dir) = self
            .model_dir
            .as_ref()
            .filter(|_| spec.name.starts_with("llm/"))
        {
            cmd.arg("--model-dir").arg(dir);
        }
        let out = cmd
            .output()
            .map_err(|e| format!("cannot run {:?}: {e}", cmd.get_program()))?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        if !out.status.success() {
            let stderr = String::from_utf8_lossy(&out.stderr);
            let tail: Vec<&str> = stderr.lines().rev().take(3).collect();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            return Err(format!(
                "{} failed ({}): {}",
                side.name(),
                out.status,
                tail.join(" | ")
            )
            .into());
        }
        let line = stdout
            .lines()
            .rev()
            .find(|l| l.trim_start().starts_with('{'))
            .ok_or_else(|| format!("{} printed no JSON line", side.name()))?;
        let record: Value = serde_json::from_str(line)?;
        let ran_on = record.get("device").and_then(Value::as_str).unwrap_or("?");
        if ran_on != self.args.device.name() {
            return Err(format!(
                "{} ran on {ran_on}, not {}",
                side.name(),
                self.args.device.name()
            )
            .into());
        }
        Ok(record)
    }
}

fn python_probe(python: &Path) -> Res<(String, String)> {
    let out = Command::new(python)
        .args([
            "-c",
            "import platform, mlx.core as mx; print(platform.python_version(), mx.__version__)",
        ])
        .output()
        .map_err(|e| format!("cannot run {}: {e}", python.display()))?;
    if !out.status.success() {
        return Err(format!(
            "{} cannot import mlx: {}",
            python.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        )
        .into());
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut words = text.split_whitespace();
    Ok((
        words.next().unwrap_or("?").to_owned(),
        words.next().unwrap_or("?").to_owned(),
    ))
}

fn run(args: RunArgs) -> Res<()> {
    let rounds = args.rounds.unwrap_or(if args.quick { 1 } else { 5 }).max(1);
    let python = args
        .python
        .clone()
        .or_else(|| std::env::var_os("MLX_BENCH_PYTHON").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("python3"));
    let (python_version, python_mlx) = python_probe(&python)?;
    let rust_bin = match &args.rust_bin {
        Some(p) => p.clone(),
        None => std::env::current_exe()?,
    };
    let specs: Vec<&'static Spec> = bench::CASES
        .iter()
        .filter(|s| {
            args.filter.is_empty() || args.filter.iter().any(|f| s.name.contains(f.as_str()))
        })
        .collect();
    if specs.is_empty() {
        return Err("no case matches --filter".into());
    }
    let machine = Machine::probe(args.device);
    let name = args
        .name
        .clone()
        .unwrap_or_else(|| machine.report_name(args.device));

    // The model of the LLM cases, converted once, before any timing.
    let mut model_error = None;
    let model_dir = if specs.iter().any(|s| s.name.starts_with("llm/")) {
        eprintln!("preparing the SmolLM2 model of the llm cases ...");
        match bench::smollm2_bench_dir(args.model_dir.as_deref(), true) {
            Ok(d) => Some(d),
            Err(e) => {
                model_error = Some(format!("no model: {e}"));
                None
            }
        }
    } else {
        None
    };

    let runner = Runner {
        args: &args,
        python,
        rust_bin,
        model_dir,
    };
    let sides = |s: &Spec| {
        let mut v = vec![Side::Rust, Side::Python];
        if s.c_floor {
            v.push(Side::C);
        }
        v
    };
    let total: usize = specs.iter().map(|s| sides(s).len() * rounds).sum();
    let pb = ProgressBar::new(total as u64);
    if let Ok(style) = ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] [{bar:30.cyan/blue}] {pos}/{len} runs  {msg}",
    ) {
        pb.set_style(style.progress_chars("=> "));
    }
    pb.enable_steady_tick(Duration::from_millis(200));
    let load_before = loadavg();
    let started = utc_now();

    let mut results: Vec<(&'static Spec, CaseResult)> = Vec::new();
    let mut records = Vec::new();
    for spec in &specs {
        let mut result = CaseResult::default();
        let llm_pending = spec.name.starts_with("llm/") && model_error.is_some();
        for round in 0..rounds {
            let mut order = sides(spec);
            if round % 2 == 1 {
                order.reverse();
            }
            for side in order {
                pb.set_message(format!(
                    "{} · round {}/{rounds} · {}",
                    spec.name,
                    round + 1,
                    side.name()
                ));
                if llm_pending {
                    result
                        .errors
                        .insert(side, model_error.clone().unwrap_or_default());
                } else if let Entry::Vacant(slot) = result.errors.entry(side) {
                    // A side that failed once is not retried.
                    match runner.run_once(spec, side) {
                        Ok(v) => {
                            if let Some(m) = v.get("median_ns").and_then(Value::as_f64) {
                                result.runs.entry(side).or_default().push(m);
                            }
                            if side == Side::Python {
                                if let Some(i) = v.get("model_impl").and_then(Value::as_str) {
                                    result.python_info.insert("model_impl".into(), i.to_owned());
                                }
                            }
                            records.push(json!({"round": round, "record": v}));
                        }
                        Err(e) => {
                            slot.insert(e.to_string());
                        }
                    }
                }
                pb.inc(1);
            }
        }
        if pb.is_hidden() {
            eprintln!("{}", summary_line(spec, &result));
        } else {
            pb.println(summary_line(spec, &result));
        }
        results.push((spec, result));
    }
    pb.finish_with_message("done");
    let load_after = loadavg();

    let out_dir = args.out_dir.clone().unwrap_or_else(|| {
        if args.quick {
            std::env::temp_dir().join("mlx-bench-quick")
        } else {
            PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/benchmarks"))
        }
    });
    std::fs::create_dir_all(&out_dir)?;
    let md_path = out_dir.join(format!("{name}.md"));
    let svg_path = out_dir.join(format!("{name}.svg"));
    let json_path = out_dir.join(format!("{name}.json"));
    let notes = std::fs::read_to_string(&md_path)
        .ok()
        .and_then(|s| kept_notes(&s));
    if args.merge {
        merge_earlier(&json_path, &mut results, &mut records)?;
    }
    let report = Report {
        name: &name,
        args: &args,
        rounds,
        machine: &machine,
        python_version: &python_version,
        python_mlx: &python_mlx,
        started: &started,
        load: (&load_before, &load_after),
        results: &results,
    };
    std::fs::write(&md_path, report.markdown(notes.as_deref()))?;
    chart(&svg_path, &name, &results)?;
    let raw = json!({
        "name": name,
        "quick": args.quick,
        "rounds": rounds,
        "device": args.device.name(),
        "started": started,
        "runs": records,
    });
    std::fs::write(&json_path, serde_json::to_string_pretty(&raw)? + "\n")?;
    eprintln!(
        "wrote {}, {} and {}",
        md_path.display(),
        svg_path.display(),
        json_path.display()
    );
    Ok(())
}

/// Adds the cases of the earlier report `json_path` (if any) that `results`
/// lacks, with their run records, keeping the order of `bench::CASES`.
fn merge_earlier(
    json_path: &Path,
    results: &mut Vec<(&'static Spec, CaseResult)>,
    records: &mut Vec<Value>,
) -> Res<()> {
    let Ok(text) = std::fs::read_to_string(json_path) else {
        return Ok(());
    };
    let earlier: Value = serde_json::from_str(&text)?;
    let runs = earlier
        .get("runs")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut merged: Vec<(&'static Spec, CaseResult)> = Vec::new();
    for spec in bench::CASES {
        if let Some(i) = results.iter().position(|(s, _)| s.name == spec.name) {
            merged.push(results.swap_remove(i));
            continue;
        }
        let mut result = CaseResult::default();
        for run in &runs {
            let Some(record) = run.get("record") else {
                continue;
            };
            if record.get("name").and_then(Value::as_str) != Some(spec.name) {
                continue;
            }
            let side = match record.get("impl").and_then(Value::as_str) {
                Some("rust") => Side::Rust,
                Some("python") => Side::Python,
                Some("c") => Side::C,
                _ => continue,
            };
            if let Some(m) = record.get("median_ns").and_then(Value::as_f64) {
                result.runs.entry(side).or_default().push(m);
            }
            if let Some(i) = record.get("model_impl").and_then(Value::as_str) {
                result.python_info.insert("model_impl".into(), i.to_owned());
            }
            records.push(run.clone());
        }
        if !result.runs.is_empty() {
            merged.push((spec, result));
        }
    }
    *results = merged;
    Ok(())
}

/// A duration in nanoseconds, with three significant digits.
fn fmt_ns(ns: f64) -> String {
    let (v, unit) = if ns < 1e3 {
        (ns, "ns")
    } else if ns < 1e6 {
        (ns / 1e3, "µs")
    } else if ns < 1e9 {
        (ns / 1e6, "ms")
    } else {
        (ns / 1e9, "s")
    };
    let digits = if v < 10.0 {
        2
    } else if v < 100.0 {
        1
    } else {
        0
    };
    format!("{v:.digits$} {unit}")
}

/// A cell: time per unit, and tokens per second for the LLM rows.
fn cell(spec: &Spec, ns_per_iter: Option<f64>) -> String {
    let Some(ns) = ns_per_iter else {
        return "—".to_owned();
    };
    let per_unit = ns / f64::from(spec.per.max(1));
    let mut s = format!("{}/{}", fmt_ns(per_unit), spec.unit);
    if spec.unit == "token" {
        let _ = write!(s, " ({:.1} tok/s)", 1e9 / per_unit);
    }
    s
}

fn fmt_ratio(r: Option<f64>) -> String {
    r.map_or_else(|| "—".to_owned(), |r| format!("{r:.3}"))
}

/// The target, in words, and whether the row meets it.
fn target(spec: &Spec, r: &CaseResult) -> (String, Option<bool>) {
    match spec.target {
        Target::AtMostC(x) => (
            format!("Rust/C ≤ {x:.2}"),
            r.ratio(Side::Rust, Side::C).map(|v| v <= x),
        ),
        Target::SpeedupOverPython(x) => (
            format!("Python/Rust ≥ {x:.2}"),
            r.ratio(Side::Python, Side::Rust).map(|v| v >= x),
        ),
        Target::Parity(f) => (
            format!("Rust/Python within ±{:.0}%", f * 100.0),
            r.ratio(Side::Rust, Side::Python)
                .map(|v| (v - 1.0).abs() <= f),
        ),
        Target::None => ("—".to_owned(), None),
    }
}

fn summary_line(spec: &Spec, r: &CaseResult) -> String {
    let mut s = format!("{:34}", spec.name);
    for side in [Side::Rust, Side::Python, Side::C] {
        if let Some(m) = r.median(side) {
            let _ = write!(s, "  {} {}", side.name(), cell(spec, Some(m)));
        } else if let Some(e) = r.errors.get(&side) {
            let _ = write!(s, "  {} FAILED: {e}", side.name());
        }
    }
    if let Some(x) = r.ratio(Side::Rust, Side::Python) {
        let _ = write!(s, "  R/P {x:.3}");
    }
    if let Some(x) = r.ratio(Side::Rust, Side::C) {
        let _ = write!(s, "  R/C {x:.3}");
    }
    s
}

/// What the report says about the machine.
#[derive(Debug, Default)]
struct Machine {
    cpu: String,
    logical_cpus: usize,
    memory: String,
    os: String,
    gpu: Option<String>,
}

impl Machine {
    fn probe(device: DeviceArg) -> Machine {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu = cpuinfo
            .lines()
            .find(|l| l.starts_with("model name"))
            .and_then(|l| l.split_once(':'))
            .map(|(_, v)| v.trim().to_owned())
            .or_else(|| command_line("sysctl", &["-n", "machdep.cpu.brand_string"]))
            .unwrap_or_else(|| std::env::consts::ARCH.to_owned());
        let memory = std::fs::read_to_string("/proc/meminfo")
            .ok()
            .and_then(|m| {
                let kb: f64 = m
                    .lines()
                    .find(|l| l.starts_with("MemTotal:"))?
                    .split_whitespace()
                    .nth(1)?
                    .parse()
                    .ok()?;
                Some(format!("{:.1} GiB", kb / 1024.0 / 1024.0))
            })
            .unwrap_or_else(|| "?".to_owned());
        let os =
            command_line("uname", &["-srm"]).unwrap_or_else(|| std::env::consts::OS.to_owned());
        let gpu = (device == DeviceArg::Gpu)
            .then(|| {
                command_line(
                    "nvidia-smi",
                    &[
                        "--query-gpu=name,memory.total,driver_version",
                        "--format=csv,noheader",
                    ],
                )
                .and_then(|s| s.lines().next().map(str::to_owned))
            })
            .flatten();
        Machine {
            cpu,
            logical_cpus: std::thread::available_parallelism().map_or(0, |n| n.get()),
            memory,
            os,
            gpu,
        }
    }

    fn report_name(&self, device: DeviceArg) -> String {
        match device {
            DeviceArg::Cpu => "cpu".to_owned(),
            DeviceArg::Gpu => {
                let gpu = self
                    .gpu
                    .as_deref()
                    .and_then(|g| g.split(',').next())
                    .unwrap_or("gpu");
                let slug: String = gpu
                    .to_lowercase()
                    .chars()
                    .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
                    .collect();
                let slug: Vec<&str> = slug.split('-').filter(|p| !p.is_empty()).collect();
                format!("cuda-{}", slug.join("-"))
            }
        }
    }
}

/// The first line a command prints, if it runs.
fn command_line(program: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(program).args(args).output().ok()?;
    out.status.success().then_some(())?;
    let s = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    (!s.is_empty()).then_some(s)
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|| "?".to_owned())
}

fn utc_now() -> String {
    command_line("date", &["-u", "+%Y-%m-%d %H:%M UTC"]).unwrap_or_else(|| "?".to_owned())
}

const NOTES_BEGIN: &str = "<!-- notes:begin -->";
const NOTES_END: &str = "<!-- notes:end -->";

/// The hand-written notes of a previous report, kept across runs.
fn kept_notes(md: &str) -> Option<String> {
    let start = md.find(NOTES_BEGIN)? + NOTES_BEGIN.len();
    let end = md[start..].find(NOTES_END)? + start;
    Some(md[start..end].trim().to_owned())
}

struct Report<'a> {
    name: &'a str,
    args: &'a RunArgs,
    rounds: usize,
    machine: &'a Machine,
    python_version: &'a str,
    python_mlx: &'a str,
    started: &'a str,
    load: (&'a str, &'a str),
    results: &'a [(&'a Spec, CaseResult)],
}

impl Report<'_> {
    fn markdown(&self, notes: Option<&str>) -> String {
        let mut s = String::new();
        let m = self.machine;
        let _ = writeln!(s, "# Benchmarks: `{}`\n", self.name);
        if self.args.quick {
            let _ = writeln!(
                s,
                "> **Quick smoke run (`--quick`): short timings, one round. Not for reporting.**\n"
            );
        }
        let _ = writeln!(
            s,
            "mlx-rs against Python MLX on the same machine, device ({}), shapes and dtypes, \
             run side by side by `examples/bench_report.rs` on {}. Each time is the median over \
             {} rounds of each run's median; the sides of a case alternate run by run. \
             Ratios are of times: below 1, Rust is faster.\n",
            self.args.device.name(),
            self.started,
            self.rounds
        );
        let _ = writeln!(s, "## Machine\n");
        let _ = writeln!(
            s,
            "- CPU: {} ({} logical CPUs), {} memory",
            m.cpu, m.logical_cpus, m.memory
        );
        if let Some(gpu) = &m.gpu {
            let _ = writeln!(s, "- GPU: {gpu}");
        }
        let _ = writeln!(s, "- OS: {}", m.os);
        let _ = writeln!(
            s,
            "- Load average (1, 5, 15 min) before: {}; after: {}\n",
            self.load.0, self.load.1
        );
        let _ = writeln!(s, "## Versions\n");
        let _ = writeln!(
            s,
            "- Rust: mlx-rs {} built with {}, MLX {} ({} backend) through mlx-c {}",
            env!("CARGO_PKG_VERSION"),
            env!("MLX_WS_RUSTC_VERSION"),
            env!("MLX_WS_MLX_VERSION"),
            env!("MLX_WS_MLX_BACKEND"),
            env!("MLX_WS_MLX_C_VERSION"),
        );
        let _ = writeln!(
            s,
            "- Python: {}, mlx {}",
            self.python_version, self.python_mlx
        );
        let model_impl = self
            .results
            .iter()
            .find_map(|(_, r)| r.python_info.get("model_impl"));
        if let Some(i) = model_impl {
            let _ = writeln!(s, "- Python model of the llm rows: {i}");
        }
        let _ = writeln!(
            s,
            "- C: `benches/c/graph_building.c` against the same mlx-c (static) and libmlx\n"
        );

        let _ = writeln!(s, "## Results\n");
        let _ = writeln!(
            s,
            "| Case | Rust | Python | C (mlx-c) | Rust/Python | Rust/C | Spread R / P | Target | Met |"
        );
        let _ = writeln!(s, "|---|---:|---:|---:|---:|---:|---:|---|:-:|");
        let mut missed = Vec::new();
        let mut failed = Vec::new();
        for (spec, r) in self.results {
            let (t, met) = target(spec, r);
            let spread = |side| {
                r.spread(side)
                    .map_or("—".to_owned(), |x| format!("{:.0}%", x * 100.0))
            };
            let c = if spec.c_floor {
                cell(spec, r.median(Side::C))
            } else {
                String::new()
            };
            let met_s = match met {
                Some(true) => "yes",
                Some(false) => "**no**",
                None => "",
            };
            let _ = writeln!(
                s,
                "| `{}` | {} | {} | {} | {} | {} | {} / {} | {} | {} |",
                spec.name,
                cell(spec, r.median(Side::Rust)),
                cell(spec, r.median(Side::Python)),
                c,
                fmt_ratio(r.ratio(Side::Rust, Side::Python)),
                if spec.c_floor {
                    fmt_ratio(r.ratio(Side::Rust, Side::C))
                } else {
                    String::new()
                },
                spread(Side::Rust),
                spread(Side::Python),
                t,
                met_s
            );
            if met == Some(false) {
                missed.push(spec.name);
            }
            for (side, e) in &r.errors {
                failed.push(format!("`{}` ({}): {e}", spec.name, side.name()));
            }
        }
        let _ = writeln!(
            s,
            "\nSpread: (max − min) / median of the {} run medians of each side.\n",
            self.rounds
        );
        let _ = writeln!(s, "![Rust/Python time ratios]({}.svg)\n", self.name);
        if !failed.is_empty() {
            let _ = writeln!(s, "Rows not measured (pending):\n");
            for f in &failed {
                let _ = writeln!(s, "- {f}");
            }
            let _ = writeln!(s);
        }
        if !missed.is_empty() {
            let _ = writeln!(
                s,
                "Rows that miss their target (explained in the notes below): {}\n",
                missed
                    .iter()
                    .map(|n| format!("`{n}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        let _ = writeln!(s, "## Cases\n");
        for (spec, _) in self.results {
            let _ = writeln!(s, "- `{}`: {}", spec.name, spec.what);
        }
        let _ = writeln!(s, "\n## Protocol\n");
        let _ = writeln!(
            s,
            "Every run is a fresh process that sets its case up (inputs made with \
             `random.normal(key(seed))` and evaluated, model loaded), then runs `warmup` \
             untimed iterations and `samples` timed batches of `batch` iterations, and reports \
             the median batch time per iteration. Every iteration ends with an evaluation, \
             except graph building, which never evaluates. The decode step starts each batch \
             from fresh caches holding a 32-token prompt (untimed). Rust: \
             `tests/support/bench.rs`; Python: `benches/python/`; C: `benches/c/`. \
             Warmup / samples / batch per case:\n"
        );
        for (spec, _) in self.results {
            let t = if self.args.quick {
                spec.quick
            } else {
                spec.full
            };
            let _ = writeln!(
                s,
                "- `{}`: {} / {} / {}",
                spec.name, t.warmup, t.samples, t.batch
            );
        }
        let _ = writeln!(
            s,
            "\nReproduce: `cargo run --release --example bench_report -- run --device {}{} \
             --python PATH/TO/python` (Python with mlx {}).\n",
            self.args.device.name(),
            if self.rounds == 5 {
                String::new()
            } else {
                format!(" --rounds {}", self.rounds)
            },
            self.python_mlx
        );
        let _ = writeln!(s, "## Notes\n");
        let _ = writeln!(s, "{NOTES_BEGIN}");
        let _ = writeln!(
            s,
            "{}",
            notes.unwrap_or("(Explain here every row that misses its target; kept across runs.)")
        );
        let _ = writeln!(s, "{NOTES_END}");
        s
    }
}

/// The chart: one bar per row, Rust/Python time ratio (and Rust/C for the
/// graph-building row), with the parity line at 1.
fn chart(path: &Path, name: &str, results: &[(&Spec, CaseResult)]) -> Res<()> {
    use plotters::prelude::*;

    let mut bars: Vec<(String, f64, Option<bool>)> = Vec::new();
    for (spec, r) in results {
        let (_, met) = target(spec, r);
        if let Some(x) = r.ratio(Side::Rust, Side::Python) {
            let met = if matches!(spec.target, Target::AtMostC(_)) {
                None
            } else {
                met
            };
            bars.push((format!("{} (Rust/Python)", spec.name), x, met));
        }
        if let Some(x) = r.ratio(Side::Rust, Side::C) {
            bars.push((format!("{} (Rust/C)", spec.name), x, met));
        }
    }
    let (left, right, top, row, bottom) = (380i32, 60i32, 50i32, 26i32, 50i32);
    let plot_w = 520i32;
    let n = i32::try_from(bars.len())?.max(1);
    let width = u32::try_from(left + plot_w + right)?;
    let height = u32::try_from(top + n * row + bottom)?;
    let xmax = bars.iter().map(|b| b.1).fold(1.25f64, f64::max) * 1.1;
    let xmax = (xmax / 0.25).ceil() * 0.25;
    let x_px = |r: f64| left + (r / xmax * f64::from(plot_w)).round() as i32;

    let root = SVGBackend::new(path, (width, height)).into_drawing_area();
    root.fill(&WHITE)?;
    let font = |size: i32| ("sans-serif", size).into_font();
    root.draw(&Text::new(
        format!("mlx-rs / Python MLX time ratio ({name}); below 1: Rust faster"),
        (10, 15),
        font(19),
    ))?;
    // Grid and x labels.
    let mut tick = 0.0;
    while tick <= xmax + 1e-9 {
        let x = x_px(tick);
        root.draw(&PathElement::new(
            vec![(x, top - 5), (x, top + n * row)],
            RGBColor(220, 220, 220),
        ))?;
        root.draw(&Text::new(
            format!("{tick:.2}"),
            (x - 12, top + n * row + 8),
            font(14),
        ))?;
        tick += 0.25;
    }
    for (i, (label, ratio, met)) in bars.iter().enumerate() {
        let y = top + i32::try_from(i)? * row;
        let color = match met {
            Some(true) => RGBColor(76, 153, 76),
            Some(false) => RGBColor(204, 68, 68),
            None => RGBColor(100, 130, 190),
        };
        root.draw(&Rectangle::new(
            [(left, y + 4), (x_px(*ratio), y + row - 4)],
            color.filled(),
        ))?;
        root.draw(&Text::new(label.clone(), (8, y + 7), font(14)))?;
        root.draw(&Text::new(
            format!("{ratio:.3}"),
            (x_px(*ratio) + 4, y + 7),
            font(14),
        ))?;
    }
    let one = x_px(1.0);
    root.draw(&PathElement::new(
        vec![(one, top - 8), (one, top + n * row)],
        BLACK.stroke_width(2),
    ))?;
    root.draw(&Text::new(
        "green: target met, red: missed, blue: no target",
        (left, top + n * row + 28),
        font(14),
    ))?;
    root.present()?;
    Ok(())
}
