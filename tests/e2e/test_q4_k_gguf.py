"""tests/e2e/test_q4_k_gguf.py — Q4_K GGUF checkpoints: a random Llama (hidden 256, every matrix a whole number of
256-element super-blocks) is converted with benchmarks/llamacpp/convert_to_gguf.py to F32 GGUF, then rewritten with
its 2-D tensors as Q4_K blocks (made by our quantizer through tests' k_quant_tool; gguf-py 0.19 has no Q4_K quantizer;
the blocks' decoding is checked against gguf-py's dequantizer here too). No tokenizer.model goes beside the file,
so the tokenizer is rebuilt from its tokenizer.ggml.* metadata.

Checks: `llm-atc generate` on the Q4_K GGUF gives text and encodes the prompt as tokenizer.model does; its logits
equal the safetensors original quantized at load (--quantization q4_k: same quantizer, same blocks); and its greedy
tokens agree with F32 (teacher-forced, as tests/e2e/test_quantization.py measures) above a floor.

Floor: measured on this model (AVX-512 VNNI, 2 threads), Q4_K agrees with F32 on 0.605 of 16 prompts x 64 tokens;
test_quantization.py measures Q4_0 0.611 and Q8_0 0.955 on the same model. Random weights give near-flat logits,
so 4-bit rounding flips many near-ties (the logits test above shows the GGUF path itself adds nothing). The floor
0.55 leaves margin for other thread counts and ISAs and is far above what a wrong scale, nibble order or min term
gives (a few percent, as for any broken kernel).

Environment: LLMATC_BUILD_DIR (default <repo>/build), LLMATC_SHARED (default <repo>/../shared).
"""
import json
import random
import subprocess
import sys

import numpy as np
import pytest

from conftest import BUILD_DIR, REPO_ROOT

gguf = pytest.importorskip("gguf")

CONVERTER = REPO_ROOT / "benchmarks" / "llamacpp" / "convert_to_gguf.py"
Q4_K_TOOL = BUILD_DIR / "tests" / "core" / "kernels" / "k_quant_tool"
MODEL_ARGS = ["--hidden-size", "256", "--layers", "4", "--heads", "4", "--intermediate-size", "768",
              "--tokenizer", "stories260k"]
N_PROMPTS = 16
N_NEW_TOKENS = 64
PROMPT_LENGTH = 8
AGREEMENT_FLOOR = 0.55


def launcher():
    path = BUILD_DIR / "llm-atc"
    if not path.is_file():
        pytest.skip(f"{path} not built (set LLMATC_BUILD_DIR)")
    return path


def generate(model_dir, *args):
    cmd = [str(launcher()), "generate", "--model", str(model_dir), "--temperature", "0", "--json", *map(str, args)]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"{' '.join(cmd)} failed:\n{result.stderr}"
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def random_model():
    """The random F32 checkpoint test_quantization.py uses (same command and seed), generated on first use."""
    out = BUILD_DIR / "test-cache" / "random-llama-small-f32"
    if not (out / "config.json").is_file():
        pytest.importorskip("transformers")
        out.parent.mkdir(parents=True, exist_ok=True)
        cmd = [sys.executable, str(REPO_ROOT / "scripts" / "make_random_llama.py"), "--out", str(out),
               "--dtype", "f32", "--seed", "0", *MODEL_ARGS]
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
        assert result.returncode == 0, f"make_random_llama.py failed:\n{result.stderr}"
    return out


def quantize_q4_k(rows, tmp_path):
    """Q4_K blocks of a 2-D F32 array, [rows, cols / 256 * 144] bytes, by our quantizer."""
    if not Q4_K_TOOL.is_file():
        pytest.skip(f"{Q4_K_TOOL} not built")
    src, dst = tmp_path / "rows.f32", tmp_path / "rows.q4k"
    src.write_bytes(np.ascontiguousarray(rows, dtype=np.float32).tobytes())
    subprocess.run([str(Q4_K_TOOL), "quantize", "q4_k", str(src), str(dst)], check=True)
    return np.frombuffer(dst.read_bytes(), dtype=np.uint8).reshape(rows.shape[0], -1)


