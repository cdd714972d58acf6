"""tests/e2e/test_openai_api.py — the official `openai` SDK against `llm-atc serve` with stories260k.

Greedy outputs are checked against ../shared/models/stories260k/reference.json (what `llm-atc generate` must give),
so the server is compared with the reference implementation, not with itself.
"""
import base64
import json
import math
import struct
import subprocess
import urllib.request

import openai
import pytest

from conftest import STORIES260K

REFERENCE = json.loads((STORIES260K / "reference.json").read_text())
CASE = REFERENCE["cases"][0]
N_NEW = REFERENCE["n_new_tokens"]


@pytest.fixture(scope="module")
def client(stories_server):
    return openai.OpenAI(base_url=stories_server.base_url, api_key="unused", max_retries=0, timeout=60)


@pytest.fixture(scope="module")
def model_id(client):
    return client.models.list().data[0].id


def test_models_list(client, stories_server):
    models = client.models.list().data
    assert len(models) == 1
    m = models[0]
    assert m.id == str(STORIES260K)
    assert m.object == "model"
    assert m.owned_by == "llm-atc"
    assert m.model_extra["max_model_len"] == 512
    assert client.models.retrieve(m.id).id == m.id


def test_curl_models_as_the_readme_says(stories_server):
    out = subprocess.run(["curl", "-sS", f"http://127.0.0.1:{stories_server.port}/v1/models"],
                         capture_output=True, text=True, timeout=30, check=True).stdout
    assert json.loads(out)["data"][0]["max_model_len"] == 512


def test_greedy_completion_equals_reference(client, model_id):
    r = client.completions.create(model=model_id, prompt=CASE["prompt"], max_tokens=N_NEW, temperature=0)
    assert r.object == "text_completion"
    assert r.choices[0].text == CASE["generated_text"]
    assert r.choices[0].finish_reason == "length"
    assert r.usage.prompt_tokens == len(CASE["prompt_ids"])
    assert r.usage.completion_tokens == N_NEW
    assert r.usage.total_tokens == len(CASE["prompt_ids"]) + N_NEW


def test_token_id_prompts_equal_text_prompts(client, model_id):
    r = client.completions.create(model=model_id, prompt=CASE["prompt_ids"], max_tokens=N_NEW, temperature=0)
    assert r.choices[0].text == CASE["generated_text"]
    both = client.completions.create(model=model_id, prompt=[c["prompt_ids"] for c in REFERENCE["cases"][:2]],
                                     max_tokens=N_NEW, temperature=0)
    assert [c.text for c in both.choices] == [c["generated_text"] for c in REFERENCE["cases"][:2]]
    assert [c.index for c in both.choices] == [0, 1]


def test_streamed_completion_concatenates_to_the_reference(client, model_id):
    chunks = list(client.completions.create(model=model_id, prompt=CASE["prompt"], max_tokens=N_NEW, temperature=0,
                                            stream=True, stream_options={"include_usage": True}))
    text = "".join(c.choices[0].text for c in chunks if c.choices)
    assert text == CASE["generated_text"]
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finishes == ["length"]
    assert len(chunks) > 3  # really streamed, not one blob
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens == N_NEW


def test_n2_and_stop(client, model_id):
    r = client.completions.create(model=model_id, prompt=CASE["prompt"], max_tokens=20, n=2, temperature=1.0, seed=3)
    assert [c.index for c in r.choices] == [0, 1]
    assert all(c.finish_reason in ("length", "stop") for c in r.choices)
    assert 0 < r.usage.completion_tokens <= 40
    assert r.choices[0].text != r.choices[1].text  # the two candidates sample independently
    # A word of the greedy text as stop string: the text ends right before it, finish_reason "stop".
    stop_word = CASE["generated_text"].split()[3]
    cut = CASE["generated_text"].index(stop_word)
    s = client.completions.create(model=model_id, prompt=CASE["prompt"], max_tokens=N_NEW, temperature=0,
                                  stop=[stop_word])
    assert s.choices[0].text == CASE["generated_text"][:cut]
    assert s.choices[0].finish_reason == "stop"


