//! `mlx_rs::random` against Python MLX 0.32.2: every expected value and
//! message comes from `scripts/golden/linalg_fft_random.py` (fixed seeds,
//! CPU), stored in `tests/golden/lfr_random.json`.
//!
//! # Tolerances
//! Keys and bits are integers: exact everywhere. On the CPU every sample
//! must also be bit-identical to Python MLX (same key, same Threefry
//! stream, same transforms). On a GPU the transcendental functions behind
//! the floating samplers (`erfinv`, `log`) round differently; there
//! [`Family::RandomFloat`]'s tolerance applies (`tests/device`, the suite's
//! one table).

mod common;
mod device;
mod lfr_support;

use common::golden::{array, float, golden_file, int, opt_ints, pinned};
use device::{host_bits, Family};
use lfr_support::{run_cases, run_errors};
use mlx_rs::ops::Operand;
use mlx_rs::{random, Array, Device, Dtype, Error, Stream};
use serde_json::Value;

fn golden() -> &'static Value {
    pinned(golden_file!("lfr_random.json"))
}

fn input(name: &str) -> Array {
    array(&golden()["inputs"][name])
}

/// A parameter as Python passes it: an input array by name, an integer
/// (weakly typed, `int32` unless it does not fit) or a float (`float32`).
fn operand(v: &Value) -> Operand<'static> {
    match v {
        Value::String(name) => Operand::Owned(input(name)),
        n if n.is_i64() => {
            let i = n.as_i64().unwrap();
            i32::try_from(i).map_or(Operand::from(i), Operand::from)
        }
        n => Operand::from(float(n)),
    }
}

fn dt(p: &Value) -> Dtype {
    common::golden::dtype(p["dtype"].as_str().unwrap())
}

/// Calls the Rust function `name` as the golden table describes.
fn dispatch(name: &str, x: &[Array], p: &Value) -> mlx_rs::Result<Vec<Array>> {
    let owned_key = match &p["key"] {
        Value::Null => None,
        v => Some(random::key(v.as_u64().unwrap())?),
    };
    let key = if p["key_input"] == true {
        x.last()
    } else {
        owned_key.as_ref()
    };
    let shape = || common::golden::shape(&p["shape"]);
    let opt_array = |v: &Value| v.as_str().map(input);
    Ok(match name {
        "key" => vec![random::key(p["seed"].as_u64().unwrap())?],
        "split" => {
            let (a, b) = random::split(&x[0])?;
            vec![a, b]
        }
        "split_n" => vec![random::split_n(&x[0], int(&p["num"]))?],
        "bits" => vec![random::bits(&shape(), int(&p["width"]), key)?],
        "uniform" => vec![random::uniform(
            operand(&p["low"]),
            operand(&p["high"]),
            &shape(),
            dt(p),
            key,
        )?],
        "normal" => vec![random::normal(
            &shape(),
            dt(p),
            float(&p["loc"]) as f32,
            float(&p["scale"]) as f32,
            key,
        )?],
        "normal_broadcast" => {
            let (loc, scale) = (opt_array(&p["loc"]), opt_array(&p["scale"]));
            vec![random::normal_broadcast(
                &shape(),
                dt(p),
                loc.as_ref(),
                scale.as_ref(),
                key,
            )?]
        }
        "multivariate_normal" => vec![random::multivariate_normal(
            &x[0],
            &x[1],
            &shape(),
            dt(p),
            key,
        )?],
        "randint" => vec![random::randint(
            operand(&p["low"]),
            operand(&p["high"]),
            &shape(),
            dt(p),
            key,
        )?],
        "bernoulli" => vec![random::bernoulli(
            operand(&p["p"]),
            opt_ints(&p["shape"]).as_deref(),
            key,
        )?],
        "truncated_normal" => vec![random::truncated_normal(
            operand(&p["lower"]),
            operand(&p["upper"]),
            opt_ints(&p["shape"]).as_deref(),
            dt(p),
            key,
        )?],
        "gumbel" => vec![random::gumbel(&shape(), dt(p), key)?],
        "categorical" => vec![random::categorical(&x[0], int(&p["axis"]), key)?],
        "categorical_with_shape" => vec![random::categorical_with_shape(
            &x[0],
            int(&p["axis"]),
            &shape(),
            key,
        )?],
        "categorical_samples" => vec![random::categorical_samples(
            &x[0],
            int(&p["axis"]),
            int(&p["num_samples"]),
            key,
        )?],
        "laplace" => vec![random::laplace(
            &shape(),
            dt(p),
            float(&p["loc"]) as f32,
            float(&p["scale"]) as f32,
            key,
        )?],
        "permutation" => vec![random::permutation(&x[0], int(&p["axis"]), key)?],
        "permutation_range" => vec![random::permutation_range(int(&p["n"]), key)?],
        "default_state" => {
            // after seed(s), key-less calls draw from the thread's state
            random::seed(p["seed"].as_u64().unwrap())?;
            vec![
                random::normal(&[3], Dtype::Float32, 0.0, 1.0, None)?,
                random::uniform(0.0, 1.0, &[2, 2], Dtype::Float32, None)?,
                random::randint(0, 100, &[4], Dtype::Int32, None)?,
                random::bernoulli(0.5, Some(&[3]), None)?,
                random::normal(&[2], Dtype::Float32, 0.0, 1.0, None)?,
            ]
        }
        other => panic!("no dispatcher entry for {other}"),
    })
}

