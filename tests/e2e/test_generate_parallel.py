"""tests/e2e/test_generate_parallel.py — `llm-atc generate --parallel N` (the batched-decode benchmark's driver):
N prompts decoded as one batch give each prompt the very continuation it gets alone, timings count the steps where
every sequence decodes, and bad prompt lists are refused with a message naming the flag.
"""
import json
import subprocess

from conftest import BUILD_DIR, STORIES260K

PROMPTS = [[1, 300, 400], [1, 301, 402, 17], [1, 55, 66], [1, 7, 8, 9, 10]]
MAX_TOKENS = 24


def run_generate(*args):
    return subprocess.run([str(BUILD_DIR / "llm-atc"), "generate", "--model", str(STORIES260K), "--threads", "1",
                           "--temperature", "0", "--json", *map(str, args)], capture_output=True, text=True,
                          timeout=120)


def ids_arg(prompts):
    return ";".join(",".join(map(str, p)) for p in prompts)


def test_each_sequence_of_a_batch_matches_its_greedy_run_alone():
    proc = run_generate("--prompt-ids", ids_arg(PROMPTS), "--max-tokens", MAX_TOKENS, "--ignore-eos", "--timings")
    assert proc.returncode == 0, proc.stderr
    batch = json.loads(proc.stdout)
    assert batch["parallel"] == len(PROMPTS)
    for prompt, seq in zip(PROMPTS, batch["sequences"]):
        alone = run_generate("--prompt-ids", ",".join(map(str, prompt)), "--max-tokens", MAX_TOKENS, "--ignore-eos")
        assert alone.returncode == 0, alone.stderr
        alone = json.loads(alone.stdout)
        assert seq["prompt_token_ids"] == prompt
        assert seq["token_ids"] == alone["token_ids"]
        assert seq["text"] == alone["text"]
        assert seq["finish_reason"] == "length"

    t = batch["timings"]
    assert t["sequences"] == len(PROMPTS)
    assert t["prompt_tokens"] == sum(map(len, PROMPTS))
    assert t["generated_tokens"] == len(PROMPTS) * MAX_TOKENS
    # Every sequence decodes MAX_TOKENS - 1 steps after its first token; the batch starts together, or with the
    # first request one step ahead (the engine may take it before the others are submitted), which then finishes
    # a step before the others.
    assert MAX_TOKENS - 2 <= t["generation_steps"] <= MAX_TOKENS - 1
    assert t["generation_seconds"] > 0
    expected_rate = t["generation_steps"] * len(PROMPTS) / t["generation_seconds"]
    assert abs(t["generation_tokens_per_s"] - expected_rate) <= 1e-6 * expected_rate
    assert t["kv_cache_bytes"] > 0


def test_one_prompt_is_decoded_n_times():
    proc = run_generate("--prompt", "Once upon a time", "--parallel", 3, "--max-tokens", 12)
    assert proc.returncode == 0, proc.stderr
    batch = json.loads(proc.stdout)
    assert batch["parallel"] == 3
    texts = {s["text"] for s in batch["sequences"]}
    assert len(texts) == 1 and texts.pop()  # greedy: the same non-empty continuation three times


def test_a_prompt_count_that_does_not_match_parallel_is_refused():
    proc = run_generate("--prompt-ids", ids_arg(PROMPTS[:2]), "--parallel", 3, "--max-tokens", 4)
    assert proc.returncode != 0
    assert "--parallel 3 needs 1 or 3 prompts" in proc.stderr


def test_an_empty_prompt_in_the_list_is_refused():
    proc = run_generate("--prompt-ids", "1,5;;1,6", "--max-tokens", 4)
    assert proc.returncode != 0
    assert "prompt 1" in proc.stderr


def test_a_token_outside_the_vocabulary_is_refused():
    proc = run_generate("--prompt-ids", "1,5;1,999999", "--max-tokens", 4)
    assert proc.returncode != 0
    assert "999999" in proc.stderr


def test_parallel_zero_is_refused():
    proc = run_generate("--prompt", "Once upon a time", "--parallel", 0, "--max-tokens", 4)
    assert proc.returncode == 2
    assert "--parallel must be in [1, 1024]" in proc.stderr