def rewrite_as_q4_k(f32_gguf, out_path, tmp_path):
    """Copies every metadata key of f32_gguf and its tensors, 2-D ones with whole super-blocks as Q4_K."""
    reader = gguf.GGUFReader(str(f32_gguf))
    writer = gguf.GGUFWriter(str(out_path), "llama")
    for field in reader.fields.values():
        if field.name.startswith("GGUF.") or field.name == "general.architecture":
            continue  # the header's own counts, and the key GGUFWriter writes itself
        sub_type = field.types[-1] if field.types[0] == gguf.GGUFValueType.ARRAY else None
        writer.add_key_value(field.name, field.contents(), field.types[0], sub_type)
    quantized = 0
    for tensor in reader.tensors:
        assert tensor.tensor_type == gguf.GGMLQuantizationType.F32, tensor.name
        data = np.array(tensor.data, dtype=np.float32).reshape(list(reversed(tensor.shape.tolist())))
        if data.ndim == 2 and data.shape[1] % 256 == 0:
            blocks = quantize_q4_k(data, tmp_path)
            # gguf-py decodes our blocks close to the source (its dequantizer is the format's reference).
            decoded = gguf.quants.dequantize(blocks, gguf.GGMLQuantizationType.Q4_K)
            assert decoded.shape == data.shape
            assert np.sqrt(np.mean((decoded - data) ** 2)) < 0.15 * np.sqrt(np.mean(data ** 2)), tensor.name
            writer.add_tensor(tensor.name, blocks, raw_dtype=gguf.GGMLQuantizationType.Q4_K)
            quantized += 1
        else:
            writer.add_tensor(tensor.name, data)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return quantized


@pytest.fixture(scope="module")
def q4_k_gguf_dir(random_model, tmp_path_factory):
    """A directory holding only model.gguf (Q4_K), made from random_model."""
    tmp = tmp_path_factory.mktemp("q4k")
    f32_gguf = tmp / "f32.gguf"
    result = subprocess.run([sys.executable, str(CONVERTER), str(random_model), str(f32_gguf), "--type", "f32"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"convert_to_gguf.py failed:\n{result.stderr}"
    out_dir = tmp / "random-q4k-gguf"
    out_dir.mkdir()
    quantized = rewrite_as_q4_k(f32_gguf, out_dir / "model.gguf", tmp)
    assert quantized >= 4 * 7  # every layer's seven matrices (plus the embedding table)
    return out_dir


def test_q4_k_gguf_generates_text_with_its_own_tokenizer(random_model, q4_k_gguf_dir):
    assert not (q4_k_gguf_dir / "tokenizer.model").exists()
    prompt = "Once upon a time, there was a little"
    from_gguf = generate(q4_k_gguf_dir, "--prompt", prompt, "--max-tokens", "24", "--ignore-eos")
    reference = generate(random_model, "--prompt", prompt, "--max-tokens", "1")
    assert from_gguf["prompt_token_ids"] == reference["prompt_token_ids"]
    assert len(from_gguf["token_ids"]) == 24
    assert from_gguf["text"].strip(), from_gguf


def test_q4_k_gguf_logits_match_quantize_at_load(random_model, q4_k_gguf_dir, tmp_path):
    prompt_ids = [1, 403, 407, 261, 378, 432, 383, 286, 261, 376]
    dumps = {}
    for name, model_dir, extra in [("gguf", q4_k_gguf_dir, []), ("load", random_model, ["--quantization", "q4_k"])]:
        dumps[name] = tmp_path / f"{name}.json"
        generate(model_dir, "--prompt-ids", ",".join(map(str, prompt_ids)), "--max-tokens", "1", "--threads", "1",
                 "--dump-logits", dumps[name], *extra)
    gguf_logits = json.loads(dumps["gguf"].read_text())["logits"]
    load_logits = json.loads(dumps["load"].read_text())["logits"]
    assert len(gguf_logits) == len(load_logits) == len(prompt_ids)
    worst = max(abs(a - b) for row_a, row_b in zip(gguf_logits, load_logits) for a, b in zip(row_a, row_b))
    assert worst <= 2e-3, f"Q4_K GGUF logits differ from --quantization q4_k by up to {worst}"


def argmax(row):
    return max(range(len(row)), key=row.__getitem__)


def test_q4_k_gguf_greedy_agreement_with_f32(random_model, q4_k_gguf_dir, tmp_path):
    vocab = json.loads((random_model / "config.json").read_text())["vocab_size"]
    rng = random.Random(1234)
    prompts = [[1] + [rng.randrange(3, vocab) for _ in range(PROMPT_LENGTH - 1)] for _ in range(N_PROMPTS)]
    matches = total = 0
    for i, prompt in enumerate(prompts):
        ref = generate(random_model, "--prompt-ids", ",".join(map(str, prompt)), "--max-tokens", N_NEW_TOKENS,
                       "--ignore-eos")["token_ids"]
        assert len(ref) == N_NEW_TOKENS
        dump = tmp_path / f"q4k-{i}.json"
        generate(q4_k_gguf_dir, "--prompt-ids", ",".join(map(str, prompt + ref)), "--max-tokens", "1",
                 "--ignore-eos", "--dump-logits", dump)
        logits = json.loads(dump.read_text())["logits"]
        predicted = [argmax(logits[len(prompt) - 1 + j]) for j in range(len(ref))]
        matches += sum(p == t for p, t in zip(predicted, ref))
        total += len(ref)
    agreement = matches / total
    print(f"Q4_K GGUF greedy agreement with F32: {agreement:.3f}")
    assert agreement >= AGREEMENT_FLOOR, f"Q4_K greedy agreement with F32 is {agreement:.3f} < {AGREEMENT_FLOOR}"
