"""tests/e2e/test_quantization.py — quantized weights stay faithful: greedy token agreement with F32 on a random Llama.

Issue 6 asks for agreement >= 98% (Q8_0) and >= 90% (Q4_0) over 16 prompts x 64 tokens on the random 110M model.
Agreement is measured teacher-forced: F32 generates 64 greedy tokens per prompt; each quantized model then reads
that same sequence once (--dump-logits) and we count the positions where its argmax is F32's token. Free-running
comparison would instead count every token after the first flip as a miss, measuring luck more than fidelity.

Two tests:
- test_quantized_greedy_agreement_with_f32: the agreement itself, against floors (below).
- test_kernels_add_no_error_beyond_the_format: separates the format's error from ours. The `gguf` package's own
  quantizers (llama.cpp's reference formats, not our code) round the checkpoint's weights to Q8_0 / Q4_0 and back to
  F32; our F32 path then runs that checkpoint, which is the format's error alone. Our quantized kernels (int8
  activations, integer dot products, repacked layouts) must agree with F32 as often, within 2 points.

CI uses a small random model (hidden 256, 4 layers, the 512-token stories260k vocabulary) so that the tests take
well under two minutes; set LLMATC_QUANT_PRESET=110m to run the issue's 110M model (32000-token vocabulary, several
minutes on a loaded machine). The checkpoint is generated once with scripts/make_random_llama.py into
<build>/test-cache/ and reused.

Thresholds: the 110m preset asserts the issue's figures, which are NOT met (measured: Q8_0 0.974, Q4_0 0.606) and
cannot be by these formats on this model: the format's error alone (second test) gives 0.975 / 0.605 on it, and
llama.cpp's own engine 0.969 / 0.605 on the same files. Random weights have near-flat logits, so small weight errors
flip the argmax. The small CI model asserts floors a broken kernel cannot reach (a wrong scale, nibble order or block
offset drops agreement to a few percent); measured on it: Q8_0 0.955, Q4_0 0.611.

Environment: LLMATC_BUILD_DIR (default <repo>/build), LLMATC_QUANT_PRESET (small | 110m).
"""
import json
import os
import random
import shutil
import subprocess
import sys

import pytest

from conftest import BUILD_DIR, REPO_ROOT

N_PROMPTS = 16
N_NEW_TOKENS = 64
PROMPT_LENGTH = 8
THRESHOLDS = {
    "small": {"q8_0": 0.93, "q4_0": 0.50},
    "110m": {"q8_0": 0.98, "q4_0": 0.90},  # issue 6
}
# Ours may trail the format's own error by this much: int8 activations (Q8_0's rounding of each 32-value block)
# add a little error of their own. Measured on the 110M: -0.001 (Q8_0) and +0.001 (Q4_0).
KERNEL_MARGIN = 0.02

PRESETS = {
    "small": ["--hidden-size", "256", "--layers", "4", "--heads", "4", "--intermediate-size", "768",
              "--tokenizer", "stories260k"],
    "110m": ["--preset", "110m", "--tokenizer", "llama2"],
}


def launcher():
    path = BUILD_DIR / "llm-atc"
    if not path.is_file():
        pytest.skip(f"{path} not built (set LLMATC_BUILD_DIR)")
    return path


def preset_name():
    preset = os.environ.get("LLMATC_QUANT_PRESET", "small")
    assert preset in PRESETS, f"LLMATC_QUANT_PRESET={preset!r}: expected one of {sorted(PRESETS)}"
    return preset


@pytest.fixture(scope="module")
def random_model():
    """A random-weight F32 Llama checkpoint directory, generated on first use (fixed seed)."""
    preset = preset_name()
    out = BUILD_DIR / "test-cache" / f"random-llama-{preset}-f32"
    if not (out / "config.json").is_file():
        pytest.importorskip("transformers")
        out.parent.mkdir(parents=True, exist_ok=True)
        cmd = [sys.executable, str(REPO_ROOT / "scripts" / "make_random_llama.py"), "--out", str(out),
               "--dtype", "f32", "--seed", "0", *PRESETS[preset]]
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
        assert result.returncode == 0, f"make_random_llama.py failed:\n{result.stderr}"
    return out


def generate(model_dir, prompt_ids, quantization, max_tokens, dump_path=None):
    cmd = [str(launcher()), "generate", "--model", str(model_dir), "--prompt-ids", ",".join(map(str, prompt_ids)),
           "--max-tokens", str(max_tokens), "--temperature", "0", "--ignore-eos", "--json",
           "--quantization", quantization]
    if dump_path is not None:
        cmd += ["--dump-logits", str(dump_path)]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"{' '.join(cmd)} failed:\n{result.stderr}"
    return json.loads(result.stdout)


