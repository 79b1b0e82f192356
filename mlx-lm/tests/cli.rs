//! The `mlx-lm` command: exit codes and one-line errors, `chat` history
//! and `/reset`, `convert` (quantized and `--dequantize`), `perplexity`
//! against the library.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use mlx_lm::models::{self, FetchError};

const BIN: &str = env!("CARGO_BIN_EXE_mlx-lm");

fn run(args: &[&str], model: Option<&Path>, stdin: &str) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.args(args);
    if let Some(m) = model {
        cmd.arg("-m").arg(m);
    }
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

/// Asserts exit code 1 and a single `error: ...` line containing `needle`.
fn assert_one_line_error(out: &Output, needle: &str) {
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "{err}");
    assert!(lines[0].starts_with("error: "), "{err}");
    assert!(lines[0].contains(needle), "{err}");
    assert!(!err.contains("panicked") && !err.contains("backtrace"));
}

fn gguf() -> Option<PathBuf> {
    match models::smollm2_gguf() {
        Ok(p) => Some(p),
        Err(FetchError::Unreachable(m)) => {
            eprintln!("skipped: SmolLM2 GGUF unavailable offline: {m}");
            None
        }
        Err(e) => panic!("{e}"),
    }
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("mlx-lm-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

#[test]
fn errors_are_one_line_and_exit_1() {
    let out = run(
        &["generate", "-p", "hi"],
        Some(Path::new("/nonexistent/m.gguf")),
        "",
    );
    assert_one_line_error(&out, "/nonexistent/m.gguf: no such file or directory");
    let out = run(&["generate", "-p", "hi", "--temp", "-1"], None, "");
    assert_one_line_error(&out, "temperature must be a finite number >= 0, not -1");
    let out = run(&["generate", "-p", "hi", "--top-p", "1.5"], None, "");
    assert_one_line_error(&out, "top_p must be in [0, 1], not 1.5");
    let out = run(&["generate"], None, "");
    assert_one_line_error(&out, "the prompt is empty");
    let out = run(&["convert", "--out", "/", "--q-bits", "7"], None, "");
    assert_one_line_error(&out, "7");
    let dir = tmp("exists");
    std::fs::create_dir_all(&dir).unwrap();
    let out = run(&["convert", "--out", dir.to_str().unwrap()], Some(&dir), "");
    assert_one_line_error(&out, "not supported yet");
    let f = dir.join("x.gguf");
    std::fs::write(&f, b"x").unwrap();
    let out = run(&["convert", "--out", dir.to_str().unwrap()], Some(&f), "");
    assert_one_line_error(&out, "exists (--force to replace it)");
    let out = run(
        &["perplexity", "-f", "/nonexistent.txt", "--context", "1"],
        None,
        "",
    );
    assert_one_line_error(&out, "--context must be at least 2");
    // A file that is not GGUF: MLX's own message, on one line.
    let out = run(&["generate", "-p", "hi"], Some(&f), "");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim().lines().count(),
        1
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `[prompt: N tokens | ...]` counts of a chat session.
fn prompt_counts(stderr: &str) -> Vec<usize> {
    stderr
        .split("[prompt: ")
        .skip(1)
        .map(|s| s.split(' ').next().unwrap().parse().unwrap())
        .collect()
}

#[test]
fn chat_keeps_history_until_reset() {
    let Some(gguf) = gguf() else { return };
    let out = run(
        &["chat", "--max-tokens", "4"],
        Some(&gguf),
        "Hello!\nHello!\n/reset\nHello!\n/exit\n",
    );
    assert!(out.status.success(), "{out:?}");
    let counts = prompt_counts(&String::from_utf8_lossy(&out.stderr));
    assert_eq!(counts.len(), 3, "{out:?}");
    // The second turn sees the first exchange; after /reset the prompt is
    // the first one again, and so is the (greedy) answer.
    assert!(counts[1] > counts[0] + 4, "{counts:?}");
    assert_eq!(counts[2], counts[0]);
    let stdout = String::from_utf8(out.stdout).unwrap();
    let replies: Vec<&str> = stdout.lines().collect();
    assert_eq!(replies.len(), 3, "{stdout}");
    assert_eq!(replies[0], replies[2]);
}

#[test]
fn convert_then_generate_and_perplexity() {
    let Some(gguf) = gguf() else { return };
    let q = tmp("q");
    let out = run(
        &[
            "convert",
            "--quiet",
            "--q-group-size",
            "32",
            "--out",
            q.to_str().unwrap(),
        ],
        Some(&gguf),
        "",
    );
    assert!(out.status.success(), "{out:?}");
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(q.join("config.json")).unwrap()).unwrap();
    assert_eq!(config["quantization"]["group_size"], 32);
    assert_eq!(config["quantization"]["bits"], 4);
    assert_eq!(config["quantization"]["mode"], "affine");
    let parent = q.parent().unwrap();
    let stem = q.file_name().unwrap().to_string_lossy().into_owned();
    let leftovers = std::fs::read_dir(parent)
        .unwrap()
        .filter_map(|e| e.ok())
        .any(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with(&format!(".{stem}.partial"))
        });
    assert!(!leftovers);
    let out = run(&["generate", "--max-tokens", "3", "-p", "Hi"], Some(&q), "");
    assert!(out.status.success(), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("generation: 3 tokens"));

    // Dequantized to float32, the model answers as the GGUF loaded
    // directly (which is dequantized to float32 on load).
    let f = tmp("f");
    let out = run(
        &[
            "convert",
            "--dequantize",
            "--dtype",
            "float32",
            "--out",
            f.to_str().unwrap(),
        ],
        Some(&gguf),
        "",
    );
    assert!(out.status.success(), "{out:?}");
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(f.join("config.json")).unwrap()).unwrap();
    assert!(config.get("quantization").is_none());
    let a = run(&["generate", "--max-tokens", "6", "-p", "Hi"], Some(&f), "");
    let b = run(
        &["generate", "--max-tokens", "6", "-p", "Hi"],
        Some(&gguf),
        "",
    );
    assert!(a.status.success() && b.status.success());
    assert_eq!(a.stdout, b.stdout);

    // Perplexity of one window equals exp(-mean log-likelihood) of the
    // library on the same ids.
    let text = "The quick brown fox jumps over the lazy dog. Paris is the capital of France.";
    let file = f.join("text.txt");
    std::fs::write(&file, text).unwrap();
    let out = run(&["perplexity", "-f", file.to_str().unwrap()], Some(&f), "");
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    let ppl: f64 = stdout.split_whitespace().nth(1).unwrap().parse().unwrap();
    let model = mlx_lm::Llama::load_as(&f, Some(mlx_rs::Dtype::Float32)).unwrap();
    let tok = mlx_lm::Tokenizer::from_dir(&f).unwrap();
    let ids = tok.encode(text, true).unwrap();
    let want = (-model.mean_log_likelihood(&ids).unwrap()).exp();
    assert!((ppl - want).abs() < 1e-3 * want, "{ppl} vs {want}");
    assert!(
        stdout.contains(&format!("{} tokens scored", ids.len() - 1)),
        "{stdout}"
    );
    assert!(ppl > 1.0 && ppl < 1000.0, "{ppl}");
    std::fs::remove_dir_all(&q).unwrap();
    std::fs::remove_dir_all(&f).unwrap();
}

