//! Strict weight loading: missing, unexpected, shape and dtype mismatches
//! are errors listing every problem; leniency is opt-in and reported.

mod io_common;

use std::collections::HashMap;

use io_common::*;
use mlx_rs::io::{
    self, check_weights, load_weights_into, specs_of, LoadOptions, WeightSpec, WeightSpecs,
};
use mlx_rs::{Array, Dtype, Error};

fn params() -> HashMap<String, Array> {
    HashMap::from([
        (
            "layer.w".to_string(),
            Array::zeros(&[2, 3], Dtype::Float32).unwrap(),
        ),
        (
            "layer.b".to_string(),
            Array::zeros(&[3], Dtype::Float32).unwrap(),
        ),
        (
            "emb".to_string(),
            Array::zeros(&[4, 2], Dtype::Float16).unwrap(),
        ),
    ])
}

fn report_of(r: mlx_rs::Result<io::WeightsReport>) -> io::WeightsReport {
    match r {
        Err(Error::WeightsMismatch(report)) => *report,
        other => panic!("expected WeightsMismatch, got {other:?}"),
    }
}

#[test]
fn exact_weights_load() {
    let mut p = params();
    let w = HashMap::from([
        (
            "layer.w".to_string(),
            Array::ones(&[2, 3], Dtype::Float32).unwrap(),
        ),
        (
            "layer.b".to_string(),
            Array::ones(&[3], Dtype::Float32).unwrap(),
        ),
        (
            "emb".to_string(),
            Array::ones(&[4, 2], Dtype::Float16).unwrap(),
        ),
    ]);
    let r = load_weights_into(&mut p, w, LoadOptions::default()).unwrap();
    assert!(r.is_exact());
    assert_eq!(r.matched, ["emb", "layer.b", "layer.w"]);
    assert_eq!(p["layer.b"].to_vec::<f32>().unwrap(), [1.0; 3]);
}

#[test]
fn every_problem_is_listed_and_nothing_changes() {
    let mut p = params();
    let w = HashMap::from([
        (
            "layer.w".to_string(),
            Array::ones(&[3, 2], Dtype::Float32).unwrap(),
        ),
        (
            "emb".to_string(),
            Array::ones(&[4, 2], Dtype::Float32).unwrap(),
        ),
        (
            "extra.x".to_string(),
            Array::ones(&[1], Dtype::Float32).unwrap(),
        ),
        (
            "extra.a".to_string(),
            Array::ones(&[1], Dtype::Float32).unwrap(),
        ),
    ]);
    let err = load_weights_into(&mut p, w, LoadOptions::strict()).unwrap_err();
    let text = err.to_string();
    let r = report_of(Err(err));
    assert_eq!(r.missing, ["layer.b"]);
    assert_eq!(r.unexpected, ["extra.a", "extra.x"]);
    assert_eq!(r.shape_mismatches.len(), 1);
    assert_eq!(r.shape_mismatches[0].name, "layer.w");
    assert_eq!(r.shape_mismatches[0].expected.shape, [2, 3]);
    assert_eq!(r.shape_mismatches[0].found.shape, [3, 2]);
    assert_eq!(r.dtype_mismatches.len(), 1);
    assert_eq!(r.dtype_mismatches[0].name, "emb");
    assert_eq!(r.dtype_mismatches[0].found.dtype, Dtype::Float32);
    for needle in ["layer.b", "extra.x", "layer.w", "emb", "float16", "[2, 3]"] {
        assert!(text.contains(needle), "{needle} not in {text}");
    }
    // All or nothing.
    assert_eq!(p["emb"].dtype(), Dtype::Float16);
    assert_eq!(p["layer.w"].shape(), &[2, 3]);
}

#[test]
fn each_rule_is_strict_on_its_own() {
    let expected = specs_of(&params());
    let mut only_missing = params();
    only_missing.remove("emb");
    let r = report_of(check_weights(
        &expected,
        &only_missing,
        LoadOptions::strict(),
    ));
    assert_eq!(r.missing, ["emb"]);
    check_weights(
        &expected,
        &only_missing,
        LoadOptions::strict().allow_missing(true),
    )
    .unwrap();

    let mut extra = params();
    extra.insert("z".into(), Array::zeros(&[1], Dtype::Int32).unwrap());
    let r = report_of(check_weights(&expected, &extra, LoadOptions::strict()));
    assert_eq!(r.unexpected, ["z"]);
    let ok = check_weights(
        &expected,
        &extra,
        LoadOptions::strict().allow_unexpected(true),
    )
    .unwrap();
    assert_eq!(ok.unexpected, ["z"]);
    assert!(!ok.is_exact());
    // Allowing one thing does not allow another.
    report_of(check_weights(
        &expected,
        &extra,
        LoadOptions::strict().allow_missing(true),
    ));

    let mut wrong_dtype = params();
    wrong_dtype.insert(
        "emb".into(),
        Array::zeros(&[4, 2], Dtype::Bfloat16).unwrap(),
    );
    let r = report_of(check_weights(
        &expected,
        &wrong_dtype,
        LoadOptions::strict(),
    ));
    assert_eq!(r.dtype_mismatches[0].expected.dtype, Dtype::Float16);
    check_weights(
        &expected,
        &wrong_dtype,
        LoadOptions::strict().allow_mismatch(true),
    )
    .unwrap();
}

#[test]
fn lenient_loads_what_matches_and_reports_the_rest() {
    let mut p = params();
    let w = HashMap::from([
        (
            "layer.w".to_string(),
            Array::ones(&[2, 3], Dtype::Float32).unwrap(),
        ),
        (
            "layer.b".to_string(),
            Array::ones(&[4], Dtype::Float32).unwrap(),
        ),
        (
            "other".to_string(),
            Array::ones(&[1], Dtype::Float32).unwrap(),
        ),
    ]);
    let r = load_weights_into(&mut p, w, LoadOptions::lenient()).unwrap();
    assert_eq!(r.matched, ["layer.w"]);
    assert_eq!(r.missing, ["emb"]);
    assert_eq!(r.unexpected, ["other"]);
    assert_eq!(r.shape_mismatches[0].name, "layer.b");
    assert_eq!(p["layer.w"].to_vec::<f32>().unwrap(), [1.0; 6]);
    assert_eq!(p["layer.b"].to_vec::<f32>().unwrap(), [0.0; 3]);
}

#[test]
fn specs_from_a_file_and_a_hand_written_layout() {
    let dir = TempDir::new("weights");
    let path = dir.path().join("m.safetensors");
    io::save_safetensors(&path, &params(), [] as [(&str, &str); 0]).unwrap();
    let mut expected = WeightSpecs::new();
    expected.insert("layer.w".into(), WeightSpec::new(&[2, 3], Dtype::Float32));
    expected.insert("layer.b".into(), WeightSpec::new(&[3], Dtype::Float32));
    expected.insert("emb".into(), WeightSpec::new(&[4, 2], Dtype::Float16));
    let loaded = io::load_safetensors(&path).unwrap();
    assert!(
        check_weights(&expected, &loaded.arrays, LoadOptions::strict())
            .unwrap()
            .is_exact()
    );
    expected.insert("head".into(), WeightSpec::new(&[2], Dtype::Float32));
    let r = report_of(check_weights(
        &expected,
        &loaded.arrays,
        LoadOptions::strict(),
    ));
    assert_eq!(r.missing, ["head"]);
    assert_eq!(r.matched.len(), 3);
}