def argmax(row):
    return max(range(len(row)), key=row.__getitem__)


@pytest.fixture(scope="module")
def f32_references(random_model):
    """(prompt, F32's 64 greedy tokens) for each of the 16 prompts."""
    vocab = json.loads((random_model / "config.json").read_text())["vocab_size"]
    rng = random.Random(1234)
    # Token ids 3.. skip BOS/EOS/UNK; the prompt starts with BOS as a real prompt would.
    prompts = [[1] + [rng.randrange(3, vocab) for _ in range(PROMPT_LENGTH - 1)] for _ in range(N_PROMPTS)]
    references = [generate(random_model, p, "f32", N_NEW_TOKENS)["token_ids"] for p in prompts]
    for ref in references:
        assert len(ref) == N_NEW_TOKENS
    return list(zip(prompts, references))


def teacher_forced_agreement(model_dir, quantization, references, tmp_path):
    """Fraction of positions where the model's argmax, reading F32's sequence, is F32's next token."""
    matches = total = 0
    for i, (prompt, ref) in enumerate(references):
        dump = tmp_path / f"{model_dir.name}-{quantization}-{i}.json"
        # The whole F32 continuation as the prompt: row j's logits predict token j + 1.
        generate(model_dir, prompt + ref, quantization, 1, dump_path=dump)
        logits = json.loads(dump.read_text())["logits"]
        dump.unlink()
        assert len(logits) == len(prompt) + len(ref)
        predicted = [argmax(logits[len(prompt) - 1 + j]) for j in range(len(ref))]
        matches += sum(p == t for p, t in zip(predicted, ref))
        total += len(ref)
    return matches / total


@pytest.fixture(scope="module")
def our_agreement(random_model, f32_references, tmp_path_factory):
    """Teacher-forced agreement of our quantized kernels with F32, per quantization."""
    tmp = tmp_path_factory.mktemp("dumps")
    return {q: teacher_forced_agreement(random_model, q, f32_references, tmp) for q in THRESHOLDS[preset_name()]}


def test_quantized_greedy_agreement_with_f32(our_agreement):
    thresholds = THRESHOLDS[preset_name()]
    agreement = our_agreement
    print("greedy agreement with F32:", json.dumps(agreement))
    for quantization, threshold in thresholds.items():
        assert agreement[quantization] >= threshold, (
            f"{quantization}: greedy agreement with F32 is {agreement[quantization]:.3f}, "
            f"below {threshold} ({json.dumps(agreement)})")


def format_rounded_checkpoint(src, dst, quantization):
    """A copy of `src` whose weights are rounded to `quantization` and back by the gguf package (llama.cpp's
    reference quantizers), stored as F32. Rounded are the tensors the launcher quantizes: every 2-D weight whose
    rows tile into 32-value blocks (the embedding table included); norms stay as they are."""
    gguf = pytest.importorskip("gguf")
    from safetensors.numpy import load_file, save_file
    qtype = {"q8_0": gguf.GGMLQuantizationType.Q8_0, "q4_0": gguf.GGMLQuantizationType.Q4_0}[quantization]
    dst.mkdir(parents=True)
    for f in src.iterdir():
        if f.is_file() and f.suffix != ".safetensors":
            shutil.copy(f, dst / f.name)
    rounded = 0
    for f in src.glob("*.safetensors"):
        tensors = load_file(f)
        for name, t in tensors.items():
            if t.ndim == 2 and t.shape[1] % 32 == 0:
                tensors[name] = gguf.quants.dequantize(gguf.quants.quantize(t.astype("float32"), qtype), qtype)
                rounded += 1
        save_file(tensors, dst / f.name, metadata={"format": "pt"})
    assert rounded > 0, f"no 2-D weight in {src} was rounded"
    return dst


def test_kernels_add_no_error_beyond_the_format(random_model, f32_references, our_agreement, tmp_path):
    results = {}
    for quantization in THRESHOLDS[preset_name()]:
        rounded = format_rounded_checkpoint(random_model, tmp_path / f"rounded-{quantization}", quantization)
        fmt = teacher_forced_agreement(rounded, "f32", f32_references, tmp_path)
        results[quantization] = {"format_alone": fmt, "llm-atc": our_agreement[quantization]}
    print("agreement with F32, the format's error alone vs llm-atc's kernels:", json.dumps(results))
    for quantization, r in results.items():
        assert r["llm-atc"] >= r["format_alone"] - KERNEL_MARGIN, (
            f"{quantization}: our kernels agree with F32 {r['llm-atc']:.3f} of the time, the format's rounding "
            f"alone {r['format_alone']:.3f}: the kernels add error of their own ({json.dumps(results)})")
