//! Optimizers, schedules and gradient clipping against Python MLX 0.32.2
//! (`scripts/golden/optimizers.py`): every update, state entry and
//! schedule value equal bit for bit on the CPU, and within the
//! transcendental tolerance on the GPU (`tests/device`).

mod common;
mod device;

use std::collections::HashMap;

use common::compare::assert_golden;
use common::golden::{array, golden_file, pinned};
use device::{Family, Report};
use mlx_rs::optimizers::{
    clip_grad_norm, cosine_decay, exponential_decay, join_schedules, linear_schedule, step_decay,
    AdaDelta, Adafactor, Adagrad, Adam, AdamW, Adamax, Lion, MultiOptimizer, Muon, Optimizer,
    Params, RMSprop, Schedule, Sgd,
};
use mlx_rs::{Array, Error};
use serde_json::Value;

fn tree(v: &Value) -> Params {
    v.as_object()
        .unwrap()
        .iter()
        .map(|(k, a)| (k.clone(), array(a)))
        .collect()
}

fn schedule(name: &str) -> Schedule {
    match name {
        "exponential_decay" => exponential_decay(0.1, 0.9),
        "step_decay" => step_decay(0.1, 0.5, 3).unwrap(),
        "cosine_decay" => cosine_decay(0.1, 10, 0.01).unwrap(),
        "linear_schedule" => linear_schedule(0.0, 0.1, 5).unwrap(),
        "join_schedules" => join_schedules(
            vec![
                linear_schedule(0.0, 0.1, 3).unwrap(),
                cosine_decay(0.1, 5, 0.0).unwrap(),
            ],
            vec![3],
        )
        .unwrap(),
        other => panic!("unknown schedule {other}"),
    }
}

/// One step of an optimizer, returning its state afterwards.
type Step = Box<dyn FnMut(&mut Params, &Params) -> mlx_rs::Result<HashMap<String, Array>>>;

/// The optimizer of a golden case, as `scripts/golden/optimizers.py` makes it.
fn optimizer(name: &str) -> Step {
    fn boxed<O: Optimizer + 'static>(mut o: O) -> Step {
        Box::new(move |p, g| {
            o.update(p, g)?;
            Ok(o.state())
        })
    }
    match name {
        "sgd" => boxed(Sgd::new(0.1).unwrap()),
        "sgd_momentum" => boxed(Sgd::with(0.1, 0.9, 0.0, 0.0, false).unwrap()),
        "sgd_all" => boxed(Sgd::with(0.1, 0.9, 0.01, 0.1, false).unwrap()),
        "sgd_nesterov" => boxed(Sgd::with(0.1, 0.9, 0.0, 0.0, true).unwrap()),
        "rmsprop" => boxed(RMSprop::new(0.01).unwrap()),
        "rmsprop_opts" => boxed(RMSprop::with(0.01, 0.9, 1e-6).unwrap()),
        "adagrad" => boxed(Adagrad::new(0.1).unwrap()),
        "adadelta" => boxed(AdaDelta::new(1.0).unwrap()),
        "adam" => boxed(Adam::new(0.01).unwrap()),
        "adam_bias" => boxed(Adam::with(0.01, (0.9, 0.999), 1e-8, true).unwrap()),
        "adamw" => boxed(AdamW::new(0.01).unwrap()),
        "adamw_opts" => boxed(AdamW::with(0.01, (0.9, 0.999), 1e-8, 0.1, true).unwrap()),
        "adamax" => boxed(Adamax::new(0.01).unwrap()),
        "lion" => boxed(Lion::new(0.01).unwrap()),
        "lion_wd" => boxed(Lion::with(0.01, (0.9, 0.99), 0.1).unwrap()),
        "adam_cosine" => boxed(Adam::new(schedule("cosine_decay")).unwrap()),
        "sgd_join" => boxed(Sgd::with(schedule("join_schedules"), 0.5, 0.0, 0.0, false).unwrap()),
        "adafactor" => boxed(Adafactor::new().unwrap()),
        "adafactor_opts" => boxed(
            Adafactor::with(
                Some(0.01.into()),
                (1e-30, 1e-3),
                1.0,
                -0.8,
                Some(0.9),
                0.01,
                true,
                false,
                false,
            )
            .unwrap(),
        ),
        "adafactor_warmup" => boxed(
            Adafactor::with(None, (1e-30, 1e-3), 1.0, -0.8, None, 0.0, false, true, true).unwrap(),
        ),
        "muon" => boxed(Muon::new(0.02).unwrap()),
        "muon_plain" => boxed(Muon::with(0.02, 0.9, 0.0, false, 3).unwrap()),
        other => panic!("unknown optimizer {other}"),
    }
}

