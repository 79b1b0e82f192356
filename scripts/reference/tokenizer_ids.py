"""Expected token ids of SmolLM2-135M-Instruct's tokenizer, for mlx-lm's
tokenizer tests (writes mlx-lm/tests/golden/tokenizer_ids.json).

Setup (a venv apart from the MLX one):
    python3 -m venv /tmp/venv-tok
    /tmp/venv-tok/bin/pip install transformers gguf tokenizers jinja2
    /tmp/venv-tok/bin/python scripts/reference/tokenizer_ids.py GGUF_PATH

The tokenizer is built by transformers' own GGUF tokenizer code (vocabulary
re-spelled in the byte alphabet, merges, control tokens as special tokens),
called directly: `AutoTokenizer.from_pretrained(dir, gguf_file=...)` needs
PyTorch only to read the header, which the `gguf` package does here.

transformers 5.x has no pre-tokenizer for `tokenizer.ggml.pre == "smollm"`
and falls back to GPT-2's (digits grouped). SmolLM2's own tokenizer.json and
llama.cpp's "smollm" pre-tokenizer split every digit: Digits(individual) then
ByteLevel with the GPT-2 regex. The expected ids use that; the strings whose
ids differ under transformers' fallback are listed in the output too (none
for this vocabulary, which has no multi-digit tokens to merge).
"""

import json
import sys
from pathlib import Path

from gguf import GGUFReader
from tokenizers import pre_tokenizers
from transformers.integrations.gguf.gguf_tokenizer_mapping import (
    add_gguf_special_tokens,
    byte_level_tokenizer,
)

STRINGS = [
    "Hello world",
    "Hello, world! How are you today?",
    "The year 2024 had 366 days; pi is 3.14159.",
    "  leading spaces and\ttabs\nand newlines\n\n",
    "don't I'll we've they're she'd it's",
    "Ünïcödé: café, naïve, 日本語, Привет, 🤗🚀",
    "fn main() { println!(\"{}\", 1 + 2); }",
    "<|im_start|>user\nWhat is 12*7?<|im_end|>\n<|im_start|>assistant\n",
    "",
    " ",
    "a<|endoftext|>b",
]

MESSAGES = [{"role": "user", "content": "What is the capital of France?"}]


def field(reader, key):
    f = reader.fields[key]
    return f.contents()


def main():
    path = sys.argv[1]
    out = Path(sys.argv[2]) if len(sys.argv) > 2 else Path(__file__).resolve().parents[2] / "mlx-lm/tests/golden/tokenizer_ids.json"
    r = GGUFReader(path)
    pre = field(r, "tokenizer.ggml.pre")
    assert pre == "smollm", pre
    d = {
        "tokenizer_type": field(r, "tokenizer.ggml.model"),
        "tokens": field(r, "tokenizer.ggml.tokens"),
        "token_type": field(r, "tokenizer.ggml.token_type"),
        "merges": field(r, "tokenizer.ggml.merges"),
    }
    tok = add_gguf_special_tokens(byte_level_tokenizer(d), d)
    fallback = tok.backend_tokenizer.pre_tokenizer
    smollm = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Digits(individual_digits=True),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True),
        ]
    )
    cases = []
    differs = []
    for s in STRINGS:
        tok.backend_tokenizer.pre_tokenizer = smollm
        ids = tok.backend_tokenizer.encode(s, add_special_tokens=False).ids
        text = tok.backend_tokenizer.decode(ids, skip_special_tokens=False)
        tok.backend_tokenizer.pre_tokenizer = fallback
        if tok.backend_tokenizer.encode(s, add_special_tokens=False).ids != ids:
            differs.append(s)
        cases.append({"text": s, "ids": ids, "decoded": text})
    # The chat template, rendered by Python's jinja2 as transformers does.
    from jinja2 import Environment

    template = field(r, "tokenizer.chat_template")
    # As transformers renders chat templates (trim_blocks, lstrip_blocks).
    env = Environment(trim_blocks=True, lstrip_blocks=True)
    prompt = env.from_string(template).render(messages=MESSAGES, add_generation_prompt=True)
    tok.backend_tokenizer.pre_tokenizer = smollm
    chat_ids = tok.backend_tokenizer.encode(prompt, add_special_tokens=False).ids
    result = {
        "source": "scripts/reference/tokenizer_ids.py",
        "gguf": Path(path).name,
        "pre": pre,
        "bos_token_id": int(field(r, "tokenizer.ggml.bos_token_id")),
        "eos_token_id": int(field(r, "tokenizer.ggml.eos_token_id")),
        "cases": cases,
        "differs_under_transformers_gpt2_fallback": differs,
        "chat": {"messages": MESSAGES, "prompt": prompt, "ids": chat_ids},
    }
    # One line per case: small diffs when the file is regenerated.
    head = {k: v for k, v in result.items() if k not in ("cases", "chat")}
    text = json.dumps(head, ensure_ascii=False, indent=1)
    text = text[:-2] + ',\n "chat": ' + json.dumps(result["chat"], ensure_ascii=False) + "\n}"
    lines = ",\n  ".join(json.dumps(c, ensure_ascii=False) for c in cases)
    text = text[:-2] + ',\n "cases": [\n  ' + lines + "\n ]\n}\n"
    json.loads(text)
    out.write_text(text)
    print(f"wrote {out}: {len(cases)} cases; fallback differs on {len(differs)}")


if __name__ == "__main__":
    main()
