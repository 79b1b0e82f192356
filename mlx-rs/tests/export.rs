//! `mlx_rs::export` against Python MLX 0.32.2 (`scripts/golden/export.py`):
//! functions exported by Python (an MLP, a 4-bit quantized linear layer, a
//! function of keyword arguments, a shapeless one called with two shapes)
//! import here and give Python's outputs bit for bit; functions exported
//! here give Python's outputs too, re-imported here and, when a Python with
//! MLX is present, imported by Python itself; a function through the
//! compiled `nn` activations exports and reimports; wrong calls are `Err`s.
//!
//! Every test runs on one thread (`common::mlx_thread`): MLX evaluates an
//! imported graph only on the thread that made the process's first stream.

mod common;
mod device;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::compare::assert_golden;
use common::golden::{array, golden_file, pinned};
use device::{Family, Report};
use mlx_rs::export::{
    export_function, export_function_kwargs, import_function, FunctionExporter, ImportedFunction,
    Kwargs,
};
use mlx_rs::{io, ops, Array, Dtype, Error};
use serde_json::Value;

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/export")
}

fn doc() -> &'static Value {
    pinned(golden_file!("export/export.json"))
}

/// The positional and keyword inputs of a stored call.
fn inputs(call: &Value) -> (Vec<Array>, Kwargs) {
    let args = call["args"].as_array().unwrap().iter().map(array).collect();
    let kwargs = call["kwargs"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), array(v)))
        .collect();
    (args, kwargs)
}

/// Runs a stored call on `f` and checks every output against Python's.
fn check_call(r: &mut Report, f: &ImportedFunction, call: &Value, what: &str) {
    let (args, kwargs) = inputs(call);
    let got = if kwargs.is_empty() {
        f.call(&args)
    } else {
        f.call_kwargs(&args, &kwargs)
    };
    let got = match got {
        Ok(g) => g,
        Err(e) => return r.fail(format!("{what}: {e}")),
    };
    let want = call["outputs"].as_array().unwrap();
    if !r.check(got.len() == want.len(), || {
        format!("{what}: {} outputs, want {}", got.len(), want.len())
    }) {
        return;
    }
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert_golden(r, g, w, Family::Matmul, &format!("{what} output {i}"));
    }
}

#[test]
fn python_exports_import_and_match() {
    common::mlx_thread::run(python_exports_import_and_match_body);
}

fn python_exports_import_and_match_body() {
    let mut r = Report::new();
    let cases = doc()["python"].as_object().unwrap();
    assert_eq!(cases.len(), 4);
    for (name, calls) in cases {
        let f = import_function(golden_dir().join(format!("{name}.mlxfn"))).unwrap();
        assert_eq!(f.mlx_version(), "0.32.2");
        assert_eq!(f.trace_count(), 1, "{name}");
        assert_eq!(f.is_shapeless(), name == "shapeless", "{name}");
        for (i, call) in calls.as_array().unwrap().iter().enumerate() {
            check_call(&mut r, &f, call, &format!("{name} call {i}"));
        }
    }
    r.finish();
}

#[test]
fn the_shapeless_function_takes_two_shapes_the_fixed_one_does_not() {
    common::mlx_thread::run(the_shapeless_function_takes_two_shapes_the_fixed_one_does_not_body);
}

fn the_shapeless_function_takes_two_shapes_the_fixed_one_does_not_body() {
    let calls = doc()["python"]["shapeless"].as_array().unwrap();
    let (a, _) = inputs(&calls[0]);
    let (b, _) = inputs(&calls[1]);
    assert_ne!(a[0].shape(), b[0].shape());
    // Both shapes run (checked against Python above); the MLP's fixed
    // trace refuses another batch size.
    let mlp = import_function(golden_dir().join("mlp.mlxfn")).unwrap();
    let x = Array::zeros(&[5, 8], Dtype::Float32).unwrap();
    let e = mlp.call(&[x]).unwrap_err();
    assert!(e.to_string().contains("No imported function found"), "{e}");
}

