//! `mlx-lm chat`: an interactive, multi-turn conversation on stdin.

use std::io::{BufRead, Write};

use mlx_lm::generate::generate;
use mlx_lm::Message;

use crate::common::{chat_ids, ModelArgs, SamplerArgs};
use crate::BoxError;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    model: ModelArgs,
    #[command(flatten)]
    sampler: SamplerArgs,
    /// A system message that starts every conversation
    #[arg(long)]
    system: Option<String>,
}

pub fn run(args: &Args) -> Result<(), BoxError> {
    crate::common::sampler(args.sampler.temp, args.sampler.top_p, 0)?;
    let loaded = args.model.load()?;
    let tok = &loaded.tokenizer;
    let options = args.sampler.options(tok)?;
    let start: Vec<Message> = args
        .system
        .iter()
        .map(|s| Message::system(s.clone()))
        .collect();
    let mut history = start.clone();
    eprintln!(
        "[{}] type a message; /reset clears the history, /exit quits",
        loaded.name
    );
    let stdin = std::io::stdin();
    let mut lines = stdin.lock().lines();
    loop {
        eprint!(">> ");
        let Some(line) = lines.next() else { break };
        let line = line.map_err(|e| format!("reading stdin: {e}"))?;
        match line.trim() {
            "" => continue,
            "/exit" | "/quit" => break,
            "/reset" => {
                history = start.clone();
                eprintln!("[history cleared]");
                continue;
            }
            _ => {}
        }
        history.push(Message::user(line));
        let ids = chat_ids(tok, &history)?;
        let mut stream = tok.decode_stream(true);
        let mut out = std::io::stdout().lock();
        let mut reply = String::new();
        let stats = generate(loaded.model.as_ref(), &ids, &options, |id| {
            if let Some(text) = stream.step(id)? {
                let _ = out.write_all(text.as_bytes());
                let _ = out.flush();
                reply.push_str(&text);
            }
            Ok(())
        })?;
        writeln!(out)?;
        eprintln!(
            "[prompt: {} tokens | generation: {} tokens, {:.1} tokens/s]",
            stats.prompt_tokens,
            stats.tokens.len(),
            stats.decode_tps()
        );
        history.push(Message::new("assistant", reply));
    }
    Ok(())
}
