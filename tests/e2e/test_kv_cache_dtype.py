"""tests/e2e/test_kv_cache_dtype.py — `--kv-cache-dtype auto|f32|f16` through `llm-atc serve` and `generate`: flag
checks, what /metrics and the startup log report, and greedy output with an F16 cache on stories260k.
"""
import json
import subprocess
import urllib.request

import pytest

from conftest import BUILD_DIR, STORIES260K


def run_cli(*args):
    return subprocess.run([str(BUILD_DIR / "llm-atc"), *args], capture_output=True, text=True, timeout=120)


def complete(server, prompt, max_tokens=24):
    body = json.dumps({"model": "stories260k", "prompt": prompt, "max_tokens": max_tokens, "temperature": 0,
                       "ignore_eos": True}).encode()
    req = urllib.request.Request(server.base_url + "/completions", data=body,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.loads(r.read())


def test_flag_is_listed_and_bad_values_are_refused():
    assert "--kv-cache-dtype" in run_cli("serve", "--help").stdout
    assert "--kv-cache-dtype" in run_cli("generate", "--help").stdout
    for command in (["serve", "--name"], ["generate", "--prompt", "x", "--model"]):
        out = run_cli(*command, str(STORIES260K), "--kv-cache-dtype", "bf16")
        assert out.returncode == 2
        assert "--kv-cache-dtype" in out.stderr and "bf16" in out.stderr


def test_dryrun_shows_the_choice():
    out = run_cli("serve", "--name", str(STORIES260K), "--dryrun", "--kv-cache-dtype", "f16")
    assert out.returncode == 0
    assert "kv-cache-dtype f16" in out.stdout


@pytest.mark.parametrize("flag, expected", [(None, "f32"), ("auto", "f32"), ("f32", "f32"), ("f16", "f16")])
def test_metrics_and_log_report_the_dtype(serve, metric, flag, expected):
    # stories260k is F32, so auto keeps an F32 cache.
    args = ["--threads", "1", "--kv-cache-memory", "8M", "--served-model-name", "stories260k"] + (["--kv-cache-dtype", flag] if flag else [])
    server = serve(*args)
    assert metric(server, "llmatc_cache_config_info", cache_dtype=expected) == 1
    assert f"dtype {expected}" in server.log()
    # The same 8 MiB hold twice as many blocks in F16.
    blocks = metric(server, "llmatc_kv_cache_blocks_total")
    bytes_per_block = 2 * 5 * 16 * 4 * 8 * (2 if expected == "f16" else 4)  # K+V, 5 layers, 16 tokens, 4 heads x 8
    assert blocks == (8 << 20) // bytes_per_block
    out = complete(server, "Once upon a time")
    assert out["usage"]["completion_tokens"] == 24


def test_generate_with_an_f16_cache(tmp_path):
    out = run_cli("generate", "--model", str(STORIES260K), "--prompt", "Once upon a time", "--max-tokens", "16",
                  "--temperature", "0", "--ignore-eos", "--json", "--kv-cache-dtype", "f16", "--threads", "1")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert len(result["token_ids"]) == 16
    assert "dtype f16" in out.stderr + out.stdout


def test_f16_cache_reproduces_the_stories260k_reference():
    # reference.json was made with F32 keys and values; F16 rounding (2^-11 relative) stays far inside its smallest
    # top-1/top-2 logit margin, so every greedy continuation is unchanged.
    reference = json.loads((STORIES260K / "reference.json").read_text())
    for case in reference["cases"]:
        ids = ",".join(str(i) for i in case["prompt_ids"])
        out = run_cli("generate", "--model", str(STORIES260K), "--prompt-ids", ids,
                      "--max-tokens", str(len(case["generated_ids"])), "--temperature", "0", "--ignore-eos", "--json",
                      "--threads", "1", "--kv-cache-dtype", "f16")
        assert out.returncode == 0, out.stderr
        assert json.loads(out.stdout)["token_ids"] == case["generated_ids"], case["prompt"]
