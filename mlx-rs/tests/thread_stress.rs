//! Independent graphs on several threads at once: what MLX 0.32 supports
//! and what `Array`'s thread story (`!Send`, one graph per thread) relies
//! on. Would catch MLX racing on shared state (the CPU command-encoder map
//! was a global, unlocked map before 0.32.0) or our error slot leaking
//! between threads.

use mlx_rs::{eval, Array, Dtype, Error, Stream};

const THREADS: usize = 6;
const ITERS: usize = 3000;

fn worker(t: usize) -> Result<(), String> {
    let k = t as f32 + 1.0;
    for i in 0..ITERS {
        let base: Vec<f32> = (0..64).map(|j| (j + i) as f32).collect();
        let a = Array::from_slice(&base, &[8, 8]).map_err(|e| e.to_string())?;
        // A small graph: (a * k + i) transposed, minus a transposed.
        let b = ((&a * k).and_then(|x| x + i as f64)).map_err(|e| e.to_string())?;
        let d = (b.transpose().map_err(|e| e.to_string())?
            - a.transpose().map_err(|e| e.to_string())?)
        .map_err(|e| e.to_string())?;
        let s = d.index(3).map_err(|e| e.to_string())?;
        if i % 2 == 0 {
            eval([&d, &s]).map_err(|e| e.to_string())?;
        } else {
            d.async_eval().map_err(|e| e.to_string())?;
        }
        let got = d.to_vec::<f32>().map_err(|e| e.to_string())?;
        for r in 0..8 {
            for c in 0..8 {
                let x = base[c * 8 + r];
                let want = x * k + i as f32 - x;
                if got[r * 8 + c] != want {
                    return Err(format!(
                        "thread {t} iter {i}: [{r},{c}] {} != {want}",
                        got[r * 8 + c]
                    ));
                }
            }
        }
        // Each thread also hits MLX errors: the message must come back on
        // this thread, for this call, not another thread's.
        if i % 50 == 0 {
            let bad = Array::zeros(&[3], Dtype::Float32).map_err(|e| e.to_string())?;
            match &a + &bad {
                Err(Error::Mlx {
                    op: "mlx_add",
                    message,
                    ..
                }) if message.contains("broadcast") => {}
                other => {
                    return Err(format!(
                        "thread {t}: expected a broadcast error, got {other:?}"
                    ))
                }
            }
        }
    }
    Ok(())
}

#[test]
fn independent_graphs_on_many_threads() {
    let handles: Vec<_> = (0..THREADS)
        .map(|t| std::thread::spawn(move || worker(t)))
        .collect();
    for h in handles {
        h.join().expect("worker panicked").expect("worker failed");
    }
}

#[test]
fn each_thread_has_its_own_default_stream() {
    let main = Stream::current().unwrap().index().unwrap();
    let other = std::thread::spawn(|| Stream::current().unwrap().index().unwrap())
        .join()
        .unwrap();
    assert_ne!(
        main, other,
        "MLX 0.32 gives each thread its own default stream"
    );
}