#[test]
fn updates_and_state_match_python() {
    let mut r = Report::new();
    let g = pinned(golden_file!("optimizers.json"));
    let grads: Vec<Params> = g["grads"].as_array().unwrap().iter().map(tree).collect();
    let cases = g["optimizers"].as_object().unwrap();
    assert_eq!(cases.len(), 22);
    for (name, case) in cases {
        let mut params = tree(&g["params"]);
        let mut run = optimizer(name);
        let mut state = HashMap::new();
        for (i, (grad, want)) in grads
            .iter()
            .zip(case["steps"].as_array().unwrap())
            .enumerate()
        {
            state = run(&mut params, grad).unwrap();
            for (k, v) in want.as_object().unwrap() {
                assert_golden(
                    &mut r,
                    &params[k],
                    v,
                    Family::Transcendental,
                    &format!("{name} step {i} {k}"),
                );
            }
        }
        let want_state = case["state"].as_object().unwrap();
        let mut names: Vec<&String> = state.keys().collect();
        names.sort();
        let mut want_names: Vec<&String> = want_state.keys().collect();
        want_names.sort();
        assert_eq!(names, want_names, "{name}: state names");
        for (k, v) in want_state {
            if k == "step" {
                assert_eq!(
                    state[k].item::<u64>().unwrap(),
                    v.as_u64().unwrap(),
                    "{name} step"
                );
            } else {
                assert_golden(
                    &mut r,
                    &state[k],
                    v,
                    Family::Transcendental,
                    &format!("{name} state {k}"),
                );
            }
        }
    }
    r.finish();
}

#[test]
fn schedules_match_python() {
    let mut r = Report::new();
    let g = pinned(golden_file!("optimizers.json"));
    for (name, values) in g["schedules"].as_object().unwrap() {
        let s = schedule(name);
        for (step, want) in values.as_array().unwrap().iter().enumerate() {
            let got = s(&Array::scalar(step as u64).unwrap()).unwrap();
            assert_golden(
                &mut r,
                &got,
                want,
                Family::Transcendental,
                &format!("{name}({step})"),
            );
        }
    }
    r.finish();
}

#[test]
fn clip_grad_norm_matches_python() {
    let mut r = Report::new();
    let g = pinned(golden_file!("optimizers.json"));
    let grads = tree(&g["grads"][0]);
    for (max_norm, want) in g["clip_grad_norm"].as_object().unwrap() {
        let (clipped, norm) = clip_grad_norm(&grads, max_norm.parse().unwrap()).unwrap();
        assert_golden(
            &mut r,
            &norm,
            &want["norm"],
            Family::Transcendental,
            &format!("norm {max_norm}"),
        );
        for (k, v) in want["grads"].as_object().unwrap() {
            assert_golden(
                &mut r,
                &clipped[k],
                v,
                Family::Transcendental,
                &format!("clip {max_norm} {k}"),
            );
        }
    }
    assert!(matches!(
        clip_grad_norm(&grads, -1.0),
        Err(Error::InvalidArgument { .. })
    ));
    r.finish();
}

