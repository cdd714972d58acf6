"""tests/e2e/test_batching.py — the serving engine seen from an OpenAI client: a request's output does not depend on
what else is in the batch (seeded sampling, chunked prefills mixed with decodes, a shared system prompt served from
the prefix cache), and every request finishes with its blocks given back.

The basic acceptance (16 greedy prompts vs `llm-atc generate`, prefix caching on/off, preemption) is
test_openai_batching.py; this file covers what the engine adds beyond it.
"""
import concurrent.futures
import json
import subprocess

import openai

from conftest import BUILD_DIR, STORIES260K

STORY = "Once upon a time, there was a little girl named Lily. She loved to play outside in the park. "
ENDINGS = ["One day, she saw", "She had a dog named", "Her mom said", "Tom came to", "The sun was", "It was a",
           "They went to the", "Lily was sad because"]


def client_for(server):
    client = openai.OpenAI(base_url=server.base_url, api_key="unused", max_retries=0, timeout=300)
    return client, client.models.list().data[0].id


def generate_alone(prompt, max_tokens):
    proc = subprocess.run([str(BUILD_DIR / "llm-atc"), "generate", "--model", str(STORIES260K), "--prompt", prompt,
                           "--temperature", "0", "--max-tokens", str(max_tokens), "--json", "--threads", "1"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_seeded_sampling_is_the_same_alone_and_in_a_busy_batch(serve, metric):
    server = serve("--threads", "1")
    client, model = client_for(server)

    def seeded():
        r = client.completions.create(model=model, prompt="Once upon a time", max_tokens=40, temperature=1.0,
                                      seed=1234)
        return r.choices[0].text

    def unseeded(prompt):
        return client.completions.create(model=model, prompt=prompt, max_tokens=60, temperature=1.0).choices[0].text

    alone = seeded()
    with concurrent.futures.ThreadPoolExecutor(max_workers=9) as pool:
        noise = [pool.submit(unseeded, STORY + e) for e in ENDINGS]
        busy = pool.submit(seeded)
        assert busy.result() == alone
        for f in noise:
            f.result()
    other = client.completions.create(model=model, prompt="Once upon a time", max_tokens=40, temperature=1.0, seed=99)
    assert other.choices[0].text != alone
    assert metric(server, "llmatc_kv_cache_usage_perc") == 0


def test_chunked_prefill_mixed_with_decodes_changes_nothing(serve, metric):
    # A 7-token budget splits every prompt into chunks that share steps with other sequences' decodes.
    server = serve("--threads", "1", "--max-num-batched-tokens", "7", "--max-num-seqs", "4")
    client, model = client_for(server)
    prompts = [STORY + e for e in ENDINGS]
    expected = {p: generate_alone(p, 24) for p in prompts}

    def one(prompt):
        r = client.completions.create(model=model, prompt=prompt, max_tokens=24, temperature=0)
        return r.choices[0].text, r.choices[0].finish_reason

    with concurrent.futures.ThreadPoolExecutor(max_workers=len(prompts)) as pool:
        got = dict(zip(prompts, pool.map(one, prompts)))
    for p in prompts:
        assert got[p] == (expected[p]["text"], expected[p]["finish_reason"]), p
    assert metric(server, "llmatc_num_requests_running") == 0
    assert metric(server, "llmatc_kv_cache_usage_perc") == 0


def test_a_shared_prompt_prefix_is_computed_once_and_reported_as_cached(serve, metric):
    server = serve("--threads", "1")
    client, model = client_for(server)
    first = client.completions.create(model=model, prompt=STORY + ENDINGS[0], max_tokens=8, temperature=0)
    hits_before = metric(server, "llmatc_prefix_cache_hits_total")
    second = client.completions.create(model=model, prompt=STORY + ENDINGS[1], max_tokens=8, temperature=0)
    hits = metric(server, "llmatc_prefix_cache_hits_total") - hits_before
    # The story is more than one 16-token block: at least one full block came from the cache.
    assert hits >= 16
    assert first.usage.prompt_tokens > 16 and second.usage.prompt_tokens > 16
    # And the cached answer is the uncached one.
    assert second.choices[0].text == generate_alone(STORY + ENDINGS[1], 8)["text"]
