//! `mlx-lm generate`: one prompt, streamed to stdout, stats on stderr.

use std::io::{Read, Write};
use std::ops::ControlFlow;

use mlx_lm::generate::generate_with;
use mlx_lm::Message;

use crate::common::{chat_ids, ModelArgs, SamplerArgs};
use crate::stop::StopText;
use crate::BoxError;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    model: ModelArgs,
    #[command(flatten)]
    sampler: SamplerArgs,
    /// The prompt (`-` or absent: read stdin)
    #[arg(long, short = 'p')]
    prompt: Option<String>,
    /// A system message (with the chat template)
    #[arg(long)]
    system: Option<String>,
    /// Use the prompt as it is, without the chat template
    #[arg(long)]
    ignore_chat_template: bool,
    /// End the text before this string (repeatable)
    #[arg(long)]
    stop: Vec<String>,
}

fn read_prompt(prompt: Option<&str>) -> Result<String, BoxError> {
    match prompt {
        Some(p) if p != "-" => Ok(p.to_owned()),
        _ => {
            let mut s = String::new();
            std::io::stdin()
                .read_to_string(&mut s)
                .map_err(|e| format!("reading the prompt from stdin: {e}"))?;
            Ok(s)
        }
    }
}

pub fn run(args: &Args) -> Result<(), BoxError> {
    let prompt = read_prompt(args.prompt.as_deref())?;
    if prompt.is_empty() {
        return Err("the prompt is empty".into());
    }
    let options_check = crate::common::sampler(args.sampler.temp, args.sampler.top_p, 0);
    options_check?;
    let loaded = args.model.load()?;
    let tok = &loaded.tokenizer;
    let ids = if args.ignore_chat_template {
        tok.encode(&prompt, true)?
    } else {
        let mut messages = Vec::new();
        if let Some(s) = &args.system {
            messages.push(Message::system(s.clone()));
        }
        messages.push(Message::user(prompt));
        chat_ids(tok, &messages)?
    };
    let options = args.sampler.options(tok)?;
    let mut stream = tok.decode_stream(true);
    let mut stop = StopText::new(args.stop.clone());
    let mut out = std::io::stdout().lock();
    let stats = generate_with(loaded.model.as_ref(), &ids, &options, |id| {
        if let Some(text) = stream.step(id)? {
            let (emit, hit) = stop.push(&text);
            let _ = out.write_all(emit.as_bytes());
            let _ = out.flush();
            if hit {
                return Ok(ControlFlow::Break(()));
            }
        }
        Ok(ControlFlow::Continue(()))
    })?;
    let rest = stop.finish();
    if stats.finish != mlx_lm::Finish::Halted {
        out.write_all(rest.as_bytes())?;
    }
    writeln!(out)?;
    eprintln!(
        "prompt: {} tokens, {:.1} tokens/s | generation: {} tokens, {:.1} tokens/s | finish: {:?}",
        stats.prompt_tokens,
        stats.prefill_tps(),
        stats.tokens.len(),
        stats.decode_tps(),
        stats.finish
    );
    Ok(())
}