#[test]
fn golden_cases_match_python() {
    let seen = run_cases(golden(), &dispatch, |name| match name {
        // a Cholesky / SVD factorization of the covariance (LAPACK)
        "multivariate_normal" => device::lapack_family(Family::RandomFloat),
        _ => Family::RandomFloat,
    });
    // every wrapper of random.h (19 C functions; `seed` through
    // default_state)
    let all = [
        "bernoulli",
        "bits",
        "categorical",
        "categorical_samples",
        "categorical_with_shape",
        "default_state",
        "gumbel",
        "key",
        "laplace",
        "multivariate_normal",
        "normal",
        "normal_broadcast",
        "permutation",
        "permutation_range",
        "randint",
        "split",
        "split_n",
        "truncated_normal",
        "uniform",
    ];
    assert_eq!(seen.keys().map(String::as_str).collect::<Vec<_>>(), all);
    assert!(seen.values().sum::<usize>() >= 60);
}

#[test]
fn bad_inputs_fail_with_mlx_messages() {
    let n = run_errors(golden(), &dispatch);
    assert!(n >= 40, "{n} bad-input cases");
}

/// Bad inputs Python cannot produce golden data for: `bits` (no Python
/// function), and what would end the process in MLX 0.32.2 (refused here).
#[test]
fn bad_inputs_without_python_counterpart() {
    let k = random::key(0).unwrap();
    for width in [0, 3, 8, -1] {
        match random::bits(&[4], width, Some(&k)) {
            Err(Error::Mlx { op, message, .. }) => {
                assert_eq!(op, "mlx_random_bits");
                assert!(message.starts_with("[bits]"), "{message}");
            }
            other => panic!("width {width}: {other:?}"),
        }
    }
    let bad_key = Array::from_slice(&[1.0f32, 2.0], &[2]).unwrap();
    assert!(matches!(
        random::bits(&[4], 4, Some(&bad_key)),
        Err(Error::Mlx { .. })
    ));
    assert!(matches!(
        random::bits(&[-1], 4, Some(&k)),
        Err(Error::Mlx { .. })
    ));
    // Permuting an empty axis divides by zero inside MLX 0.32.2.
    let empty = [vec![0], vec![3, 0], vec![2, 0, 3]];
    for (shape, axis) in empty.iter().zip([0, 1, -2]) {
        let x = Array::zeros(shape, Dtype::Float32).unwrap();
        assert!(
            matches!(
                random::permutation(&x, axis, Some(&k)),
                Err(Error::InvalidShape { .. })
            ),
            "{shape:?}"
        );
    }
    assert!(matches!(
        random::permutation_range(0, None),
        Err(Error::InvalidShape { .. })
    ));
    // An empty array along another axis is fine.
    let x = Array::zeros(&[0, 3], Dtype::Float32).unwrap();
    assert_eq!(
        random::permutation(&x, 1, Some(&k)).unwrap().shape(),
        [0, 3]
    );
}