def test_logprobs_and_echo(client, model_id):
    r = client.completions.create(model=model_id, prompt=CASE["prompt"], max_tokens=8, temperature=0, logprobs=3)
    lp = r.choices[0].logprobs
    assert len(lp.tokens) == len(lp.token_logprobs) == len(lp.top_logprobs) == len(lp.text_offset) == 8
    assert "".join(lp.tokens) == r.choices[0].text
    for chosen, logprob, top in zip(lp.tokens, lp.token_logprobs, lp.top_logprobs):
        assert logprob <= 0.0
        # Greedy: the chosen token is the most likely one.
        assert math.isclose(logprob, max(top.values()), abs_tol=1e-5)
        assert chosen in top
    assert lp.text_offset == sorted(lp.text_offset)

    e = client.completions.create(model=model_id, prompt=CASE["prompt"], max_tokens=4, temperature=0, echo=True,
                                  logprobs=1)
    assert e.choices[0].text.startswith(CASE["prompt"])
    elp = e.choices[0].logprobs
    assert len(elp.tokens) == len(CASE["prompt_ids"]) + 4
    assert elp.token_logprobs[0] is None
    assert all(x is not None and x <= 0 for x in elp.token_logprobs[1:])


def test_chat_completion(client, model_id):
    messages = [{"role": "system", "content": "You tell stories."},
                {"role": "user", "content": [{"type": "text", "text": "Tell me about Lily."}]}]
    r = client.chat.completions.create(model=model_id, messages=messages, max_tokens=5, temperature=0)
    assert r.object == "chat.completion"
    assert r.choices[0].message.role == "assistant"
    assert r.choices[0].finish_reason == "length"
    assert r.usage.completion_tokens == 5

    stream = list(client.chat.completions.create(model=model_id, messages=messages, max_tokens=5, temperature=0,
                                                 stream=True, stream_options={"include_usage": True}))
    assert stream[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    assert text == r.choices[0].message.content
    assert [c.choices[0].finish_reason for c in stream if c.choices and c.choices[0].finish_reason] == ["length"]
    assert stream[-1].choices == [] and stream[-1].usage.completion_tokens == 5
    assert stream[-1].usage.prompt_tokens == r.usage.prompt_tokens

    lp = client.chat.completions.create(model=model_id, messages=messages, max_tokens=3, temperature=0, logprobs=True,
                                        top_logprobs=2)
    content = lp.choices[0].logprobs.content
    assert len(content) == 3
    assert all(len(t.top_logprobs) == 2 and t.logprob <= 0 for t in content)
    assert "".join(t.token for t in content) == lp.choices[0].message.content


def test_chat_seed_reproducibility(client, model_id):
    messages = [{"role": "user", "content": "Once upon a time"}]
    outs = [client.chat.completions.create(model=model_id, messages=messages, max_tokens=24, temperature=1.0,
                                           seed=1234).choices[0].message.content for _ in range(2)]
    assert outs[0] == outs[1]
    others = {client.chat.completions.create(model=model_id, messages=messages, max_tokens=24, temperature=1.0,
                                             seed=s).choices[0].message.content for s in range(5)}
    assert len(others) > 1  # the seed matters


def test_embeddings_float_and_base64(client, model_id):
    f = client.embeddings.create(model=model_id, input=["Lily went to the park.", "The cat sat."],
                                 encoding_format="float")
    assert [d.index for d in f.data] == [0, 1]
    vec = f.data[0].embedding
    assert len(vec) == 64
    assert math.isclose(math.sqrt(sum(x * x for x in vec)), 1.0, rel_tol=1e-4)
    assert f.data[0].embedding != f.data[1].embedding
    b = client.embeddings.create(model=model_id, input="Lily went to the park.", encoding_format="base64")
    raw = b.data[0].embedding
    decoded = list(struct.unpack("<64f", base64.b64decode(raw))) if isinstance(raw, str) else raw
    assert decoded == pytest.approx(vec, abs=1e-6)
    ids = client.embeddings.create(model=model_id, input=[CASE["prompt_ids"]], encoding_format="float")
    assert len(ids.data[0].embedding) == 64


def _post(server, path, body):
    req = urllib.request.Request(server.root_url + path, data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as response:
        return json.loads(response.read())


def test_tokenize_detokenize_version_metrics(stories_server):
    t = _post(stories_server, "/tokenize", {"prompt": CASE["prompt"]})
    assert t["tokens"] == CASE["prompt_ids"] and t["count"] == len(CASE["prompt_ids"]) and t["max_model_len"] == 512
    d = _post(stories_server, "/detokenize", {"tokens": CASE["prompt_ids"]})
    assert d["prompt"] == CASE["prompt"]
    with urllib.request.urlopen(stories_server.root_url + "/version", timeout=10) as r:
        assert json.loads(r.read())["version"]
    with urllib.request.urlopen(stories_server.root_url + "/metrics", timeout=10) as r:
        text = r.read().decode()
    for name in ("llmatc_num_requests_running", "llmatc_kv_cache_usage_perc", "llmatc_time_to_first_token_seconds",
                 "llmatc_request_success_total", "llmatc_http_requests_total"):
        assert name in text
