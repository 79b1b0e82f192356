//! One thread for the tests that evaluate imported functions.
//!
//! MLX 0.32.2 binds the operations of an imported `.mlxfn` graph to the
//! first stream the process made on their device (`resolve_stream` in
//! `mlx/export.cpp` picks it from `get_streams()`), and since MLX's streams
//! became per thread that stream works only on the thread that made it:
//! elsewhere, evaluating the outputs is an `Err` ("There is no Stream(cpu,
//! 0) in current thread"). The test harness runs each test on a thread of
//! its own, so a binary whose tests evaluate imported functions runs every
//! MLX call of every test through [`run`]: one worker thread, the first and
//! only one to use MLX in that process.

use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::mpsc::{channel, Sender};
use std::sync::{Mutex, OnceLock};

type Job = Box<dyn FnOnce() + Send>;

fn worker() -> &'static Mutex<Sender<Job>> {
    static WORKER: OnceLock<Mutex<Sender<Job>>> = OnceLock::new();
    WORKER.get_or_init(|| {
        let (tx, rx) = channel::<Job>();
        std::thread::Builder::new()
            .name("mlx".to_owned())
            .spawn(move || {
                for job in rx {
                    job();
                }
            })
            .unwrap();
        Mutex::new(tx)
    })
}

/// Runs `f` on the one MLX thread and returns its result (re-raising its
/// panic here, so the calling test fails with the same message).
pub fn run<R: Send + 'static>(f: impl FnOnce() -> R + Send + 'static) -> R {
    let (tx, rx) = channel();
    let job: Job = Box::new(move || {
        let _ = tx.send(catch_unwind(AssertUnwindSafe(f)));
    });
    worker()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .send(job)
        .unwrap();
    match rx.recv().unwrap() {
        Ok(r) => r,
        Err(panic) => resume_unwind(panic),
    }
}
