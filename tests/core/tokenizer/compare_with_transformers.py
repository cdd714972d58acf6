# tests/core/tokenizer/compare_with_transformers.py — our tokenizer and chat templates against transformers 4.44.
"""Renders many random conversations with every template in templates/ through our renderer (reference_cli) and
through transformers' apply_chat_template, and encodes many random texts (with special-token strings in them)
with our tokenizer and with transformers' LlamaTokenizer (legacy and non-legacy). Any difference fails.

usage: compare_with_transformers.py REFERENCE_CLI TEMPLATES_DIR   (fixtures from $LLMATC_SHARED, default ../shared)
Exits 77 (meson's "skipped") when transformers or jinja2 is not installed."""
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile

try:
    import jinja2
    import transformers
    from transformers import LlamaTokenizer
except ImportError as missing:
    print(f"skipped: {missing}")
    sys.exit(77)

transformers.logging.set_verbosity_error()
CLI, TEMPLATES = sys.argv[1], sys.argv[2]
SHARED = os.environ.get("LLMATC_SHARED", "../shared")
LLAMA2_MODEL = os.path.join(SHARED, "tokenizers", "llama2", "tokenizer.model")
STORIES_DIR = os.path.join(SHARED, "models", "stories260k")
rng = random.Random(20240607)

# Uncased scripts besides ASCII: our case filters map ASCII only (see chat_template.h).
ALPHABET = (list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") + list(".,!?'\"-:;()") +
            ["中", "文", "字", "日", "本", "😀", "🚀", "👍", "م", "ر", "ح", "ب", "あ", "い", "ん"])


def random_words(max_words=8, messy=True):
    words = ["".join(rng.choice(ALPHABET) for _ in range(rng.randint(1, 7))) for _ in range(rng.randint(0, max_words))]
    text = ""
    for i, word in enumerate(words):
        if i:
            text += rng.choice([" ", " ", " ", "  ", "\n", "\t"]) if messy else " "
        text += word
    if messy and rng.random() < 0.2:
        text = rng.choice([" ", "\n", "  "]) + text
    if messy and rng.random() < 0.2:
        text += rng.choice([" ", "\n", "?", "!"])
    return text


def random_conversation():
    messages = []
    if rng.random() < 0.4:
        messages.append({"role": "system", "content": random_words()})
    turns = rng.randint(0 if messages else 1, 5)  # apply_chat_template cannot take an empty conversation
    for i in range(turns):
        role = "user" if i % 2 == 0 else "assistant"
        if rng.random() < 0.08:  # break the alternation, or use a role templates refuse
            role = rng.choice(["user", "assistant", "system", "tool", "narrator"])
        messages.append({"role": role, "content": random_words()})
        if rng.random() < 0.1:
            messages[-1]["name"] = random_words(2, messy=False)
    return messages


def as_parts(messages):
    """The same conversation with some contents split into OpenAI text parts (which we must join back)."""
    out = []
    for m in messages:
        m = dict(m)
        if rng.random() < 0.3 and m["content"]:
            cut = rng.randint(0, len(m["content"]))
            m["content"] = [{"type": "text", "text": m["content"][:cut]}, {"type": "text", "text": m["content"][cut:]}]
        out.append(m)
    return out


def run_cli(*args):
    result = subprocess.run([CLI, *args], capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"reference_cli failed: {result.stderr}")
    return json.loads(result.stdout)


