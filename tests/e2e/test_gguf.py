"""tests/e2e/test_gguf.py — GGUF checkpoints load through the llama plugin and compute what the safetensors original
computes: stories260k is converted with benchmarks/llamacpp/convert_to_gguf.py (the `gguf` package from PyPI, q/k
rows permuted as llama.cpp's converter does) to F32, F16, BF16, Q8_0 and Q4_0, and every prompt position's logits
are compared with the original's (F32) or with the original quantized at load to the same type.

Environment: LLMATC_BUILD_DIR (default <repo>/build), LLMATC_SHARED (default <repo>/../shared).
"""
import json
import shutil
import subprocess
import sys

import pytest

from conftest import BUILD_DIR, REPO_ROOT, STORIES260K

CONVERTER = REPO_ROOT / "benchmarks" / "llamacpp" / "convert_to_gguf.py"
PROMPT_IDS = [1, 403, 407, 261, 378, 432, 383, 286, 261, 376]  # "Once upon a time, there was a little"

# GGUF type -> (--quantization of the safetensors run it must match, max abs logit difference). F32 must match the
# F32 original; the others must match our own load-time conversion to the same type (same rounding rules).
CASES = {
    "f32": ("f32", 1e-4),
    "f16": ("f16", 1e-3),
    "bf16": ("bf16", 1e-3),
    "q8_0": ("q8_0", 2e-3),
    "q4_0": ("q4_0", 2e-3),
}


def run_generate(model_dir, dump, *extra):
    launcher = BUILD_DIR / "llm-atc"
    if not launcher.is_file():
        pytest.skip(f"{launcher} not built (set LLMATC_BUILD_DIR)")
    cmd = [str(launcher), "generate", "--model", str(model_dir), "--prompt-ids", ",".join(map(str, PROMPT_IDS)),
           "--max-tokens", "48", "--temperature", "0", "--ignore-eos", "--json", "--threads", "1",
           "--dump-logits", str(dump), *extra]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"{' '.join(cmd)} failed:\n{result.stderr}"
    return json.loads(result.stdout), json.loads(dump.read_text())["logits"]


def convert(tmp_path, gguf_type):
    pytest.importorskip("gguf")
    out_dir = tmp_path / f"stories260k-{gguf_type}"
    out_dir.mkdir()
    shutil.copy(STORIES260K / "tokenizer.model", out_dir / "tokenizer.model")
    result = subprocess.run([sys.executable, str(CONVERTER), str(STORIES260K), str(out_dir / "model.gguf"),
                             "--type", gguf_type], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"convert_to_gguf.py failed:\n{result.stderr}"
    return out_dir


@pytest.mark.parametrize("gguf_type", sorted(CASES))
def test_gguf_logits_match_safetensors(tmp_path, gguf_type):
    quantization, tolerance = CASES[gguf_type]
    gguf_dir = convert(tmp_path, gguf_type)
    gguf_out, gguf_logits = run_generate(gguf_dir, tmp_path / "gguf.json")
    ref_out, ref_logits = run_generate(STORIES260K, tmp_path / "ref.json", "--quantization", quantization)
    assert len(gguf_logits) == len(ref_logits) == len(PROMPT_IDS)
    worst = max(abs(a - b) for row_a, row_b in zip(gguf_logits, ref_logits) for a, b in zip(row_a, row_b))
    assert worst <= tolerance, f"{gguf_type}: logits differ from the safetensors run by up to {worst}"
    if gguf_type == "f32":
        assert gguf_out["token_ids"] == ref_out["token_ids"]


def test_gguf_refuses_a_truncated_file(tmp_path):
    gguf_dir = convert(tmp_path, "f32")
    path = gguf_dir / "model.gguf"
    path.write_bytes(path.read_bytes()[:1000])
    launcher = BUILD_DIR / "llm-atc"
    result = subprocess.run([str(launcher), "generate", "--model", str(gguf_dir), "--prompt", "Hi", "-n", "1"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert "model.gguf" in result.stderr and ("truncated" in result.stderr or "outside the file" in result.stderr)
