//! Local multi-process runs without Python: what `mlx.launch --backend
//! ring -n N` does on one machine.
//!
//! [`Launch`] picks `N` free loopback ports, writes the ring hostfile as
//! `mlx.launch` writes it (JSON, one list of `"ip:port"` strings per rank:
//! `[["127.0.0.1:41001"], ["127.0.0.1:41002"]]`), and starts `N` copies of
//! a command with `MLX_RANK=<rank>` and `MLX_HOSTFILE=<that file>` set, as
//! `mlx.launch` does; each copy then calls
//! [`Group::init`](super::Group::init). It waits for all of them, and kills
//! every copy still running when one fails or the time limit passes, so a
//! rank that hangs (a peer that never connects, a collective that one rank
//! skipped) cannot hang the launcher.
//!
//! For more than one machine use MLX's own launcher, which runs the same
//! Rust program unchanged (it reads only those two variables):
//!
//! ```text
//! mlx.launch --backend ring -n 2 -- target/release/examples/distributed_hello
//! mlx.launch --backend ring --hosts 10.0.0.1,10.0.0.2 -- /path/to/program
//! mlx.launch --backend ring --hostfile hosts.json -- /path/to/program
//! ```
//!
//! ```no_run
//! use std::time::Duration;
//! use mlx_rs::distributed::launch::Launch;
//! let runs = Launch::new(2, "target/debug/examples/distributed_hello")
//!     .timeout(Duration::from_secs(60))
//!     .run()?;
//! for r in &runs.ranks {
//!     print!("{}", r.stdout);
//! }
//! runs.check()?;
//! # Ok::<(), mlx_rs::Error>(())
//! ```

use std::ffi::OsString;
use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

/// The variable that carries a process's rank (`mlx.launch`'s name).
pub const RANK_ENV: &str = "MLX_RANK";
/// The variable that names the ring hostfile (`mlx.launch`'s name).
pub const HOSTFILE_ENV: &str = "MLX_HOSTFILE";

/// `n` distinct TCP ports on 127.0.0.1 that were free a moment ago (the
/// system's ephemeral ports, bound and released).
///
/// # Errors
/// [`Error::Io`] when no port can be bound.
pub fn free_ports(n: usize) -> Result<Vec<u16>> {
    // Hold every listener until all are picked, so the ports differ.
    let listeners = (0..n)
        .map(|_| TcpListener::bind(("127.0.0.1", 0)).map_err(|e| Error::io("127.0.0.1:0", e)))
        .collect::<Result<Vec<_>>>()?;
    listeners
        .iter()
        .map(|l| {
            l.local_addr()
                .map(|a| a.port())
                .map_err(|e| Error::io("127.0.0.1:0", e))
        })
        .collect()
}

/// The ring hostfile's text for one address per rank, as `mlx.launch`
/// writes it: `[["127.0.0.1:41001"], ["127.0.0.1:41002"]]`.
pub fn ring_hostfile(addresses: &[String]) -> String {
    let nodes: Vec<Vec<&str>> = addresses.iter().map(|a| vec![a.as_str()]).collect();
    serde_json::Value::from(
        nodes
            .into_iter()
            .map(serde_json::Value::from)
            .collect::<Vec<_>>(),
    )
    .to_string()
}

/// A local run of `n` copies of a command (see the [module docs](self)).
#[derive(Debug, Clone)]
pub struct Launch {
    n: usize,
    program: PathBuf,
    args: Vec<OsString>,
    env: Vec<(OsString, OsString)>,
    timeout: Duration,
    capture: bool,
    ports: Option<Vec<u16>>,
}

/// What one rank did.
#[derive(Debug, Clone)]
pub struct RankOutput {
    /// The rank.
    pub rank: usize,
    /// How it exited; `None` when the launcher killed it.
    pub status: Option<ExitStatus>,
    /// Its standard output (empty unless captured).
    pub stdout: String,
    /// Its standard error (empty unless captured).
    pub stderr: String,
}

