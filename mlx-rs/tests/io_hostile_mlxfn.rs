//! Hostile `.mlxfn` files (generated in `io_common/mlxfn.rs` from the
//! stored Python exports): every truncation is refused and every damaged
//! header is an `InvalidFile`. Files whose graph section is damaged are
//! counted by an ignored census (some crash MLX 0.32.2's own reader, which
//! trusts that section: see `import_function`'s docs).
//!
//! Every test runs on one thread (`common::mlx_thread`), so that the files
//! that do import are evaluated for real (MLX evaluates an imported graph
//! only on the thread that made the process's first stream).

mod common;
mod device;
mod io_common;

use io_common::*;
use mlx_rs::Error;

/// Imports `bytes` and, when MLX accepts it, calls it on inputs of each
/// stored trace's signature and evaluates: any step may be an `Err`,
/// none may crash. Returns whether the import was refused.
fn import_and_run(dir: &TempDir, i: usize, bytes: &[u8]) -> bool {
    use mlx_rs::export::import_function;
    let p = dir.write(&format!("{i}.mlxfn"), bytes);
    let Ok(f) = import_function(&p) else {
        return true;
    };
    let x = |shape: &[i32]| mlx_rs::Array::zeros(shape, mlx_rs::Dtype::Float32).unwrap();
    for args in [
        vec![x(&[3, 8])],
        vec![x(&[2, 64])],
        vec![x(&[2, 3]), x(&[2, 3])],
    ] {
        if let Ok(outs) = f.call(&args) {
            for o in outs {
                let _ = o.eval();
            }
        }
    }
    false
}

#[test]
fn mlxfn_truncations_are_refused() {
    common::mlx_thread::run(mlxfn_truncations_are_refused_body);
}

fn mlxfn_truncations_are_refused_body() {
    let dir = TempDir::new("hostile-mlxfn-cut");
    let corpus = mlxfn_truncations();
    eprintln!("mlxfn truncations: {} files", corpus.len());
    assert!(corpus.len() > 1000);
    for (i, (name, bytes)) in corpus.into_iter().enumerate() {
        assert!(import_and_run(&dir, i, &bytes), "{name}: imported");
    }
}

#[test]
fn mlxfn_bad_headers_are_invalid_files() {
    common::mlx_thread::run(mlxfn_bad_headers_are_invalid_files_body);
}

fn mlxfn_bad_headers_are_invalid_files_body() {
    let dir = TempDir::new("hostile-mlxfn-header");
    for (i, (name, bytes)) in mlxfn_bad_headers().into_iter().enumerate() {
        let p = dir.write(&format!("{i}.mlxfn"), &bytes);
        match mlx_rs::export::import_function(&p) {
            Err(Error::InvalidFile {
                format: "mlxfn", ..
            }) => {}
            // A count of 2 traces passes the header check; MLX then finds
            // the file ends before the second trace.
            Err(Error::Mlx {
                op: "mlx_imported_function_new",
                ..
            }) if name == "trace count 2" => {}
            Err(Error::Mlx {
                op: "mlx_imported_function_new",
                ..
            }) if name == "trace count i32::MAX" => {}
            other => panic!("{name}: {other:?}"),
        }
    }
}

/// The census of damaged graphs (`cargo test --test io_hostile_mlxfn --
/// --ignored census`, several minutes): each file of [`mlxfn_overwrites`]
/// is imported, called and evaluated in a child process of its own, and
/// the outcomes are counted. MLX 0.32.2's reader trusts the lengths,
/// shapes and ids of the graph section, so some damaged graphs crash it
/// (see `ImportedFunction`'s docs for the numbers); this asserts that every
/// crash comes from a window inside the graph section, never from the
/// header that this crate checks.
#[test]
#[ignore = "slow: one child process per damaged file"]
fn census_of_damaged_graphs() {
    let exe = std::env::current_exe().unwrap();
    let corpus = mlxfn_overwrites();
    let (mut refused, mut imported, mut crashed) = (0, 0, Vec::new());
    for (i, (name, _)) in corpus.iter().enumerate() {
        let out = std::process::Command::new(&exe)
            .args([
                "child_runs_one_damaged_graph",
                "--exact",
                "--ignored",
                "--nocapture",
            ])
            .env("MLXFN_CASE", i.to_string())
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stderr);
        // A process that ends before its verdict crashed, whatever its
        // status: the reference BLAS's `xerbla` ends it with `exit(0)`
        // when MLX hands it a damaged shape.
        if !out.status.success() || !text.contains("refused=") {
            crashed.push(name.clone());
        } else if text.contains("refused=true") {
            refused += 1;
        } else {
            imported += 1;
        }
    }
    eprintln!(
        "{} damaged graphs: {refused} refused, {imported} imported, {} crashed:\n  {}",
        corpus.len(),
        crashed.len(),
        crashed.join("\n  ")
    );
    let header_end = |name: &str| {
        let (_, bytes) = mlxfn_valid()
            .into_iter()
            .find(|(n, _)| name.starts_with(n))
            .unwrap();
        let v = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
        let m_at = 8 + v + 5;
        m_at + 8 + u64::from_le_bytes(bytes[m_at..m_at + 8].try_into().unwrap()) as usize
    };
    for name in &crashed {
        let at: usize = name.rsplit(' ').next().unwrap().parse().unwrap();
        assert!(
            at >= header_end(name),
            "{name}: a crash from the checked header"
        );
    }
}

/// The child of [`census_of_damaged_graphs`]: one file, `MLXFN_CASE`.
#[test]
#[ignore = "run by census_of_damaged_graphs"]
fn child_runs_one_damaged_graph() {
    common::mlx_thread::run(|| {
        let Ok(i) = std::env::var("MLXFN_CASE") else {
            return;
        };
        let dir = TempDir::new("census");
        let (_, bytes) = &mlxfn_overwrites()[i.parse::<usize>().unwrap()];
        eprintln!("refused={}", import_and_run(&dir, 0, bytes));
    });
}
