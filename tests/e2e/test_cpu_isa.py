"""tests/e2e/test_cpu_isa.py — LLMATC_CPU_ISA: every kernel level this CPU runs gives stories260k's reference tokens.

For each level the CPU supports (scalar, avx2, avx2-vnni, avx512-novnni, avx512), greedy F32 generation under
LLMATC_CPU_ISA=<level> reproduces reference.json's tokens. With Q8_0 / Q4_0 weights, the AVX2 (vpmaddubsw or
AVX-VNNI) and AVX-512 kernels (one packed layout, the same integers and F32 steps; avx512-novnni runs the AVX2 ones)
give the very same tokens and logits as the CPU's best level; Q4_K's cross-level bits are checked by the kernel
tests, since stories260k's rows are not whole 256-element super-blocks. (Q8_0 itself does not reproduce every
stories260k continuation: its weights alone, in F32 arithmetic, change one case's token 35; see the issue 6 notes.)
An unknown level is refused, naming it.
Environment: LLMATC_BUILD_DIR (default: <repo>/build), LLMATC_SHARED (default: <repo>/../shared).
"""
import json
import os
import pathlib
import subprocess

import pytest

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
BUILD_DIR = pathlib.Path(os.environ.get("LLMATC_BUILD_DIR", REPO_ROOT / "build"))
SHARED = pathlib.Path(os.environ.get("LLMATC_SHARED", REPO_ROOT.parent / "shared"))
MODEL_DIR = SHARED / "models" / "stories260k"
REFERENCE = json.loads((MODEL_DIR / "reference.json").read_text())
LEVELS = ["scalar", "avx2", "avx2-vnni", "avx512-novnni", "avx512"]


def generate(isa, prompt_ids, quantization, dump):
    """Runs greedy generation on level `isa` (None: the CPU's best), dumping the prompt's logits to `dump`."""
    env = {k: v for k, v in os.environ.items() if k != "LLMATC_CPU_ISA"}
    if isa:
        env["LLMATC_CPU_ISA"] = isa
    proc = subprocess.run([str(BUILD_DIR / "llm-atc"), "generate", "--model", str(MODEL_DIR), "--threads", "2",
                           "--prompt-ids", ",".join(map(str, prompt_ids)), "--temperature", "0",
                           "--max-tokens", str(REFERENCE["n_new_tokens"]), "--json", "--quantization", quantization,
                           "--dump-logits", str(dump)], capture_output=True, text=True, timeout=120, env=env)
    return proc


def supported(isa, tmp_path):
    """Skips the test when this CPU cannot run level `isa`."""
    proc = generate(isa, REFERENCE["cases"][0]["prompt_ids"], "f32", tmp_path / "probe.json")
    if proc.returncode != 0 and "this CPU cannot run" in proc.stderr:
        pytest.skip(f"this CPU cannot run the {isa} kernels")
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("isa", LEVELS)
def test_every_level_gives_the_f32_reference_tokens(isa, tmp_path):
    supported(isa, tmp_path)
    for i, case in enumerate(REFERENCE["cases"]):
        ours = generate(isa, case["prompt_ids"], "f32", tmp_path / f"{i}.json")
        assert ours.returncode == 0, ours.stderr
        assert json.loads(ours.stdout)["token_ids"] == case["generated_ids"], f"{isa}: {case['prompt']!r}"


@pytest.mark.parametrize("quantization", ["q8_0", "q4_0"])
@pytest.mark.parametrize("isa", ["avx2", "avx2-vnni", "avx512-novnni", "avx512"])
def test_packed_quantized_levels_give_the_best_levels_bits(isa, quantization, tmp_path):
    supported(isa, tmp_path)
    for i, case in enumerate(REFERENCE["cases"]):
        ours = generate(isa, case["prompt_ids"], quantization, tmp_path / f"{i}.json")
        best = generate(None, case["prompt_ids"], quantization, tmp_path / f"{i}-best.json")
        assert ours.returncode == 0 and best.returncode == 0, ours.stderr + best.stderr
        assert json.loads(ours.stdout) == json.loads(best.stdout), f"{isa} {quantization}: {case['prompt']!r}"
        ours_logits = json.loads((tmp_path / f"{i}.json").read_text())["logits"]
        assert ours_logits == json.loads((tmp_path / f"{i}-best.json").read_text())["logits"]


def test_an_unknown_level_is_refused_by_name(tmp_path):
    proc = generate("avx9000", REFERENCE["cases"][0]["prompt_ids"], "f32", tmp_path / "x.json")
    assert proc.returncode != 0
    assert "LLMATC_CPU_ISA='avx9000' is not one of scalar, avx2, avx2-vnni, avx512-novnni, avx512" in proc.stderr