impl RankOutput {
    /// Whether the rank exited with status 0.
    pub fn success(&self) -> bool {
        self.status.is_some_and(|s| s.success())
    }
}

/// What a [`Launch`] did: every rank's output, and whether the time limit
/// ended the run.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The ranks, in rank order.
    pub ranks: Vec<RankOutput>,
    /// Whether the launcher killed the ranks still running at the time
    /// limit.
    pub timed_out: bool,
    /// The hostfile's text.
    pub hostfile: String,
}

impl Outcome {
    /// `Ok` when every rank exited with status 0.
    ///
    /// # Errors
    /// [`Error::Launch`] naming the ranks that failed or were killed, with
    /// the end of their standard error.
    pub fn check(&self) -> Result<()> {
        let bad: Vec<String> = self
            .ranks
            .iter()
            .filter(|r| !r.success())
            .map(|r| {
                let how = match r.status {
                    Some(s) => format!("exited with {s}"),
                    None => "was killed".to_owned(),
                };
                let tail: String = {
                    let s = r.stderr.trim_end();
                    let start = s.len().saturating_sub(2000);
                    let start = (start..=s.len())
                        .find(|&i| s.is_char_boundary(i))
                        .unwrap_or(s.len());
                    s[start..].to_owned()
                };
                format!("rank {} {how}; stderr: {tail}", r.rank)
            })
            .collect();
        if bad.is_empty() {
            Ok(())
        } else {
            let why = if self.timed_out {
                "timed out"
            } else {
                "failed"
            };
            Err(Error::Launch {
                reason: format!("the run {why}: {}", bad.join("\n")),
            })
        }
    }
}

impl Launch {
    /// `n` copies of `program`, 60 s time limit, output captured.
    pub fn new(n: usize, program: impl AsRef<Path>) -> Launch {
        Launch {
            n,
            program: program.as_ref().to_owned(),
            args: Vec::new(),
            env: Vec::new(),
            timeout: Duration::from_secs(60),
            capture: true,
            ports: None,
        }
    }

    /// Appends arguments of the command.
    pub fn args<I, S>(mut self, args: I) -> Launch
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Sets a variable in every rank's environment.
    pub fn env(mut self, key: impl Into<OsString>, value: impl Into<OsString>) -> Launch {
        self.env.push((key.into(), value.into()));
        self
    }

    /// The time limit of the whole run (default 60 s); at the limit every
    /// rank still running is killed.
    pub fn timeout(mut self, limit: Duration) -> Launch {
        self.timeout = limit;
        self
    }

    /// Whether to capture the ranks' output (default) or let them write to
    /// the launcher's own stdout and stderr, as `mlx.launch` does.
    pub fn capture(mut self, capture: bool) -> Launch {
        self.capture = capture;
        self
    }

    /// Uses these ports (one per rank, on 127.0.0.1) instead of free ones
    /// (`mlx.launch` uses 32323, 32324, …).
    pub fn ports(mut self, ports: Vec<u16>) -> Launch {
        self.ports = Some(ports);
        self
    }

    /// Runs the copies and waits for them, for at most the time limit.
    /// When one rank fails, the others are given a moment to report their
    /// own error (a peer's death reaches them as `[ring] connection to a
    /// peer was lost`) and are then killed.
    ///
    /// # Errors
    /// [`Error::Launch`] for `n == 0` or a port list of the wrong length;
    /// [`Error::Io`] when the hostfile cannot be written or a copy cannot
    /// be started (the copies already started are killed). Ranks that fail
    /// are not an error here: see [`Outcome::check`].
    pub fn run(&self) -> Result<Outcome> {
        if self.n == 0 {
            return Err(Error::Launch {
                reason: "a run needs at least one rank".to_owned(),
            });
        }
        let ports = match &self.ports {
            Some(p) if p.len() != self.n => {
                return Err(Error::Launch {
                    reason: format!("{} ports given for {} ranks", p.len(), self.n),
                })
            }
            Some(p) => p.clone(),
            None => free_ports(self.n)?,
        };
        let addresses: Vec<String> = ports.iter().map(|p| format!("127.0.0.1:{p}")).collect();
        // mlx.launch leaves the hostfile empty for a single rank.
        let hostfile = if self.n > 1 {
            ring_hostfile(&addresses)
        } else {
            String::new()
        };
        let dir = std::env::temp_dir();
        let path = dir.join(format!(
            "mlx-rs-hostfile-{}-{}.json",
            std::process::id(),
            ports[0]
        ));
        std::fs::write(&path, format!("{hostfile}\n")).map_err(|e| Error::io(path.display(), e))?;
        let result = self.run_with(&path);
        let _ = std::fs::remove_file(&path);
        result.map(|ranks| Outcome {
            timed_out: ranks.1,
            ranks: ranks.0,
            hostfile,
        })
    }

