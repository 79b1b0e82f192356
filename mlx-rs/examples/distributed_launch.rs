//! A local launcher for MLX's ring backend, without Python: what
//! `mlx.launch --backend ring -n N -- <program>` does on one machine.
//!
//! ```text
//! distributed_launch -n 2 [--timeout 60] [--port 32323] -- <program> [args…]
//! ```
//!
//! It writes the ring hostfile (JSON, one `["127.0.0.1:<port>"]` per rank,
//! free ports unless `--port` gives the first), starts `N` copies of the
//! program with `MLX_RANK` and `MLX_HOSTFILE` set, passes their output
//! through, and kills every copy still running when one fails or the time
//! limit passes. Exits with 0 when every rank did. See
//! `mlx_rs::distributed::launch`.

use std::time::Duration;

use mlx_rs::distributed::launch::Launch;

fn usage() -> ! {
    eprintln!(
        "usage: distributed_launch -n N [--timeout SECONDS] [--port FIRST] -- PROGRAM [ARGS...]"
    );
    std::process::exit(2)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let (mut n, mut timeout, mut port) = (None, 600u64, None);
    let mut command = Vec::new();
    while let Some(a) = args.next() {
        let mut value = || {
            args.next()
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or_else(|| usage())
        };
        match a.as_str() {
            "-n" => n = Some(value() as usize),
            "--timeout" => timeout = value(),
            "--port" | "-p" => port = Some(value() as u16),
            "--" => {
                command.extend(args.by_ref());
                break;
            }
            _ => usage(),
        }
    }
    let (Some(n), Some(program)) = (n, command.first().cloned()) else {
        usage()
    };
    let mut launch = Launch::new(n, program)
        .args(command.into_iter().skip(1))
        .timeout(Duration::from_secs(timeout))
        .capture(false);
    if let Some(p) = port {
        launch = launch.ports((0..n as u16).map(|i| p + i).collect());
    }
    match launch.run().and_then(|o| o.check()) {
        Ok(()) => {}
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    }
}