#[test]
fn lora_bad_data_is_one_line_error_and_writes_nothing() {
    let Some(model) = gguf() else { return };
    let dir = tmp("lora");
    std::fs::create_dir_all(&dir).unwrap();
    let data = dir.to_str().unwrap();
    let adapters = dir.join("adapters");
    let args = [
        "lora",
        "--train",
        "--data",
        data,
        "--adapter-path",
        adapters.to_str().unwrap(),
    ];
    std::fs::write(dir.join("train.jsonl"), "{\"text\": \"a\"}\n{\"text\": \n").unwrap();
    let out = run(&args, Some(&model), "");
    assert_one_line_error(&out, "train.jsonl:2: not JSON");
    std::fs::write(dir.join("train.jsonl"), "\n").unwrap();
    let out = run(&args, Some(&model), "");
    assert_one_line_error(&out, "train.jsonl: the data set is empty");
    assert!(!adapters.exists(), "nothing written");
    let out = run(&["lora", "--data", data], Some(&model), "");
    assert_one_line_error(&out, "pass --train");
    let out = run(
        &[
            "fuse",
            "--adapter-path",
            "/nonexistent",
            "--save-path",
            data,
        ],
        Some(&dir),
        "",
    );
    assert_one_line_error(&out, "already exists");
    std::fs::remove_dir_all(&dir).unwrap();
}
