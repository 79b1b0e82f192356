//! MLX's distributed engine on loopback with the ring backend.
//!
//! Each test re-runs this test binary as 2 or 4 ranks (the ignored
//! `child_*` test of the same purpose, selected by name) through
//! `mlx_rs::distributed::launch`, which writes the ring hostfile on free
//! ports, sets `MLX_RANK` / `MLX_HOSTFILE` as `mlx.launch` does, and kills
//! every rank still running at the time limit: no test can hang CI.

use std::time::{Duration, Instant};

use mlx_rs::distributed::launch::{Launch, Outcome};
use mlx_rs::distributed::{
    all_gather, all_max, all_min, all_sum, all_sum_on, is_available, recv, recv_like, send,
    sum_scatter, Backend, Group,
};
use mlx_rs::nn::{average_gradients, AllToShardedLinear, Linear, Module, ShardedToAllLinear};
use mlx_rs::optimizers::{Optimizer, Params, Sgd};
use mlx_rs::{eval, ops, Array, Device, Dtype, Error, Stream};

/// Set in the ranks' environment.
const CHILD: &str = "MLX_RS_DISTRIBUTED_CHILD";

/// Runs the ignored test `child` as `n` ranks, within `limit`.
fn launch(n: usize, child: &str, limit: Duration) -> Outcome {
    Launch::new(n, std::env::current_exe().unwrap())
        .args([
            "--exact",
            child,
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, "1")
        .timeout(limit)
        .run()
        .unwrap()
}

/// Runs `child` as `n` ranks and requires each to pass its one test.
fn ranks_pass(n: usize, child: &str) {
    let out = launch(n, child, Duration::from_secs(120));
    if let Err(e) = out.check() {
        panic!("{e}\n{out:#?}");
    }
    for r in &out.ranks {
        assert!(
            r.stdout.contains("1 passed"),
            "rank {} ran no test: {}",
            r.rank,
            r.stdout
        );
    }
}

/// This rank's group (only in a child).
fn group() -> Group {
    assert!(std::env::var_os(CHILD).is_some(), "run only as a rank");
    let g = Group::init(Backend::Ring, true).unwrap();
    assert!(g.size() > 1);
    g
}

/// `x` as `f64`s.
fn values(x: &Array) -> Vec<f64> {
    x.astype(Dtype::Float64)
        .and_then(|a| a.to_vec::<f64>())
        .or_else(|_| {
            x.astype(Dtype::Float32)
                .and_then(|a| a.to_vec::<f32>())
                .map(|v| v.into_iter().map(f64::from).collect())
        })
        .unwrap()
}

/// `pattern[i] + rank` in `dtype` (small integers: exact in every dtype).
fn rank_array(shape: &[i32], dtype: Dtype, rank: usize) -> (Array, Vec<f64>) {
    let n: i32 = shape.iter().product();
    let pattern: Vec<f32> = (0..n).map(|i| (i % 7) as f32).collect();
    let mine: Vec<f32> = pattern.iter().map(|p| p + rank as f32).collect();
    let a = Array::from_slice(&mine, shape)
        .unwrap()
        .astype(dtype)
        .unwrap();
    (a, pattern.into_iter().map(f64::from).collect())
}

const DTYPES: [Dtype; 6] = [
    Dtype::Float32,
    Dtype::Float16,
    Dtype::Bfloat16,
    Dtype::Int32,
    Dtype::Int64,
    Dtype::Uint8,
];
const SHAPES: [&[i32]; 6] = [&[], &[0], &[1], &[3], &[2, 5, 3], &[1 << 20]];

fn collectives_child() {
    let g = group();
    let (n, r) = (g.size(), g.rank());
    let nf = n as f64;
    for dtype in DTYPES {
        for shape in SHAPES {
            if shape == [1 << 20] && dtype != Dtype::Float32 && dtype != Dtype::Int32 {
                continue;
            }
            let what = format!("{dtype:?} {shape:?}");
            let (x, p) = rank_array(shape, dtype, r);
            let sum = all_sum(&x, &g).unwrap();
            let max = all_max(&x, &g).unwrap();
            let min = all_min(&x, &g).unwrap();
            let gat = all_gather(&x, &g).unwrap();
            eval([&sum, &max, &min, &gat]).unwrap();
            for (name, a) in [("sum", &sum), ("max", &max), ("min", &min)] {
                assert_eq!(a.shape(), shape, "{name} {what}");
                assert_eq!(a.dtype(), dtype, "{name} {what}");
            }
            let tri = nf * (nf - 1.0) / 2.0;
            let want: Vec<f64> = p.iter().map(|v| v * nf + tri).collect();
            assert_eq!(values(&sum), want, "sum {what}");
            let want: Vec<f64> = p.iter().map(|v| v + nf - 1.0).collect();
            assert_eq!(values(&max), want, "max {what}");
            assert_eq!(values(&min), p, "min {what}");
            let mut gshape = if shape.is_empty() {
                vec![1]
            } else {
                shape.to_vec()
            };
            gshape[0] *= n as i32;
            assert_eq!(gat.shape(), gshape, "gather {what}");
            let want: Vec<f64> = (0..n)
                .flat_map(|k| p.iter().map(move |v| v + k as f64))
                .collect();
            assert_eq!(values(&gat), want, "gather {what}");
        }
    }
    // On an explicit stream.
    let s = Stream::new(Device::cpu()).unwrap();
    let (x, p) = rank_array(&[4], Dtype::Float32, r);
    let y = all_sum_on(&x, &g, &s).unwrap();
    let want: Vec<f64> = p.iter().map(|v| v * nf + nf * (nf - 1.0) / 2.0).collect();
    assert_eq!(values(&y), want);
}

#[test]
#[ignore = "a rank of collectives_on_2_and_4_ranks"]
fn child_collectives() {
    collectives_child();
}

#[test]
fn collectives_on_2_ranks() {
    ranks_pass(2, "child_collectives");
}

#[test]
fn collectives_on_4_ranks() {
    ranks_pass(4, "child_collectives");
}

#[test]
#[ignore = "a rank of send_recv_*"]
fn child_send_recv() {
    let g = group();
    let (n, r) = (g.size(), g.rank());
    let right = (r + 1) % n;
    let left = (r + n - 1) % n;
    for shape in [&[3, 2][..], &[0], &[1 << 18]] {
        let (x, p) = rank_array(shape, Dtype::Float32, r);
        // Even ranks send first, odd ranks receive first, so that a send
        // larger than the socket buffers always has a reader.
        let sent = send(&x, right, &g).unwrap();
        let got = recv(shape, Dtype::Float32, left, &g).unwrap();
        if r % 2 == 0 {
            sent.eval().unwrap();
            got.eval().unwrap();
        } else {
            got.eval().unwrap();
            sent.eval().unwrap();
        }
        assert_eq!(got.shape(), shape);
        let want: Vec<f64> = p.iter().map(|v| v + left as f64).collect();
        assert_eq!(values(&got), want, "{shape:?} from {left}");
    }
    // A pair: rank 0 sends int32 to rank 1 (recv_like), the others idle.
    if r < 2 {
        let x = Array::from_slice(&[7i32, 8, 9], &[3]).unwrap();
        if r == 0 {
            send(&x, 1, &g).unwrap().eval().unwrap();
        } else {
            let y = recv_like(&Array::zeros(&[3], Dtype::Int32).unwrap(), 0, &g).unwrap();
            assert_eq!(y.to_vec::<i32>().unwrap(), [7, 8, 9]);
            assert_eq!(y.dtype(), Dtype::Int32);
        }
    }
    if n > 3 {
        // The ring reaches only neighbours.
        let e = send(&Array::ones(&[1], Dtype::Float32).unwrap(), (r + 2) % n, &g)
            .and_then(|a| a.eval())
            .unwrap_err();
        assert!(
            e.to_string()
                .contains("[ring] Send only supported to direct neighbors"),
            "{e}"
        );
    }
    // The group still works.
    let s = all_sum(&Array::ones(&[2], Dtype::Float32).unwrap(), &g).unwrap();
    assert_eq!(s.to_vec::<f32>().unwrap(), [n as f32; 2]);
}

#[test]
fn send_recv_on_2_ranks() {
    ranks_pass(2, "child_send_recv");
}

#[test]
fn send_recv_on_4_ranks() {
    ranks_pass(4, "child_send_recv");
}

/// The text of an `Error::Mlx`.
fn mlx_message(e: &Error) -> &str {
    match e {
        Error::Mlx { message, .. } => message,
        other => panic!("not an MLX error: {other:?}"),
    }
}

#[test]
#[ignore = "a rank of errors_are_mlx_errors"]
fn child_errors() {
    let g = group();
    let (n, r) = (g.size(), g.rank());
    let x = Array::ones(&[4], Dtype::Float32).unwrap();
    // Bad ranks: MLX checks them when the op is made.
    let e = send(&x, n + 3, &g).unwrap_err();
    assert_eq!(
        mlx_message(&e),
        format!("Invalid destination={} for a group of size {n}", n + 3)
    );
    // Sending to itself: the ring finds it when the send runs.
    let e = send(&x, r, &g).and_then(|a| a.eval()).unwrap_err();
    assert!(
        mlx_message(&e).starts_with(&format!(
            "[ring] Send only supported to direct neighbors but tried to send to {r} from {r}"
        )),
        "{e}"
    );
    let e = recv(&[4], Dtype::Float32, n, &g).unwrap_err();
    assert_eq!(
        mlx_message(&e),
        format!("Invalid source={n} for a group of size {n}")
    );
    // The backend, also when MLX picks it.
    assert_eq!(g.backend(), Backend::Ring);
    assert_eq!(
        Group::init(Backend::Any, false).unwrap().backend(),
        Backend::Ring
    );
    // The ring communicates on the CPU: a GPU stream is refused before
    // MLX sees it (MLX would fail at evaluation, or abort inside a CUDA
    // graph capture).
    if mlx_rs::cuda::is_available().unwrap() {
        let gpu = Stream::new(Device::gpu()).unwrap();
        let e = all_sum_on(&x, &g, &gpu).unwrap_err();
        assert!(
            matches!(&e, Error::InvalidArgument { op: "mlx_distributed_all_sum", reason }
                if reason == "the ring backend communicates on a CPU stream, not a GPU one"),
            "{e:?}"
        );
    }
    // What the ring backend cannot do.
    let e = g.split(0, -1).unwrap_err();
    assert_eq!(mlx_message(&e), "[ring] Group split not supported.");
    let e = sum_scatter(&Array::ones(&[2 * n as i32], Dtype::Float32).unwrap(), &g)
        .and_then(|a| a.eval())
        .unwrap_err();
    assert!(
        mlx_message(&e).contains("[ring] sum_scatter not supported."),
        "{e}"
    );
    // A shape that differs between ranks: reported by the checking group.
    let checked = g.clone().with_shape_check(true);
    let mine = Array::ones(&[10 + 10 * r as i32], Dtype::Float32).unwrap();
    let e = all_sum(&mine, &checked).unwrap_err();
    match &e {
        Error::InvalidArgument { op, reason } => {
            assert_eq!(*op, "mlx_distributed_all_sum");
            assert!(reason.contains("rank 0: float32 [10]"), "{reason}");
            assert!(reason.contains("rank 1: float32 [20]"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    let e = all_gather(&mine.astype(Dtype::Int32).unwrap(), &checked).unwrap_err();
    assert!(e.to_string().contains("int32 [10]"), "{e}");
    // And the group still works; the check passes where shapes agree.
    let s = all_sum(&x, &checked).unwrap();
    assert_eq!(s.to_vec::<f32>().unwrap(), [n as f32; 4]);
}

#[test]
fn errors_are_mlx_errors() {
    ranks_pass(2, "child_errors");
}

#[test]
fn without_a_launch_the_group_has_one_rank() {
    // This process has no MLX_RANK / MLX_HOSTFILE.
    assert!(is_available(Backend::Ring).unwrap());
    if std::env::var_os("MLX_HOSTFILE").is_some() {
        return;
    }
    // Strict first: MLX keeps the group a backend gave, the group of one
    // included, and returns it to every later `init` of that backend.
    let e = Group::init(Backend::Ring, true).unwrap_err();
    assert!(
        mlx_message(&e)
            .contains("You need to provide via environment variables both a rank (MLX_RANK)"),
        "{e}"
    );
    let g = Group::init(Backend::Ring, false).unwrap();
    assert_eq!((g.rank(), g.size()), (0, 1));
    assert_eq!(g.backend(), Backend::Ring);
    let x = Array::from_slice(&[1.5f32, 2.5], &[2]).unwrap();
    assert_eq!(
        all_sum(&x, &g).unwrap().to_vec::<f32>().unwrap(),
        [1.5, 2.5]
    );
    assert_eq!(
        all_gather(&x, &g).unwrap().to_vec::<f32>().unwrap(),
        [1.5, 2.5]
    );
    // The registry: a strict `init` now gets the group of one too.
    assert_eq!(Group::init(Backend::Ring, true).unwrap().size(), 1);
    // MPI: no library here (the CPU wheel), or (the CUDA wheel, which
    // finds one) a world of one process.
    let e = Group::init(Backend::Mpi, true).unwrap_err();
    assert!(
        [
            "Cannot initialize MPI",
            "[mpi] The world has a single process. Launch with mpirun to initialize the mpi backend."
        ]
        .contains(&mlx_message(&e)),
        "{e}"
    );
    let e = g.split(0, 0).unwrap_err();
    assert_eq!(
        mlx_message(&e),
        "Cannot split the distributed group further."
    );
    let e = send(&x, 0, &g).unwrap_err();
    assert_eq!(mlx_message(&e), "Cannot send to a singleton group");
}

#[test]
#[ignore = "a rank of a_dying_rank_fails_its_peer"]
fn child_dies() {
    let g = group();
    if g.rank() == 1 {
        std::process::exit(3);
    }
    let e = all_sum(&Array::ones(&[1000], Dtype::Float32).unwrap(), &g)
        .and_then(|a| a.eval())
        .unwrap_err();
    assert_eq!(mlx_message(&e), "[ring] connection to a peer was lost");
}

#[test]
fn a_dying_rank_fails_its_peer() {
    let out = launch(2, "child_dies", Duration::from_secs(60));
    assert!(!out.timed_out, "{out:#?}");
    assert_eq!(
        out.ranks[1].status.and_then(|s| s.code()),
        Some(3),
        "{out:#?}"
    );
    assert!(out.ranks[0].success(), "{out:#?}");
    assert!(out.ranks[0].stdout.contains("1 passed"), "{out:#?}");
    assert!(out.check().is_err());
}

#[test]
#[ignore = "a rank of a_rank_left_alone_is_killed_at_the_time_limit"]
fn child_alone() {
    let _ = std::env::var_os(CHILD).expect("run only as a rank");
    // Rank 1 leaves without joining: rank 0 waits in `accept`, which MLX
    // does not bound.
    if std::env::var("MLX_RANK").unwrap() == "0" {
        let _ = Group::init(Backend::Ring, true);
        unreachable!("rank 0 cannot form a ring alone");
    }
}

#[test]
fn a_rank_left_alone_is_killed_at_the_time_limit() {
    let t = Instant::now();
    let out = launch(2, "child_alone", Duration::from_secs(4));
    assert!(out.timed_out, "{out:#?}");
    assert!(out.ranks[1].success(), "{out:#?}");
    assert_eq!(out.ranks[0].status, None, "rank 0 was killed: {out:#?}");
    assert!(t.elapsed() < Duration::from_secs(30));
    let e = out.check().unwrap_err().to_string();
    assert!(
        e.contains("timed out") && e.contains("rank 0 was killed"),
        "{e}"
    );
}

#[test]
#[ignore = "a rank of a_peer_that_never_listens_fails_the_connect"]
fn child_connects_to_nobody() {
    let _ = std::env::var_os(CHILD).expect("run only as a rank");
    // Rank 0 leaves at once; rank 1 connects to it first (MLX's order),
    // is refused, retries with growing waits, and fails.
    if std::env::var("MLX_RANK").unwrap() == "1" {
        let e = Group::init(Backend::Ring, true).unwrap_err();
        assert!(
            mlx_message(&e).starts_with("[ring] Couldn't connect"),
            "{e}"
        );
    }
}

#[test]
fn a_peer_that_never_listens_fails_the_connect() {
    let out = launch(2, "child_connects_to_nobody", Duration::from_secs(120));
    if let Err(e) = out.check() {
        panic!("{e}");
    }
    assert!(out.ranks[1].stdout.contains("1 passed"), "{out:#?}");
}

#[test]
fn the_hostfile_is_mlx_launch_s() {
    let out = Launch::new(2, "/bin/sh")
        .args(["-c", "echo $MLX_RANK; cat $MLX_HOSTFILE"])
        .ports(vec![41000, 41001])
        .run()
        .unwrap();
    out.check().unwrap();
    // The text mlx.launch writes for `-n 2 --starting-port 41000`.
    let file = r#"[["127.0.0.1:41000"], ["127.0.0.1:41001"]]"#;
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&out.hostfile).unwrap(),
        serde_json::from_str::<serde_json::Value>(file).unwrap()
    );
    for (r, o) in out.ranks.iter().enumerate() {
        assert_eq!(o.stdout.lines().next(), Some(r.to_string().as_str()));
        assert_eq!(o.stdout.lines().nth(1), Some(out.hostfile.as_str()));
    }
}

// --- nn ---------------------------------------------------------------

/// A fixed pseudo-random `f32` array in [-1, 1) (an LCG of `seed`).
fn fixed(shape: &[i32], seed: u64) -> Array {
    let n: i32 = shape.iter().product();
    let mut s = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let v: Vec<f32> = (0..n)
        .map(|_| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((s >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
        })
        .collect();
    Array::from_slice(&v, shape).unwrap()
}

fn max_diff(a: &Array, b: &Array) -> f32 {
    ops::max(
        &ops::abs(&ops::subtract(a, b).unwrap()).unwrap(),
        ops::Axes::All,
        false,
    )
    .unwrap()
    .item::<f32>()
    .unwrap()
}

#[test]
#[ignore = "a rank of sharded_linears_match_the_whole_layers"]
fn child_sharded() {
    let g = group();
    let l1 = Linear {
        weight: fixed(&[8, 6], 1),
        bias: Some(fixed(&[8], 2)),
    };
    let l2 = Linear {
        weight: fixed(&[5, 8], 3),
        bias: Some(fixed(&[5], 4)),
    };
    let x = fixed(&[3, 6], 5);
    let whole = l2.forward(&l1.forward(&x).unwrap()).unwrap();
    let s1 = AllToShardedLinear::from_linear(&l1, 1, &g).unwrap();
    let s2 = ShardedToAllLinear::from_linear(&l2, 1, &g).unwrap();
    assert_eq!(s1.weight.shape(), [8 / g.size() as i32, 6]);
    assert_eq!(s2.weight.shape(), [5, 8 / g.size() as i32]);
    let sharded = s2.forward(&s1.forward(&x).unwrap()).unwrap();
    assert!(max_diff(&whole, &sharded) < 1e-5);
    // Fused segments: each of 2 halves sharded on its own.
    let fused = AllToShardedLinear::from_linear(&l1, 2, &g).unwrap();
    let rows = fused.weight.to_vec::<f32>().unwrap();
    let w = l1.weight.to_vec::<f32>().unwrap();
    let per = 4 / g.size();
    let mut want = Vec::new();
    for seg in 0..2 {
        let start = seg * 4 + g.rank() * per;
        want.extend_from_slice(&w[start * 6..(start + per) * 6]);
    }
    assert_eq!(rows, want);
    let e = ShardedToAllLinear::from_linear(&Linear::new(7, 2, false).unwrap(), 1, &g).unwrap_err();
    assert!(e.to_string().contains("does not split"), "{e}");
    // The input's gradient through AllToShardedLinear is summed.
    let gx = mlx_rs::transforms::grad(
        move |a: &[Array]| {
            let y = s1.forward(&a[0])?;
            Ok(vec![ops::sum(&y, ops::Axes::All, false)?])
        },
        &[0],
    )
    .unwrap()
    .call(std::slice::from_ref(&x))
    .unwrap();
    let whole_gx = mlx_rs::transforms::grad(
        move |a: &[Array]| Ok(vec![ops::sum(&l1.forward(&a[0])?, ops::Axes::All, false)?]),
        &[0],
    )
    .unwrap()
    .call(&[x])
    .unwrap();
    assert!(max_diff(&gx[0], &whole_gx[0]) < 1e-5);
    // average_gradients, grouped and not.
    let r = g.rank() as f32;
    let grads: Params = [
        ("a".to_owned(), ops::add(fixed(&[3, 2], 6), r).unwrap()),
        ("b".to_owned(), ops::add(fixed(&[5], 7), r).unwrap()),
        ("c".to_owned(), ops::add(fixed(&[], 8), r).unwrap()),
    ]
    .into();
    let mean_r = (g.size() as f32 - 1.0) / 2.0;
    for size in [0, 8, 1 << 20] {
        let avg = average_gradients(&grads, &g, size).unwrap();
        for (k, v) in &avg {
            let want = ops::add(ops::subtract(&grads[k], r).unwrap(), mean_r).unwrap();
            assert_eq!(v.shape(), grads[k].shape());
            assert!(max_diff(v, &want) < 1e-6, "{k} {size}");
        }
    }
}

#[test]
fn sharded_linears_match_the_whole_layers() {
    ranks_pass(2, "child_sharded");
}

// --- data parallel ------------------------------------------------------

/// A small MLP.
#[derive(Debug, Clone, Module)]
struct Mlp {
    l1: Linear,
    l2: Linear,
}

impl Mlp {
    fn new() -> Mlp {
        Mlp {
            l1: Linear {
                weight: ops::multiply(fixed(&[16, 8], 11), 0.5).unwrap(),
                bias: Some(fixed(&[16], 12)),
            },
            l2: Linear {
                weight: ops::multiply(fixed(&[4, 16], 13), 0.5).unwrap(),
                bias: Some(fixed(&[4], 14)),
            },
        }
    }

    fn forward(&self, x: &Array) -> mlx_rs::Result<Array> {
        self.l2
            .forward(&ops::maximum(&self.l1.forward(x)?, 0.0f32)?)
    }
}

fn mse(m: &Mlp, a: &[Array]) -> mlx_rs::Result<Vec<Array>> {
    let d = ops::subtract(&m.forward(&a[0])?, &a[1])?;
    Ok(vec![ops::mean(&ops::square(&d)?, ops::Axes::All, false)?])
}

/// 20 SGD steps on `x`, `y` (averaging the gradients over `g` if given).
fn train(x: &Array, y: &Array, g: Option<&Group>) -> Params {
    let mut model = Mlp::new();
    let mut opt = Sgd::new(0.1).unwrap();
    for _ in 0..20 {
        let (_, grads) = model.value_and_grad(mse, &[x.clone(), y.clone()]).unwrap();
        let grads = match g {
            Some(g) => average_gradients(&grads, g, 32 << 20).unwrap(),
            None => grads,
        };
        let mut params = model.parameters();
        opt.update(&mut params, &grads).unwrap();
        eval(params.values()).unwrap();
        model.load_weights(params.into_iter().collect()).unwrap();
    }
    model.parameters()
}

#[test]
#[ignore = "a rank of data_parallel_training_matches_one_process"]
fn child_data_parallel() {
    let g = group();
    let (n, r) = (g.size() as i32, g.rank() as i32);
    let x = fixed(&[32, 8], 21);
    let y = fixed(&[32, 4], 22);
    let per = 32 / n;
    let rows = Array::arange(
        f64::from(r * per),
        f64::from((r + 1) * per),
        1.0,
        Dtype::Int32,
    )
    .unwrap();
    let xs = ops::take(&x, &rows, Some(0)).unwrap();
    let ys = ops::take(&y, &rows, Some(0)).unwrap();
    let parallel = train(&xs, &ys, Some(&g));
    let single = train(&x, &y, None);
    let initial = Mlp::new().parameters();
    for (k, p) in &parallel {
        let d = max_diff(p, &single[k]);
        assert!(d < 1e-5, "{k}: {d}");
        assert!(max_diff(p, &initial[k]) > 1e-3, "{k} did not train");
    }
}

#[test]
fn data_parallel_training_matches_one_process() {
    ranks_pass(2, "child_data_parallel");
}
