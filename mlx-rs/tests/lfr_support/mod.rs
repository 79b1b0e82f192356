//! Shared by `tests/ops_linalg.rs`, `tests/ops_fft.rs` and `tests/random.rs`:
//! reading the golden files written by `scripts/golden/linalg_fft_random.py`
//! and running their tables.
//!
//! Each file holds named inputs, `cases` (a Rust function name, its inputs
//! and parameters, and the outputs Python MLX 0.32.2 computed) and `errors`
//! (bad inputs with MLX's message and the phase it is raised in). A test
//! file supplies one dispatcher, `fn(name, inputs, params) ->
//! Result<Vec<Array>>`, calling the Rust API; [`run_cases`] and
//! [`run_errors`] drive it over the tables.
//!
//! Arrays are hex-encoded (`crate::common::golden::array` rebuilds them
//! exactly) and compared by `crate::common::compare::assert_golden`: bit
//! for bit on the CPU, within the op family's tolerance the caller names
//! on the GPU. Every failure of a table is reported at its end.

#![allow(dead_code)]

use std::collections::BTreeMap;

use mlx_rs::Array;
use serde_json::Value;

use crate::common::compare::{assert_golden, assert_mlx_error};
use crate::common::golden::array;
use crate::device::{on_cpu, Family, Report};

/// A test file's dispatcher: calls the Rust function `name` with the
/// table's inputs and parameters.
pub type Dispatch = dyn Fn(&str, &[Array], &Value) -> mlx_rs::Result<Vec<Array>>;

/// The inputs of a golden file, by name.
pub fn inputs(doc: &Value) -> BTreeMap<String, Array> {
    doc["inputs"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), array(v)))
        .collect()
}

fn case_inputs(inputs: &BTreeMap<String, Array>, case: &Value) -> Vec<Array> {
    case["in"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| inputs[n.as_str().unwrap()].clone())
        .collect()
}

/// A short description of a table entry, for failure messages.
pub fn describe(case: &Value) -> String {
    format!("{}({}, {})", case["fn"], case["in"], case["p"])
}

/// Whether a table entry involves `float64`, which MLX supports on the CPU
/// only ("float64 is not supported on the GPU").
fn uses_f64(doc: &Value, case: &Value) -> bool {
    let f64_name = |v: &Value| v == "float64";
    case["in"]
        .as_array()
        .unwrap()
        .iter()
        .any(|n| f64_name(&doc["inputs"][n.as_str().unwrap()]["dtype"]))
        || case["out"]
            .as_array()
            .is_some_and(|o| o.iter().any(|a| f64_name(&a["dtype"])))
        || f64_name(&case["p"]["dtype"])
}

/// Runs `f` on the current stream, or, for a `float64` entry off the CPU,
/// on the CPU's default stream (where MLX supports `float64`).
fn on_a_stream_for<R>(doc: &Value, case: &Value, f: impl FnOnce() -> R) -> R {
    if !on_cpu() && uses_f64(doc, case) {
        crate::device::on_cpu_stream(f)
    } else {
        f()
    }
}

/// Runs every golden case through `dispatch`, comparing each output with
/// Python's; `family` names the op family of a function (its tolerance on
/// the GPU). Entries with `float64` run on the CPU stream whatever the
/// device. Reports every failure at the end; returns the number of cases
/// per function.
pub fn run_cases(
    doc: &Value,
    dispatch: &Dispatch,
    family: impl Fn(&str) -> Family,
) -> BTreeMap<String, usize> {
    let inputs = inputs(doc);
    let mut seen = BTreeMap::new();
    let mut r = Report::new();
    for case in doc["cases"].as_array().unwrap() {
        let name = case["fn"].as_str().unwrap();
        let what = describe(case);
        on_a_stream_for(doc, case, || {
            let outs = match dispatch(name, &case_inputs(&inputs, case), &case["p"]) {
                Ok(outs) => outs,
                Err(e) => return r.fail(format!("{what}: {e}")),
            };
            let want = case["out"].as_array().unwrap();
            if !r.check(outs.len() == want.len(), || {
                format!("{what}: number of outputs")
            }) {
                return;
            }
            for (i, (g, w)) in outs.iter().zip(want).enumerate() {
                assert_golden(&mut r, g, w, family(name), &format!("{what} output {i}"));
            }
        });
        *seen.entry(name.to_owned()).or_insert(0) += 1;
    }
    r.finish();
    seen
}

/// Runs every bad-input entry through `dispatch`; each must fail with
/// MLX's message (none may end the process). Entries with `float64` run on
/// the CPU stream whatever the device. Returns the number of entries.
pub fn run_errors(doc: &Value, dispatch: &Dispatch) -> usize {
    let inputs = inputs(doc);
    let errors = doc["errors"].as_array().unwrap();
    let mut r = Report::new();
    for case in errors {
        let name = case["fn"].as_str().unwrap();
        let what = describe(case);
        on_a_stream_for(doc, case, || {
            let got = dispatch(name, &case_inputs(&inputs, case), &case["p"]);
            assert_mlx_error(&mut r, got, case, &what);
        });
    }
    r.finish();
    errors.len()
}
