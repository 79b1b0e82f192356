//! Chat templates: the Jinja template a model ships (GGUF
//! `tokenizer.chat_template`, or `chat_template` in `tokenizer_config.json`)
//! rendered with [`minijinja`] as Hugging Face `transformers` renders it
//! (`trim_blocks`, `lstrip_blocks`, Python string methods,
//! `raise_exception`).

use minijinja::{context, Environment, ErrorKind};
use serde::{Deserialize, Serialize};

use crate::error::Result;

/// One message of a conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// `"system"`, `"user"` or `"assistant"`.
    pub role: String,
    /// The text.
    pub content: String,
}

impl Message {
    /// A message from `role`.
    pub fn new(role: impl Into<String>, content: impl Into<String>) -> Self {
        Message {
            role: role.into(),
            content: content.into(),
        }
    }

    /// A user message.
    pub fn user(content: impl Into<String>) -> Self {
        Message::new("user", content)
    }

    /// A system message.
    pub fn system(content: impl Into<String>) -> Self {
        Message::new("system", content)
    }
}

/// A parsed chat template.
///
/// ```
/// use mlx_lm::chat::{ChatTemplate, Message};
/// let t = ChatTemplate::new(
///     "{% for m in messages %}<{{ m.role }}>{{ m.content | trim }}\n{% endfor %}\
///      {% if add_generation_prompt %}<assistant>{% endif %}",
/// )?;
/// let text = t.render(&[Message::user(" hi ")], true, None, None)?;
/// assert_eq!(text, "<user>hi\n<assistant>");
/// # Ok::<(), mlx_lm::Error>(())
/// ```
#[derive(Debug)]
pub struct ChatTemplate {
    env: Environment<'static>,
    source: String,
}

const NAME: &str = "chat_template";

impl ChatTemplate {
    /// Parses `source`.
    ///
    /// # Errors
    /// [`Error::Template`](crate::Error::Template) for a syntax error.
    pub fn new(source: &str) -> Result<Self> {
        let mut env = Environment::new();
        env.set_trim_blocks(true);
        env.set_lstrip_blocks(true);
        env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
        env.add_function(
            "raise_exception",
            |msg: String| -> Result<(), minijinja::Error> {
                Err(minijinja::Error::new(ErrorKind::InvalidOperation, msg))
            },
        );
        env.add_template_owned(NAME, source.to_owned())?;
        Ok(ChatTemplate {
            env,
            source: source.to_owned(),
        })
    }

    /// The template's source.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Renders `messages`; with `add_generation_prompt`, ends with what
    /// starts the assistant's answer. `bos_token` and `eos_token` are
    /// passed to the template (some templates print them).
    ///
    /// # Errors
    /// [`Error::Template`](crate::Error::Template) when rendering fails
    /// (including the template's own `raise_exception`).
    pub fn render(
        &self,
        messages: &[Message],
        add_generation_prompt: bool,
        bos_token: Option<&str>,
        eos_token: Option<&str>,
    ) -> Result<String> {
        let t = self.env.get_template(NAME)?;
        Ok(t.render(context! {
            messages => messages,
            add_generation_prompt => add_generation_prompt,
            bos_token => bos_token.unwrap_or(""),
            eos_token => eos_token.unwrap_or(""),
        })?)
    }
}
