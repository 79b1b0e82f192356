//! The digits MLP of `examples/train_digits.rs` against Python MLX 0.32.2
//! (`scripts/golden/train_digits.py`): the same initial parameters (Python's
//! `mx.random.seed(0)` + `nn.Linear` against mlx-rs's `random::seed(0)` +
//! `Linear::uniform`, bit for bit), the same batches of a stored 128-sample
//! subset, and the loss after each of the first 50 Adam steps within 1e-6
//! (on the CPU they agree bit for bit).
//!
//! A checkpoint written after 25 steps resumes to the same 25 later losses.

use std::collections::HashMap;

use mlx_rs::optimizers::{Adam, Optimizer};
use mlx_rs::{Array, Dtype};
use mlx_workspace::digits::{load_checkpoint, save_checkpoint, train_step, Digits, Mlp, PIXELS};
use serde_json::Value;

fn golden() -> Value {
    let doc: Value =
        serde_json::from_str(include_str!("golden/train_digits.json")).expect("golden parses");
    assert_eq!(
        doc["mlx_version"], "0.32.2",
        "golden data from the pinned MLX"
    );
    doc
}

/// A hex-encoded float32 array (`scripts/golden/_common.py`'s encode_hex).
fn f32_array(v: &Value) -> Array {
    assert_eq!(v["dtype"], "float32");
    let shape: Vec<i32> = v["shape"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_i64().unwrap() as i32)
        .collect();
    let hex = v["hex"].as_str().unwrap();
    let vals: Vec<f32> = (0..hex.len() / 8)
        .map(|i| f32::from_bits(u32::from_str_radix(&hex[i * 8..i * 8 + 8], 16).unwrap()))
        .collect();
    Array::from_slice(&vals, &shape).unwrap()
}

fn ints(v: &Value) -> Vec<i64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_i64().unwrap())
        .collect()
}

fn subset(doc: &Value) -> Digits {
    let pixels: Vec<u8> = doc["pixels"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|row| ints(row).into_iter().map(|p| p as u8))
        .collect();
    let labels: Vec<i32> = ints(&doc["labels"]).into_iter().map(|l| l as i32).collect();
    assert_eq!(pixels.len(), labels.len() * PIXELS);
    Digits { pixels, labels }
}

fn batches(doc: &Value) -> Vec<Vec<usize>> {
    doc["batches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| ints(b).into_iter().map(|i| i as usize).collect())
        .collect()
}

fn init(doc: &Value) -> HashMap<String, Array> {
    doc["init"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), f32_array(v)))
        .collect()
}

fn bits(a: &Array) -> Vec<u32> {
    a.astype(Dtype::Float32)
        .unwrap()
        .to_vec::<f32>()
        .unwrap()
        .iter()
        .map(|x| x.to_bits())
        .collect()
}

#[test]
fn mlp_init_matches_python_seed() {
    let doc = golden();
    mlx_rs::random::seed(doc["seed"].as_u64().unwrap()).unwrap();
    let model = Mlp::new(doc["hidden"].as_i64().unwrap() as i32).unwrap();
    let want = init(&doc);
    let got = mlx_rs::nn::Module::parameters(&model);
    assert_eq!(got.len(), want.len());
    for (name, w) in &want {
        assert_eq!(got[name].shape(), w.shape(), "{name}");
        assert_eq!(
            bits(&got[name]),
            bits(w),
            "{name}: Linear::uniform against nn.Linear"
        );
    }
}

#[test]
fn mlp_loss_matches_python_for_50_steps() {
    let doc = golden();
    let data = subset(&doc);
    let mut model = Mlp::new(doc["hidden"].as_i64().unwrap() as i32).unwrap();
    mlx_rs::nn::Module::load_weights(&mut model, init(&doc)).unwrap();
    let mut opt = Adam::new(doc["lr"].as_f64().unwrap() as f32).unwrap();
    let want: Vec<f32> = doc["losses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| f32_array(l).item::<f32>().unwrap())
        .collect();
    let batches = batches(&doc);
    assert_eq!(batches.len(), 50);
    assert_eq!(want.len(), 50);

    let dir = std::env::temp_dir().join(format!("mlx-train-digits-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ckpt = dir.join("mlp.safetensors");

    let (mut max_diff, mut exact) = (0f64, 0);
    let mut got = Vec::new();
    for (step, b) in batches.iter().enumerate() {
        if step == 25 {
            save_checkpoint(&ckpt, &model, &opt, &[("step", step.to_string())]).unwrap();
        }
        let (x, y) = data.batch(b, &[PIXELS as i32]).unwrap();
        let loss = train_step(&mut model, &mut opt, &x, &y)
            .unwrap()
            .item::<f32>()
            .unwrap();
        let diff = (f64::from(loss) - f64::from(want[step])).abs();
        assert!(
            diff <= 1e-6,
            "step {}: loss {loss} against Python's {} (|diff| {diff:e})",
            step + 1,
            want[step]
        );
        max_diff = max_diff.max(diff);
        exact += usize::from(loss.to_bits() == want[step].to_bits());
        got.push(loss);
    }
    println!(
        "digits MLP, 50 steps: max |loss - Python| = {max_diff:e}, {exact}/50 bit-exact; \
         first {} last {}",
        got[0], got[49]
    );

    // Resume from the checkpoint of step 25: the same later losses, bit for bit.
    let mut resumed = Mlp::new(doc["hidden"].as_i64().unwrap() as i32).unwrap();
    let mut opt2 = Adam::new(1.0).unwrap();
    let meta = load_checkpoint(&ckpt, &mut resumed, &mut opt2).unwrap();
    assert_eq!(meta["step"], "25");
    assert_eq!(opt2.step().item::<u64>().unwrap(), 25);
    for (step, b) in batches.iter().enumerate().skip(25) {
        let (x, y) = data.batch(b, &[PIXELS as i32]).unwrap();
        let loss = train_step(&mut resumed, &mut opt2, &x, &y)
            .unwrap()
            .item::<f32>()
            .unwrap();
        assert_eq!(
            loss.to_bits(),
            got[step].to_bits(),
            "resumed step {}",
            step + 1
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn checkpoint_errors_name_the_problem() {
    let dir = std::env::temp_dir().join(format!("mlx-train-digits-err-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("bad.safetensors");
    let w = Array::zeros(&[2], Dtype::Float32).unwrap();
    mlx_rs::io::save_safetensors(&path, [("stray", &w)], [("format", "mlx")]).unwrap();
    let mut model = Mlp::new(8).unwrap();
    let mut opt = Adam::new(0.1).unwrap();
    let err = load_checkpoint(&path, &mut model, &mut opt)
        .unwrap_err()
        .to_string();
    assert!(err.contains("\"stray\""), "{err}");

    // A model checkpoint of another size: the strict loader names the mismatches.
    let small = Mlp::new(4).unwrap();
    save_checkpoint(&path, &small, &opt, &[]).unwrap();
    let err = load_checkpoint(&path, &mut model, &mut opt)
        .unwrap_err()
        .to_string();
    assert!(err.contains("layers.0.weight"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}
