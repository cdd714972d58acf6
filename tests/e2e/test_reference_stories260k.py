"""tests/e2e/test_reference_stories260k.py — `llm-atc generate` reproduces stories260k's reference.json exactly.

For every case: greedy generation of 48 tokens gives reference.json's prompt_ids, generated_ids and generated_text,
and the first step's logits (dumped with --dump-logits) match first_step_top5 within 1e-3.
Also: streaming, seeded sampling, EOS stops and flag errors of `generate`.
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
LOGIT_TOLERANCE = 1e-3


def run_generate(*args):
    """Runs `llm-atc generate --model stories260k ARGS` and returns the completed process (fails on a non-zero exit)."""
    launcher = BUILD_DIR / "llm-atc"
    assert launcher.is_file(), f"{launcher} not built (set LLMATC_BUILD_DIR)"
    proc = subprocess.run([str(launcher), "generate", "--model", str(MODEL_DIR), "--threads", "1", *args],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, f"llm-atc generate failed ({proc.returncode}):\n{proc.stderr}"
    return proc


@pytest.mark.parametrize("case", REFERENCE["cases"], ids=[c["prompt"] for c in REFERENCE["cases"]])
def test_greedy_generation_and_first_step_logits(case, tmp_path):
    n_new = REFERENCE["n_new_tokens"]
    logits_file = tmp_path / "logits.json"
    proc = run_generate("--prompt", case["prompt"], "--temperature", "0", "--max-tokens", str(n_new), "--json",
                        "--dump-logits", str(logits_file))
    result = json.loads(proc.stdout)
    assert result["prompt_token_ids"] == case["prompt_ids"]
    assert result["token_ids"] == case["generated_ids"]
    assert result["text"] == case["generated_text"]
    assert result["finish_reason"] == "length"

    dumped = json.loads(logits_file.read_text())
    assert dumped["prompt_token_ids"] == case["prompt_ids"]
    assert len(dumped["logits"]) == len(case["prompt_ids"])
    first_step = dumped["logits"][-1]
    for top in case["first_step_top5"]:
        assert abs(first_step[top["id"]] - top["logit"]) < LOGIT_TOLERANCE, (top, first_step[top["id"]])
    # The reference's top-5 is our top-5, in order.
    ours = sorted(range(len(first_step)), key=lambda i: -first_step[i])[:5]
    assert ours == [top["id"] for top in case["first_step_top5"]]


def test_streamed_text_is_the_json_text():
    case = REFERENCE["cases"][0]
    proc = run_generate("--prompt", case["prompt"], "--temperature", "0", "--max-tokens", str(REFERENCE["n_new_tokens"]))
    assert proc.stdout == case["generated_text"] + "\n"


def test_sampling_is_reproducible_with_a_seed():
    args = ("--prompt", "Once upon a time", "--temperature", "0.9", "--top-p", "0.9", "--top-k", "40",
            "--max-tokens", "32", "--seed", "7", "--json")
    first, second = (json.loads(run_generate(*args).stdout) for _ in range(2))
    assert first["token_ids"] == second["token_ids"]
    other = json.loads(run_generate(*args[:-3], "--seed", "8", "--json").stdout)
    assert other["token_ids"] != first["token_ids"]


def test_generation_stops_at_an_eos_id_from_generation_config():
    # stories260k ends a story by predicting BOS (id 1), which generation_config.json lists as an eos_token_id.
    result = json.loads(run_generate("--prompt", "Once upon a time", "--temperature", "0", "--max-tokens", "400",
                                      "--json").stdout)
    assert result["finish_reason"] == "stop"
    assert 1 not in result["token_ids"] and 2 not in result["token_ids"]
    assert len(result["token_ids"]) < 400


@pytest.mark.parametrize("flags, message", [
    (["--max-tokens", "0"], "--max-tokens"),
    (["--top-p", "1.5"], "--top-p"),
    (["--temperature", "-1"], "--temperature"),
    (["--no-such-flag"], "no-such-flag"),
    (["--seed", "x"], "--seed"),
])
def test_bad_flags_exit_2_with_a_message(flags, message):
    proc = subprocess.run([str(BUILD_DIR / "llm-atc"), "generate", "--model", str(MODEL_DIR), "--prompt", "x", *flags],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert message in proc.stderr


def test_missing_model_dir_is_named():
    proc = subprocess.run([str(BUILD_DIR / "llm-atc"), "generate", "--model", "/nonexistent/model", "--prompt", "x"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0
    assert "/nonexistent/model" in proc.stderr