def compare_templates(tokenizer, workdir):
    failures = 0
    total = 0
    for name in sorted(os.listdir(TEMPLATES)):
        with open(os.path.join(TEMPLATES, name), encoding="utf-8") as f:
            template = f.read()
        cases, expected = [], []
        for _ in range(200):
            messages = random_conversation()
            add_generation_prompt = rng.random() < 0.5
            try:
                text = tokenizer.apply_chat_template(messages, chat_template=template, tokenize=False,
                                                     add_generation_prompt=add_generation_prompt)
                expected.append({"text": text})
            except jinja2.exceptions.TemplateError as e:
                # raise_exception() raises a plain TemplateError whose message we must reproduce exactly; other
                # template errors (undefined values, ...) only have to be errors.
                expected.append({"error": str(e) if type(e) is jinja2.exceptions.TemplateError else None})
            cases.append({"messages": as_parts(messages), "add_generation_prompt": add_generation_prompt,
                          "bos_token": tokenizer.bos_token, "eos_token": tokenizer.eos_token})
        cases_path = os.path.join(workdir, "cases.json")
        with open(cases_path, "w", encoding="utf-8") as f:
            json.dump(cases, f, ensure_ascii=False)
        got = run_cli("chat", os.path.join(TEMPLATES, name), cases_path)
        errors_seen = 0
        for case, want, have in zip(cases, expected, got):
            total += 1
            if "error" in want:
                errors_seen += 1
                ok = "error" in have and (want["error"] is None or want["error"] == have["error"])
            else:
                ok = have.get("text") == want["text"]
            if not ok:
                failures += 1
                if failures <= 5:
                    print(f"MISMATCH {name}: {json.dumps(case, ensure_ascii=False)}\n  transformers: {want!r}\n  ours: {have!r}")
        print(f"{name}: {len(cases)} conversations ({errors_seen} expected errors) compared")
    return failures, total


def special_text():
    pieces = []
    for _ in range(rng.randint(1, 5)):
        pieces.append(random_words(4))
        if rng.random() < 0.6:
            pieces.append(rng.choice(["<s>", "</s>", "<unk>", " <s> ", "</s> ", " </s>", "\u2581"]))
    return "".join(pieces)


def compare_encoding(workdir):
    failures = 0
    total = 0
    legacy_false_dir = os.path.join(workdir, "llama2-nonlegacy")
    os.makedirs(legacy_false_dir)
    shutil.copy(LLAMA2_MODEL, legacy_false_dir)
    with open(os.path.join(legacy_false_dir, "tokenizer_config.json"), "w") as f:
        json.dump({"legacy": False}, f)
    setups = [
        ("llama2 legacy", os.path.dirname(LLAMA2_MODEL), LlamaTokenizer(vocab_file=LLAMA2_MODEL, legacy=True), True),
        ("llama2 non-legacy", legacy_false_dir, LlamaTokenizer(vocab_file=LLAMA2_MODEL, legacy=False), True),
        ("stories260k", STORIES_DIR, LlamaTokenizer.from_pretrained(STORIES_DIR), False),
    ]
    for label, model_dir, reference, messy in setups:
        texts = [special_text() if i % 2 else random_words(10, messy) for i in range(400)]
        texts += ["", " ", "<s>", "</s></s>", " <s>", "<s> ", "a<s>b", "\u2581", "<unk>"]
        if not messy:  # stories260k collapses whitespace in sentencepiece itself; compare like with like
            texts = [t for t in texts if t == " ".join(t.split()) or "<" in t]
        texts_path = os.path.join(workdir, "texts.json")
        with open(texts_path, "w", encoding="utf-8") as f:
            json.dump(texts, f, ensure_ascii=False)
        got = run_cli("encode", model_dir, texts_path)
        for text, ids in zip(texts, got):
            total += 1
            want = reference.encode(text, add_special_tokens=False)
            if ids != want:
                failures += 1
                if failures <= 5:
                    print(f"MISMATCH {label}: {text!r}\n  transformers: {want}\n  ours: {ids}")
        print(f"{label}: {len(texts)} texts compared")
    return failures, total


def main():
    chat_tokenizer = LlamaTokenizer(vocab_file=LLAMA2_MODEL, legacy=True)
    with tempfile.TemporaryDirectory() as workdir:
        chat_failures, chat_total = compare_templates(chat_tokenizer, workdir)
        enc_failures, enc_total = compare_encoding(workdir)
    print(f"chat templates: {chat_total - chat_failures}/{chat_total} match; "
          f"encode: {enc_total - enc_failures}/{enc_total} match")
    sys.exit(1 if chat_failures or enc_failures else 0)


if __name__ == "__main__":
    main()