#[test]
fn a_saved_state_resumes_bit_exactly() {
    let g = pinned(golden_file!("optimizers.json"));
    let grads: Vec<Params> = g["grads"].as_array().unwrap().iter().map(tree).collect();
    let dir = std::env::temp_dir().join(format!("mlx-rs-opt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("adam.safetensors");
    // Uninterrupted: four steps.
    let mut straight = tree(&g["params"]);
    let mut a = Adam::with(0.01, (0.9, 0.999), 1e-8, true).unwrap();
    for grad in &grads {
        a.update(&mut straight, grad).unwrap();
    }
    // Two steps, save, a fresh optimizer loads the state, two more steps.
    let mut resumed = tree(&g["params"]);
    let mut b = Adam::with(0.01, (0.9, 0.999), 1e-8, true).unwrap();
    for grad in &grads[..2] {
        b.update(&mut resumed, grad).unwrap();
    }
    mlx_rs::eval(resumed.values()).unwrap();
    b.save_state(&path).unwrap();
    let mut c = Adam::with(0.01, (0.9, 0.999), 1e-8, true).unwrap();
    c.load_state(&path).unwrap();
    assert_eq!(c.step().item::<u64>().unwrap(), 2);
    for grad in &grads[2..] {
        c.update(&mut resumed, grad).unwrap();
    }
    for k in ["a", "b"] {
        let x: Vec<u32> = straight[k]
            .to_vec::<f32>()
            .unwrap()
            .iter()
            .map(|v| v.to_bits())
            .collect();
        let y: Vec<u32> = resumed[k]
            .to_vec::<f32>()
            .unwrap()
            .iter()
            .map(|v| v.to_bits())
            .collect();
        assert_eq!(x, y, "{k}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_arguments_are_errors_with_python_messages() {
    let msg = |r: mlx_rs::Result<()>| match r {
        Err(Error::InvalidArgument { op, reason }) => format!("{op}: {reason}"),
        other => panic!("{other:?}"),
    };
    assert_eq!(
        msg(Sgd::with(0.1, 0.0, 0.0, 0.0, true).map(drop)),
        "SGD: Nesterov momentum requires a momentum and zero dampening."
    );
    assert_eq!(
        msg(Adam::with(0.1, (1.0, 0.999), 1e-8, false).map(drop)),
        "Adam: Adam beta1 should be in [0, 1), 1 was provided instead"
    );
    assert_eq!(
        msg(RMSprop::with(0.1, 0.9, 0.0).map(drop)),
        "RMSprop: RMSprop epsilon should be >0, 0 was provided instead"
    );
    assert_eq!(
        msg(step_decay(0.1, 0.5, 0).map(drop)),
        "step_decay: step_size must be greater than 0, but got 0."
    );
    assert_eq!(
        msg(join_schedules(vec![exponential_decay(0.1, 0.9)], vec![3]).map(drop)),
        "join_schedules: Received 1 boundaries but expected 0."
    );
    // A gradient without a parameter, or of another shape, changes nothing.
    let mut params = Params::from([(
        "w".to_string(),
        Array::ones(&[2], mlx_rs::Dtype::Float32).unwrap(),
    )]);
    let mut opt = Adam::new(0.1).unwrap();
    let stray = Params::from([(
        "x".to_string(),
        Array::ones(&[2], mlx_rs::Dtype::Float32).unwrap(),
    )]);
    assert_eq!(
        msg(opt.update(&mut params, &stray)),
        "Adam: gradient \"x\" has no parameter"
    );
    let wrong = Params::from([(
        "w".to_string(),
        Array::ones(&[3], mlx_rs::Dtype::Float32).unwrap(),
    )]);
    assert_eq!(
        msg(opt.update(&mut params, &wrong)),
        "Adam: gradient \"w\" has shape [3], the parameter [2]"
    );
    assert_eq!(opt.step().item::<u64>().unwrap(), 0);
    assert!(opt.state().len() == 2, "no slots were made");

    // A state of another model (another shape for "w.m"), or without a
    // slot the optimizer needs: an error naming it, nothing changed.
    let ones = |n: i32| Array::ones(&[n], mlx_rs::Dtype::Float32).unwrap();
    let grads = Params::from([("w".to_string(), ones(2))]);
    let mut state = HashMap::from([
        ("step".to_string(), Array::scalar(3u64).unwrap()),
        ("learning_rate".to_string(), Array::scalar(0.1f32).unwrap()),
        ("w.m".to_string(), ones(3)),
        ("w.v".to_string(), ones(2)),
    ]);
    opt.set_state(state.clone()).unwrap();
    assert_eq!(
        msg(opt.update(&mut params, &grads)),
        "Adam: state w.m has shape [3], the parameter [2] (a state from another model?)"
    );
    assert_eq!(params["w"].to_vec::<f32>().unwrap(), [1.0, 1.0]);
    state.remove("w.m");
    opt.set_state(state).unwrap();
    assert_eq!(
        msg(opt.update(&mut params, &grads)),
        "optimizer: the parameter's state has no \"m\" (a state from another optimizer?)"
    );
    assert_eq!(opt.step().item::<u64>().unwrap(), 3);
    let bad_step = HashMap::from([("learning_rate".to_string(), ones(1))]);
    assert_eq!(
        msg(opt.set_state(bad_step)),
        "Adam: the state has no \"step\""
    );
}

#[test]
fn multi_optimizer_matches_python() {
    let mut r = Report::new();
    let g = pinned(golden_file!("optimizers.json"));
    let grads: Vec<Params> = g["grads"].as_array().unwrap().iter().map(tree).collect();
    let case = &g["multi"];
    let mut opt = MultiOptimizer::new(
        vec![
            Box::new(Adam::new(0.01).unwrap()),
            Box::new(Sgd::with(0.1, 0.9, 0.0, 0.0, false).unwrap()),
        ],
        vec![Box::new(|name: &str, _: &Array| name == "a")],
    )
    .unwrap();
    let mut params = tree(&g["params"]);
    for (i, (grad, want)) in grads
        .iter()
        .zip(case["steps"].as_array().unwrap())
        .enumerate()
    {
        opt.update(&mut params, grad).unwrap();
        for (k, v) in want.as_object().unwrap() {
            assert_golden(
                &mut r,
                &params[k],
                v,
                Family::Transcendental,
                &format!("multi step {i} {k}"),
            );
        }
    }
    let state = opt.state();
    let want = case["state"].as_object().unwrap();
    let mut names: Vec<&String> = state.keys().collect();
    names.sort();
    assert_eq!(names, want.keys().collect::<Vec<_>>(), "multi: state names");
    for (k, v) in want {
        if k.ends_with(".step") {
            assert_eq!(state[k].item::<u64>().unwrap(), v.as_u64().unwrap(), "{k}");
        } else {
            assert_golden(
                &mut r,
                &state[k],
                v,
                Family::Transcendental,
                &format!("multi state {k}"),
            );
        }
    }
    r.finish();

    // Resume: a saved state loads into a fresh MultiOptimizer.
    let dir = std::env::temp_dir().join(format!("mlx-rs-multi-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("multi.safetensors");
    opt.save_state(&path).unwrap();
    let mut fresh = MultiOptimizer::new(
        vec![
            Box::new(Adam::new(0.01).unwrap()),
            Box::new(Sgd::with(0.1, 0.9, 0.0, 0.0, false).unwrap()),
        ],
        vec![Box::new(|name: &str, _: &Array| name == "a")],
    )
    .unwrap();
    fresh.load_state(&path).unwrap();
    let (mut p1, mut p2) = (params.clone(), params.clone());
    opt.update(&mut p1, &grads[0]).unwrap();
    fresh.update(&mut p2, &grads[0]).unwrap();
    for k in ["a", "b"] {
        assert_eq!(
            p1[k].to_vec::<f32>().unwrap(),
            p2[k].to_vec::<f32>().unwrap(),
            "resumed {k}"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();

    let msg = |r: mlx_rs::Result<()>| match r {
        Err(Error::InvalidArgument { op, reason }) => format!("{op}: {reason}"),
        other => panic!("{other:?}"),
    };
    assert_eq!(
        msg(MultiOptimizer::new(
            vec![Box::new(Adam::new(0.1).unwrap())],
            vec![Box::new(|_: &str, _: &Array| true)]
        )
        .map(drop)),
        "MultiOptimizer: Given 1 filters but 0 needed."
    );
    let mut bad = opt.state();
    bad.insert("states.7.step".into(), Array::scalar(1u64).unwrap());
    assert!(
        msg(opt.set_state(bad)).contains("\"states.7.step\" is not states.<i>.<name> for i < 2")
    );
    assert_eq!(
        msg(opt.update(
            &mut params,
            &Params::from([("zz".to_string(), Array::scalar(1.0f32).unwrap())])
        )),
        "MultiOptimizer: gradient \"zz\" has no parameter"
    );
    // Adafactor's factored state has its own shapes; one of another model is refused.
    let mut ada = Adafactor::new().unwrap();
    let mut p = tree(&g["params"]);
    ada.update(&mut p, &grads[0]).unwrap();
    let mut st = ada.state();
    st.insert(
        "a.exp_avg_sq_row".into(),
        Array::zeros(&[4], mlx_rs::Dtype::Float32).unwrap(),
    );
    ada.set_state(st).unwrap();
    assert_eq!(
        msg(ada.update(&mut p, &grads[1])),
        "Adafactor: state a.exp_avg_sq_row has shape [4], the parameter [3, 4] (a state from another model?)"
    );
}
