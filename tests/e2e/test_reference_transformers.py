"""tests/e2e/test_reference_transformers.py — our Llama forward against transformers' on random-weight checkpoints.

Each variant is written by scripts/make_random_llama.py (with and without GQA, tied and untied, F32 and BF16,
sharded safetensors, pytorch_model.bin, linear rope_scaling). For a 64-token prompt, `llm-atc generate
--dump-logits` must give the logits of every position within 1e-4 of LlamaForCausalLM's (F32; 2e-2 for BF16 run
natively in transformers, and 1e-4 against transformers run in F32 on the same BF16 weights), and in F32 the same
32-token greedy continuation as transformers' generate().
Environment: LLMATC_BUILD_DIR (default: <repo>/build), LLMATC_SHARED (default: <repo>/../shared).
"""
import json
import os
import pathlib
import random
import subprocess
import sys

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
BUILD_DIR = pathlib.Path(os.environ.get("LLMATC_BUILD_DIR", REPO_ROOT / "build"))
MAKE_CHECKPOINT = REPO_ROOT / "scripts" / "make_random_llama.py"
PROMPT_TOKENS = 64
NEW_TOKENS = 32
# F32 variants use weights larger than the script's default 0.02: attention is then far from uniform, so RoPE and
# masking errors show. BF16 variants keep 0.02, since transformers' own BF16 arithmetic drifts with the magnitudes.
STD = {"f32": "0.15", "bf16": "0.02"}

# name: (make_random_llama.py flags, dtype)
VARIANTS = {
    "gqa_untied_f32": (["--kv-heads", "2"], "f32"),
    "mha_tied_f32": (["--tied"], "f32"),
    "gqa_tied_sharded_f32": (["--kv-heads", "1", "--tied", "--layers", "3", "--max-shard-size", "100KB"], "f32"),
    "pytorch_bin_f32": (["--kv-heads", "2", "--format", "bin"], "f32"),
    "rope_linear_f32": (["--kv-heads", "2", "--rope-scaling-factor", "4", "--rope-theta", "500000"], "f32"),
    "gqa_untied_bf16": (["--kv-heads", "2"], "bf16"),
    "mha_tied_bf16_sharded": (["--tied", "--max-shard-size", "100KB"], "bf16"),
}


@pytest.fixture(scope="module", params=sorted(VARIANTS))
def checkpoint(request, tmp_path_factory):
    flags, dtype = VARIANTS[request.param]
    out = tmp_path_factory.mktemp(request.param)
    subprocess.run([sys.executable, str(MAKE_CHECKPOINT), "--out", str(out), "--dtype", dtype, "--seed", "1234",
                    "--hidden-size", "64", "--heads", "4", "--intermediate-size", "160", "--std", STD[dtype], *flags],
                   check=True, capture_output=True, timeout=300)
    return out, dtype


def prompt_ids(vocab_size):
    rng = random.Random(42)
    return [1] + [rng.randrange(3, vocab_size) for _ in range(PROMPT_TOKENS - 1)]


def run_generate(model_dir, ids, logits_file, exact):
    """exact: LLMATC_BF16_ACTIVATIONS=0 and an F32 KV cache: F32 activations everywhere (the exact upcast of BF16
    weights; --kv-cache-dtype auto would keep keys and values of BF16 weights in F16)."""
    env = dict(os.environ, LLMATC_BF16_ACTIVATIONS="0" if exact else "1")
    launcher = BUILD_DIR / "llm-atc"
    assert launcher.is_file(), f"{launcher} not built (set LLMATC_BUILD_DIR)"
    proc = subprocess.run([str(launcher), "generate", "--model", str(model_dir), "--threads", "1",
                           "--prompt-ids", ",".join(map(str, ids)), "--temperature", "0",
                           "--max-tokens", str(NEW_TOKENS), "--json", "--dump-logits", str(logits_file),
                           *(["--kv-cache-dtype", "f32"] if exact else [])],
                          capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, f"llm-atc generate failed ({proc.returncode}):\n{proc.stderr}"
    return json.loads(proc.stdout), json.loads(logits_file.read_text())


def transformers_logits(model_dir, ids, dtype):
    model = transformers.LlamaForCausalLM.from_pretrained(model_dir, torch_dtype=dtype).eval()
    with torch.no_grad():
        return model, model(torch.tensor([ids])).logits[0].float()


def test_logits_and_greedy_continuation_match_transformers(checkpoint, tmp_path):
    model_dir, dtype = checkpoint
    vocab_size = json.loads((model_dir / "config.json").read_text())["vocab_size"]
    ids = prompt_ids(vocab_size)
    result, dumped = run_generate(model_dir, ids, tmp_path / "logits.json", exact=True)
    assert result["prompt_token_ids"] == ids
    ours = torch.tensor(dumped["logits"])
    assert ours.shape == (PROMPT_TOKENS, vocab_size)

    # Against transformers in F32: for BF16 weights this is the exact upcast, the same arithmetic as ours (with
    # LLMATC_BF16_ACTIVATIONS=0).
    model, reference = transformers_logits(model_dir, ids, torch.float32)
    worst = (ours - reference).abs().max().item()
    assert worst < 1e-4, f"max |ours - transformers(f32)| = {worst}"

    if dtype == "bf16":
        # By default prefill rounds activations to BF16 for the BF16 dot product, as transformers' BF16 run does.
        _, native = transformers_logits(model_dir, ids, torch.bfloat16)
        _, default_dump = run_generate(model_dir, ids, tmp_path / "logits_default.json", exact=False)
        for name, logits in (("exact", ours), ("default", torch.tensor(default_dump["logits"]))):
            worst = (logits - native).abs().max().item()
            assert worst < 2e-2, f"max |ours ({name}) - transformers(bf16)| = {worst}"
        return

    with torch.no_grad():
        generated = model.generate(torch.tensor([ids]), attention_mask=torch.ones(1, len(ids), dtype=torch.long),
                                   do_sample=False, max_new_tokens=NEW_TOKENS, pad_token_id=0)[0, len(ids):].tolist()
    eos_ids = {2}
    expected = generated[:-1] if generated and generated[-1] in eos_ids else generated
    assert result["token_ids"] == expected
    assert result["finish_reason"] == ("stop" if len(expected) < NEW_TOKENS else "length")
