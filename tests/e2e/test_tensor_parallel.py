"""tests/e2e/test_tensor_parallel.py — `--tensor-parallel-size N` end to end on the CPU (in-process ranks).

`llm-atc generate --tensor-parallel-size 2` and `4` on stories260k reproduce reference.json token for token, and the
first step's logits agree with the single-rank run; a size the heads do not divide is refused naming the field; a
local cluster launched with `--accelerator NAME:2` starts its server with `--tensor-parallel-size 2` and serves the
same greedy text. No GPU is used: ranks are CPU backends, the code path is the one GPU ranks take.
Environment: LLMATC_BUILD_DIR (default: <repo>/build), LLMATC_SHARED (default: <repo>/../shared).
"""
import json
import os
import pathlib
import subprocess

import pytest

from launcher_fixtures import STORIES260K, Launcher, free_port, greedy_completion

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
BUILD_DIR = pathlib.Path(os.environ.get("LLMATC_BUILD_DIR", REPO_ROOT / "build"))
SHARED = pathlib.Path(os.environ.get("LLMATC_SHARED", REPO_ROOT.parent / "shared"))
MODEL_DIR = SHARED / "models" / "stories260k"
REFERENCE = json.loads((MODEL_DIR / "reference.json").read_text())
# Sums over ranks round differently from one long dot product; F32 logits still agree far below this.
LOGIT_TOLERANCE = 1e-4


def generate(*args, check=True):
    launcher = BUILD_DIR / "llm-atc"
    assert launcher.is_file(), f"{launcher} not built (set LLMATC_BUILD_DIR)"
    proc = subprocess.run([str(launcher), "generate", "--model", str(MODEL_DIR), "--device", "cpu", *args],
                          capture_output=True, text=True, timeout=180)
    if check:
        assert proc.returncode == 0, f"llm-atc generate failed ({proc.returncode}):\n{proc.stderr}"
    return proc


@pytest.mark.parametrize("ranks", [2, 4])
@pytest.mark.parametrize("case", REFERENCE["cases"], ids=[c["prompt"] for c in REFERENCE["cases"]])
def test_tensor_parallel_generation_reproduces_the_reference(case, ranks, tmp_path):
    n_new = REFERENCE["n_new_tokens"]
    single_logits, split_logits = tmp_path / "single.json", tmp_path / "split.json"
    proc = generate("--prompt", case["prompt"], "--temperature", "0", "--max-tokens", str(n_new), "--json",
                    "--tensor-parallel-size", str(ranks), "--threads", str(ranks), "--dump-logits", str(split_logits))
    assert f"tensor parallelism: {ranks} ranks on cpu" in proc.stderr
    result = json.loads(proc.stdout)
    assert result["prompt_token_ids"] == case["prompt_ids"]
    assert result["token_ids"] == case["generated_ids"]
    assert result["text"] == case["generated_text"]

    generate("--prompt", case["prompt"], "--temperature", "0", "--max-tokens", "1", "--json", "--threads", "1",
             "--dump-logits", str(single_logits))
    single = json.loads(single_logits.read_text())["logits"]
    split = json.loads(split_logits.read_text())["logits"]
    assert len(single) == len(split) == len(case["prompt_ids"])
    worst = max(abs(a - b) for row_a, row_b in zip(single, split) for a, b in zip(row_a, row_b))
    assert worst < LOGIT_TOLERANCE, worst


def test_a_size_the_heads_do_not_divide_is_refused():
    proc = generate("--prompt", "Once", "--max-tokens", "1", "--tensor-parallel-size", "3", check=False)
    assert proc.returncode != 0
    assert "num_attention_heads (8) is not divisible by the tensor-parallel size 3" in proc.stderr


@pytest.mark.parametrize("value", ["0", "-2", "x"])
def test_a_bad_tensor_parallel_size_is_a_flag_error(value):
    proc = generate("--prompt", "Once", "--tensor-parallel-size", value, check=False)
    assert proc.returncode != 0
    assert "tensor-parallel-size" in proc.stderr


def test_the_accelerator_count_sets_the_servers_tensor_parallel_size(tmp_path):
    launcher = Launcher(tmp_path)
    try:
        port = free_port()
        r = launcher.run("serve", "-c", "tp", "--cloud", "local", "--name", STORIES260K, "--port", port,
                         "--accelerator", "CPU:2", "--device", "cpu")
        assert r.returncode == 0, r.stderr
        server_pid = int((launcher.state / "clusters" / "tp" / "server.pid").read_text())
        argv = open(f"/proc/{server_pid}/cmdline", "rb").read().split(b"\0")
        assert argv[argv.index(b"--tensor-parallel-size") + 1] == b"2"
        text = greedy_completion(f"http://127.0.0.1:{port}/v1", str(STORIES260K), max_tokens=24)
        case = next(c for c in REFERENCE["cases"] if c["prompt"] == "Once upon a time")
        assert case["generated_text"].startswith(text)
        log = (launcher.state / "clusters" / "tp" / "server.log").read_text()
        assert "tensor parallelism: 2 ranks on cpu" in log
    finally:
        launcher.teardown()
