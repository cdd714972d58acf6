"""tests/e2e/test_openai_batching.py — batching changes nothing: 16 concurrent greedy requests over HTTP each return
exactly what `llm-atc generate` returns for that prompt alone, with prefix caching on and off, and with a KV cache so
small that sequences are preempted and recomputed.
"""
import concurrent.futures
import json
import subprocess

import openai
import pytest

from conftest import BUILD_DIR, STORIES260K

MAX_TOKENS = 40
# Different prompts, several sharing a prefix (so prefix caching has blocks to share: 16-token blocks).
SHARED_PREFIX = "Once upon a time, there was a little girl named Lily. She loved to play with her"
PROMPTS = [
    "Once upon a time", "Lily and Tom went to the park", "The cat", "One day, a little boy named Tim",
    "The sun was", "She wanted to play", "The dog ran", "Tom had a big red ball",
    SHARED_PREFIX + " toys.", SHARED_PREFIX + " friends.", SHARED_PREFIX + " dog.", SHARED_PREFIX + " mom.",
    "A bird sat on a tree", "Mom said", "The little fish", "It was a rainy day",
]
# stories260k's KV cache takes 5 layers x 4 kv heads x 8 dims x (K, V) x 4 bytes = 1280 bytes per token.
BYTES_PER_TOKEN = 1280
BLOCK_TOKENS = 16


@pytest.fixture(scope="module")
def expected():
    """What `llm-atc generate` gives for each prompt alone (greedy)."""
    results = {}
    for prompt in PROMPTS:
        proc = subprocess.run([str(BUILD_DIR / "llm-atc"), "generate", "--model", str(STORIES260K), "--prompt", prompt,
                               "--temperature", "0", "--max-tokens", str(MAX_TOKENS), "--json", "--threads", "1"],
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
        results[prompt] = json.loads(proc.stdout)
    return results


def run_concurrently(server):
    client = openai.OpenAI(base_url=server.base_url, api_key="unused", max_retries=0, timeout=300)
    model = client.models.list().data[0].id

    def one(prompt):
        r = client.completions.create(model=model, prompt=prompt, max_tokens=MAX_TOKENS, temperature=0)
        return r.choices[0].text, r.choices[0].finish_reason

    with concurrent.futures.ThreadPoolExecutor(max_workers=len(PROMPTS)) as pool:
        return dict(zip(PROMPTS, pool.map(one, PROMPTS)))


SMALL_CACHE_BLOCKS = 12  # one 128-token sequence needs 8; 16 sequences of ~50 tokens need about 64
CONFIGS = {
    "prefix-caching": [],
    "no-prefix-caching": ["--no-prefix-caching"],
    "preemption": ["--max-model-len", "128", "--kv-cache-memory", str(SMALL_CACHE_BLOCKS * BLOCK_TOKENS * BYTES_PER_TOKEN)],
}


@pytest.mark.parametrize("config", list(CONFIGS), ids=list(CONFIGS))
def test_concurrent_greedy_requests_match_generate(config, expected, serve, metric):
    server = serve("--threads", "1", "--max-num-seqs", "16", *CONFIGS[config])
    got = run_concurrently(server)
    for prompt in PROMPTS:
        text, finish = got[prompt]
        assert text == expected[prompt]["text"], prompt
        assert finish == expected[prompt]["finish_reason"], prompt
    if config == "preemption":
        assert metric(server, "llmatc_num_preemptions_total") > 0, "the small cache should have forced preemption"
    if config == "prefix-caching":
        assert metric(server, "llmatc_prefix_cache_hits_total") > 0, "the shared prefix should have been reused"
    if config == "no-prefix-caching":
        assert metric(server, "llmatc_prefix_cache_hits_total") == 0
    # Everything was freed.
    assert metric(server, "llmatc_num_requests_running") == 0
    assert metric(server, "llmatc_kv_cache_usage_perc") == 0
