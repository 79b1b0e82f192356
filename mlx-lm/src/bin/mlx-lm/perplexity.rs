//! `mlx-lm perplexity`: `exp` of the mean negative log-likelihood of a
//! text file, in windows of `--context` tokens.

use std::path::PathBuf;

use crate::common::ModelArgs;
use crate::BoxError;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    model: ModelArgs,
    /// The text file
    #[arg(long, short = 'f')]
    file: PathBuf,
    /// Tokens per window (each window is scored on its own)
    #[arg(long, default_value_t = 512)]
    context: usize,
}

pub fn run(args: &Args) -> Result<(), BoxError> {
    if args.context < 2 {
        return Err(format!("--context must be at least 2, not {}", args.context).into());
    }
    let text =
        std::fs::read_to_string(&args.file).map_err(|e| format!("{}: {e}", args.file.display()))?;
    let loaded = args.model.load()?;
    let ids = loaded.tokenizer.encode(&text, true)?;
    if ids.len() < 2 {
        return Err(format!("{}: fewer than two tokens", args.file.display()).into());
    }
    let (mut nll, mut scored) = (0.0f64, 0usize);
    for window in ids.chunks(args.context).filter(|w| w.len() >= 2) {
        let n = window.len() - 1;
        nll -= loaded.model.mean_log_likelihood(window)? * n as f64;
        scored += n;
    }
    let ppl = (nll / scored as f64).exp();
    println!(
        "perplexity: {ppl:.4} ({scored} tokens scored, {} in the file)",
        ids.len()
    );
    Ok(())
}