// ------------------------------------------------------------- Rust exports

/// The Rust functions, as `scripts/golden/export.py`'s `rust_*` define them.
fn binary(a: &[Array]) -> mlx_rs::Result<Vec<Array>> {
    let t = ops::multiply(&ops::tanh(&a[0])?, &a[1])?;
    Ok(vec![
        ops::sum(&t, ops::Axes::One(-1), false)?,
        ops::matmul(&a[0], &ops::transpose(&a[1])?)?,
    ])
}

fn affine(a: &[Array], kw: &Kwargs) -> mlx_rs::Result<Vec<Array>> {
    Ok(vec![ops::add(
        &ops::multiply(&a[0], &kw["scale"])?,
        &kw["bias"],
    )?])
}

fn traced(a: &[Array]) -> mlx_rs::Result<Vec<Array>> {
    Ok(vec![match a {
        [x] => ops::subtract(&ops::exp(x)?, &Array::scalar(1.0f32)?)?,
        [x, y] => ops::add(&ops::multiply(x, y)?, x)?,
        _ => {
            return Err(Error::InvalidData {
                reason: "one or two inputs",
            })
        }
    }])
}

struct Dir(PathBuf);

impl Dir {
    fn new(tag: &str) -> Dir {
        let p = std::env::temp_dir().join(format!("mlx-rs-export-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        Dir(p)
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Exports the three Rust functions into `dir`; returns (file, call) pairs.
fn export_rust_functions(dir: &Path) -> Vec<(&'static str, &'static str)> {
    let rust = &doc()["rust"];
    let (args, _) = inputs(&rust["binary"]);
    export_function(dir.join("binary.mlxfn"), binary, &args, false).unwrap();
    let (args, kwargs) = inputs(&rust["kwargs"]);
    export_function_kwargs(dir.join("kwargs.mlxfn"), affine, &args, &kwargs, false).unwrap();
    let mut ex = FunctionExporter::new(dir.join("traced.mlxfn"), traced, true).unwrap();
    ex.trace(&inputs(&rust["traced_one"]).0).unwrap();
    ex.trace(&inputs(&rust["traced_two"]).0).unwrap();
    drop(ex);
    vec![
        ("binary", "binary"),
        ("kwargs", "kwargs"),
        ("traced", "traced_one"),
        ("traced", "traced_two"),
    ]
}

#[test]
fn rust_exports_reimport_with_pythons_outputs() {
    common::mlx_thread::run(rust_exports_reimport_with_pythons_outputs_body);
}

fn rust_exports_reimport_with_pythons_outputs_body() {
    let dir = Dir::new("reimport");
    let mut r = Report::new();
    for (file, call) in export_rust_functions(&dir.0) {
        let f = import_function(dir.0.join(format!("{file}.mlxfn"))).unwrap();
        assert_eq!(f.trace_count(), if file == "traced" { 2 } else { 1 });
        check_call(&mut r, &f, &doc()["rust"][call], call);
    }
    r.finish();
}

/// The Python with MLX 0.32.2 to check Rust's files with: `MLX_RS_PYTHON`,
/// else the workspace's venv when present.
fn python() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("MLX_RS_PYTHON") {
        return Some(PathBuf::from(p));
    }
    let venv = PathBuf::from("/work/venv/bin/python");
    venv.exists().then_some(venv)
}

#[test]
fn rust_exports_import_in_python_with_the_same_outputs() {
    common::mlx_thread::run(rust_exports_import_in_python_with_the_same_outputs_body);
}

fn rust_exports_import_in_python_with_the_same_outputs_body() {
    let Some(py) = python() else {
        eprintln!("no Python with MLX (set MLX_RS_PYTHON): checked against stored outputs only");
        return;
    };
    let dir = Dir::new("python");
    for (file, call) in export_rust_functions(&dir.0) {
        let (args, kwargs) = inputs(&doc()["rust"][call]);
        let f = import_function(dir.0.join(format!("{file}.mlxfn"))).unwrap();
        let outs = if kwargs.is_empty() {
            f.call(&args)
        } else {
            f.call_kwargs(&args, &kwargs)
        }
        .unwrap();
        let mut named: Vec<(String, &Array)> = Vec::new();
        named.extend(args.iter().enumerate().map(|(i, a)| (format!("arg{i}"), a)));
        named.extend(kwargs.iter().map(|(k, a)| (format!("kw.{k}"), a)));
        named.extend(outs.iter().enumerate().map(|(i, a)| (format!("out{i}"), a)));
        let meta: [(&str, &str); 0] = [];
        io::save_safetensors(
            dir.0.join(format!("{file}.{call}.safetensors")),
            named,
            meta,
        )
        .unwrap();
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/golden/export.py");
    let out = Command::new(&py)
        .arg(&script)
        .arg("check")
        .arg(&dir.0)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}\n{text}{}",
        py.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(text.matches(": ok").count(), 4, "{text}");
}

// ------------------------------------------------------------ wrong calls

#[test]
fn wrong_calls_are_errors() {
    common::mlx_thread::run(wrong_calls_are_errors_body);
}

fn wrong_calls_are_errors_body() {
    let mlp = import_function(golden_dir().join("mlp.mlxfn")).unwrap();
    let x = Array::zeros(&[3, 8], Dtype::Float32).unwrap();
    // Too many, too few inputs; the wrong dtype; an unexpected keyword.
    let too_many = mlp.call(&[x.clone(), x.clone()]).unwrap_err();
    assert!(
        too_many
            .to_string()
            .contains("Called with 2 positional inputs"),
        "{too_many}"
    );
    assert!(mlp.call(&[]).is_err());
    let half = Array::zeros(&[3, 8], Dtype::Float16).unwrap();
    let e = mlp.call(&[half]).unwrap_err();
    assert!(
        matches!(
            e,
            Error::Mlx {
                op: "mlx_imported_function_apply",
                ..
            }
        ),
        "{e:?}"
    );
    assert!(e.to_string().contains("float16"), "{e}");
    let kw: Kwargs = [("y".to_owned(), x.clone())].into();
    assert!(mlp.call_kwargs(std::slice::from_ref(&x), &kw).is_err());
    // The keyword function without its keywords, or with a wrong name.
    let f = import_function(golden_dir().join("kwargs.mlxfn")).unwrap();
    let (args, mut kwargs) = inputs(&doc()["python"]["kwargs"][0]);
    assert!(f.call(&args).is_err());
    let b = kwargs.remove("bias").unwrap();
    kwargs.insert("bias_".to_owned(), b);
    assert!(f.call_kwargs(&args, &kwargs).is_err());
    // A Rust function that fails while being traced: its own error.
    let dir = Dir::new("fail");
    let e = export_function(
        dir.0.join("f.mlxfn"),
        |_: &[Array]| {
            Err(Error::InvalidData {
                reason: "refused on purpose",
            })
        },
        std::slice::from_ref(&x),
        false,
    )
    .unwrap_err();
    assert_eq!(
        e,
        Error::InvalidData {
            reason: "refused on purpose"
        }
    );
    let e = export_function(
        dir.0.join("p.mlxfn"),
        |_: &[Array]| panic!("boom"),
        std::slice::from_ref(&x),
        false,
    )
    .unwrap_err();
    assert!(e.to_string().contains("boom"), "{e}");
    // The same signature traced twice into one file.
    let mut ex = FunctionExporter::new(dir.0.join("t.mlxfn"), traced, false).unwrap();
    ex.trace(std::slice::from_ref(&x)).unwrap();
    let e = ex.trace(std::slice::from_ref(&x)).unwrap_err();
    assert!(e.to_string().contains("same signature"), "{e}");
    // A file that cannot be written, one that does not exist.
    assert!(export_function(
        dir.0.join("no/such/dir.mlxfn"),
        traced,
        std::slice::from_ref(&x),
        false
    )
    .is_err());
    assert!(matches!(
        import_function(dir.0.join("missing.mlxfn")).unwrap_err(),
        Error::Io { .. }
    ));
}

#[test]
fn metadata_from_python_reads_back() {
    common::mlx_thread::run(metadata_from_python_reads_back_body);
}

fn metadata_from_python_reads_back_body() {
    let f = import_function(golden_dir().join("quantized.mlxfn")).unwrap();
    assert_eq!(f.metadata(), r#"{"bits": 4, "group_size": 32}"#);
    let f = import_function(golden_dir().join("mlp.mlxfn")).unwrap();
    assert_eq!(f.metadata(), "");
}

#[test]
fn another_threads_evaluation_is_an_error_not_a_crash() {
    // Asked on the MLX thread: a device query here would make this test
    // thread's stream the process's first one.
    if common::mlx_thread::run(device::on_gpu) {
        // On the CUDA backend the evaluation on another thread is not
        // refused (seen on an H200: it ran, and CUDA graph capture then
        // failed in the process); this CPU guarantee is not one there.
        device::stderr_line("GPU-SKIP another_threads_evaluation: CPU-only guarantee");
        return;
    }
    // Make sure the MLX thread made the process's first stream.
    common::mlx_thread::run(|| mlx_rs::Stream::current().map(drop).unwrap());
    std::thread::spawn(|| {
        let f = import_function(golden_dir().join("mlp.mlxfn")).unwrap();
        let x = Array::zeros(&[3, 8], Dtype::Float32).unwrap();
        let y = f.call(&[x]).unwrap();
        let e = y[0].eval().unwrap_err();
        assert!(e.to_string().contains("in current thread"), "{e}");
    })
    .join()
    .unwrap();
}

/// A function through the compiled `nn` activations (each a compiled
/// function inside the trace, as Python's `nn.gelu`) exports and imports.
/// As in Python MLX 0.32.2 (checked there too), the file holds the traced
/// ops, not the compiled kernels: the imported function gives the bits of
/// the ops run with compiling off (`gelu`'s `1/√2` at full precision, where
/// the CPU compiler writes 7 digits).
#[test]
fn compiled_activations_export_and_reimport() {
    common::mlx_thread::run(compiled_activations_export_and_reimport_body);
}

fn activations(a: &[Array]) -> mlx_rs::Result<Vec<Array>> {
    use mlx_rs::nn;
    let h = nn::gelu(&nn::selu(&a[0])?)?;
    Ok(vec![nn::log_softmax(&nn::leaky_relu(&h, 0.2)?, -1)?])
}

fn compiled_activations_export_and_reimport_body() {
    let dir = Dir::new("activations");
    let x = ops::multiply(
        Array::arange(-8.0, 8.0, 1.0, Dtype::Float32)
            .unwrap()
            .reshape(&[4, 4])
            .unwrap(),
        0.7,
    )
    .unwrap();
    let path = dir.0.join("activations.mlxfn");
    export_function(&path, activations, std::slice::from_ref(&x), false).unwrap();
    let f = import_function(&path).unwrap();
    let got = f.call(std::slice::from_ref(&x)).unwrap()[0]
        .to_vec::<f32>()
        .unwrap();
    // Every test of this binary runs on the one MLX thread, so switching
    // compiling off here cannot reach another test's call.
    mlx_rs::transforms::disable_compile().unwrap();
    let eager = activations(std::slice::from_ref(&x));
    mlx_rs::transforms::enable_compile().unwrap();
    let eager = eager.unwrap()[0].to_vec::<f32>().unwrap();
    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&got), bits(&eager));
}