    fn run_with(&self, hostfile: &Path) -> Result<(Vec<RankOutput>, bool)> {
        let mut children: Vec<Running> = Vec::with_capacity(self.n);
        for rank in 0..self.n {
            let mut cmd = Command::new(&self.program);
            cmd.args(&self.args)
                .envs(self.env.iter().map(|(k, v)| (k, v)))
                .env(RANK_ENV, rank.to_string())
                .env(HOSTFILE_ENV, hostfile)
                .stdin(Stdio::null());
            if self.capture {
                cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
            }
            match cmd.spawn() {
                Ok(child) => children.push(Running::new(child)),
                Err(e) => {
                    for c in &mut children {
                        c.kill();
                    }
                    return Err(Error::io(self.program.display(), e));
                }
            }
        }
        let start = Instant::now();
        // After a failure, how long the others get to report their own.
        let grace = Duration::from_secs(5);
        let mut failed_at: Option<Instant> = None;
        let mut timed_out = false;
        loop {
            let mut running = 0;
            for c in &mut children {
                if c.status.is_none() && !c.killed {
                    match c.child.try_wait() {
                        Ok(Some(s)) => {
                            c.status = Some(s);
                            if !s.success() && failed_at.is_none() {
                                failed_at = Some(Instant::now());
                            }
                        }
                        Ok(None) => running += 1,
                        Err(_) => c.kill(),
                    }
                }
            }
            if running == 0 {
                break;
            }
            let past_grace = failed_at.is_some_and(|t| t.elapsed() >= grace);
            if start.elapsed() >= self.timeout || past_grace {
                timed_out = start.elapsed() >= self.timeout;
                for c in &mut children {
                    if c.status.is_none() {
                        c.kill();
                    }
                }
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let ranks = children
            .into_iter()
            .enumerate()
            .map(|(rank, c)| c.finish(rank))
            .collect();
        Ok((ranks, timed_out))
    }
}

/// A started copy and the threads draining its pipes.
struct Running {
    child: Child,
    status: Option<ExitStatus>,
    killed: bool,
    out: Option<JoinHandle<String>>,
    err: Option<JoinHandle<String>>,
}

fn drain(pipe: Option<impl Read + Send + 'static>) -> Option<JoinHandle<String>> {
    pipe.map(|mut p| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = p.read_to_end(&mut buf);
            String::from_utf8_lossy(&buf).into_owned()
        })
    })
}

impl Running {
    fn new(mut child: Child) -> Running {
        let out = drain(child.stdout.take());
        let err = drain(child.stderr.take());
        Running {
            child,
            status: None,
            killed: false,
            out,
            err,
        }
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.killed = true;
    }

    fn finish(mut self, rank: usize) -> RankOutput {
        if self.status.is_none() && !self.killed {
            self.kill();
        }
        let join =
            |h: Option<JoinHandle<String>>| h.and_then(|h| h.join().ok()).unwrap_or_default();
        RankOutput {
            rank,
            status: if self.killed { None } else { self.status },
            stdout: join(self.out.take()),
            stderr: join(self.err.take()),
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        // A launcher that unwinds never leaves a rank behind.
        if self.status.is_none() && !self.killed {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
