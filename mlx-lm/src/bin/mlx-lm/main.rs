//! `mlx-lm`: generate, chat, convert, serve, measure perplexity and
//! fine-tune (lora, fuse) with
//! the models of the `mlx-lm` crate. Errors print one line and exit 1.

mod chat;
mod common;
mod convert;
mod generate;
mod lora;
mod perplexity;
mod serve;
mod stop;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Run LLMs with MLX: generate, chat, convert, serve.
#[derive(Debug, Parser)]
#[command(name = "mlx-lm", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Generate text for one prompt, streamed to stdout.
    Generate(generate::Args),
    /// Chat interactively (`/reset` clears the history, `/exit` quits).
    Chat(chat::Args),
    /// Convert a GGUF model into an mlx-lm directory, quantized or float.
    Convert(convert::Args),
    /// Serve an OpenAI-compatible HTTP API.
    Serve(serve::Args),
    /// Perplexity of the model over a text file.
    Perplexity(perplexity::Args),
    /// LoRA / QLoRA fine-tuning (adapters in mlx-lm's format).
    Lora(lora::Args),
    /// Merge trained adapters into the model and save an mlx-lm directory.
    Fuse(lora::FuseArgs),
}

/// A boxed error: the CLI prints it on one line.
pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync>;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Generate(a) => generate::run(&a),
        Command::Chat(a) => chat::run(&a),
        Command::Convert(a) => convert::run(&a),
        Command::Serve(a) => serve::run(&a),
        Command::Perplexity(a) => perplexity::run(&a),
        Command::Lora(a) => lora::run(&a),
        Command::Fuse(a) => lora::fuse(&a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", common::one_line(&*e));
            ExitCode::FAILURE
        }
    }
}