#[test]
fn explicit_keys_ignore_the_default_state() {
    let k = random::key(11).unwrap();
    random::seed(1).unwrap();
    let a = random::normal(&[4], Dtype::Float32, 0.0, 1.0, Some(&k)).unwrap();
    random::seed(2).unwrap();
    let _ = random::normal(&[4], Dtype::Float32, 0.0, 1.0, None).unwrap();
    let b = random::normal(&[4], Dtype::Float32, 0.0, 1.0, Some(&k)).unwrap();
    assert_eq!(host_bits(&a), host_bits(&b));
    // split keys differ from each other and from the parent
    let (k1, k2) = random::split(&k).unwrap();
    let (v, v1, v2) = (host_bits(&k), host_bits(&k1), host_bits(&k2));
    assert!(v != v1 && v != v2 && v1 != v2);
    let rows = random::split_n(&k, 2).unwrap();
    assert_eq!(host_bits(&rows), [v1, v2].concat());
}

#[test]
fn default_state_advances_and_reseeds() {
    random::seed(5).unwrap();
    let a = random::uniform(0.0, 1.0, &[3], Dtype::Float32, None).unwrap();
    let b = random::uniform(0.0, 1.0, &[3], Dtype::Float32, None).unwrap();
    assert_ne!(host_bits(&a), host_bits(&b));
    random::seed(5).unwrap();
    let c = random::uniform(0.0, 1.0, &[3], Dtype::Float32, None).unwrap();
    assert_eq!(host_bits(&a), host_bits(&c));
}

/// MLX keeps the default key state per thread: seeding on one thread does
/// not move another's sequence.
#[test]
fn default_state_is_per_thread() {
    let draw = || {
        random::seed(99).unwrap();
        let first = random::randint(0, 1000, &[8], Dtype::Int32, None).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        let second = random::randint(0, 1000, &[8], Dtype::Int32, None).unwrap();
        (
            first.to_vec::<i32>().unwrap(),
            second.to_vec::<i32>().unwrap(),
        )
    };
    let handles: Vec<_> = (0..4).map(|_| std::thread::spawn(draw)).collect();
    let here = draw();
    for h in handles {
        assert_eq!(h.join().unwrap(), here);
    }
}

#[test]
fn on_forms_match_the_plain_forms() {
    let s = Stream::new(Device::cpu()).unwrap();
    let k = random::key(3).unwrap();
    let pairs = [
        (
            random::normal_on(&[5], Dtype::Float32, 1.0, 2.0, Some(&k), &s).unwrap(),
            random::normal(&[5], Dtype::Float32, 1.0, 2.0, Some(&k)).unwrap(),
        ),
        (
            random::gumbel_on(&[5], Dtype::Float16, Some(&k), &s).unwrap(),
            random::gumbel(&[5], Dtype::Float16, Some(&k)).unwrap(),
        ),
        (
            random::permutation_range_on(7, Some(&k), &s).unwrap(),
            random::permutation_range(7, Some(&k)).unwrap(),
        ),
        (
            random::bits_on(&[3], 1, Some(&k), &s).unwrap(),
            random::bits(&[3], 1, Some(&k)).unwrap(),
        ),
    ];
    for (on, plain) in &pairs {
        assert_eq!(host_bits(on), host_bits(plain));
    }
    // a permutation is a permutation
    let mut p = pairs[2].0.to_vec::<u32>().unwrap();
    p.sort_unstable();
    assert_eq!(p, [0, 1, 2, 3, 4, 5, 6]);
}

/// `multivariate_normal` needs MLX's CPU-only SVD: by default it runs on the
/// CPU stream, and with a GPU stream MLX refuses it.
#[test]
fn multivariate_normal_runs_on_the_cpu() {
    let mean = input("mean2");
    let cov = input("cov22");
    let k = random::key(16).unwrap();
    let plain = random::multivariate_normal(&mean, &cov, &[4], Dtype::Float32, Some(&k)).unwrap();
    assert_eq!(plain.shape(), [4, 2]);
    if !Device::gpu().is_available().unwrap() {
        return;
    }
    let gpu = Stream::new(Device::gpu()).unwrap();
    let err = random::multivariate_normal_on(&mean, &cov, &[4], Dtype::Float32, Some(&k), &gpu)
        .unwrap_err();
    assert!(
        matches!(&err, Error::Mlx { message, .. } if message.contains("not yet supported on the GPU")),
        "{err:?}"
    );
    let inside = mlx_rs::with_stream(&gpu, || {
        random::multivariate_normal(&mean, &cov, &[4], Dtype::Float32, Some(&k))
    })
    .unwrap();
    assert_eq!(host_bits(&inside), host_bits(&plain));
}
