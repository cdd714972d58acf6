"""tests/e2e/test_openai_errors.py — every bad input gets OpenAI's error shape with the right status, type, param and
message over real HTTP; no input crashes the server, which still answers afterwards.
"""
import http.client
import json
import socket

import openai
import pytest

LONG_PROMPT = "Lily " * 600  # far more than stories260k's 512-token context

# (what, method, path, body (str or dict), status, type, param (None = JSON null), part of the message)
CASES = [
    ("malformed JSON", "POST", "/v1/completions", '{"prompt": ', 400, "invalid_request_error", None, "malformed JSON"),
    ("not an object", "POST", "/v1/completions", "[1]", 400, "invalid_request_error", None, "JSON object"),
    ("empty body", "POST", "/v1/chat/completions", "", 400, "invalid_request_error", None, "malformed JSON"),
    ("missing prompt", "POST", "/v1/completions", {}, 400, "invalid_request_error", "prompt", "prompt is required"),
    ("prompt of wrong type", "POST", "/v1/completions", {"prompt": {"a": 1}}, 400, "invalid_request_error", "prompt",
     "prompt must be"),
    ("token id outside the vocabulary", "POST", "/v1/completions", {"prompt": [1, 512]}, 400,
     "invalid_request_error", "prompt", "512"),
    ("temperature out of range", "POST", "/v1/completions", {"prompt": "a", "temperature": -1}, 400,
     "invalid_request_error", "temperature", "temperature"),
    ("max_tokens not an integer", "POST", "/v1/completions", {"prompt": "a", "max_tokens": "many"}, 400,
     "invalid_request_error", "max_tokens", "max_tokens"),
    ("n too large", "POST", "/v1/completions", {"prompt": "a", "n": 1000}, 400, "invalid_request_error", "n", "n must"),
    ("logit_bias key not a token", "POST", "/v1/completions", {"prompt": "a", "logit_bias": {"99999": 1}}, 400,
     "invalid_request_error", "logit_bias", "99999"),
    ("prompt longer than the context", "POST", "/v1/completions", {"prompt": LONG_PROMPT}, 400,
     "invalid_request_error", "prompt", "512"),
    ("unknown model", "POST", "/v1/completions", {"model": "gpt-4o", "prompt": "a"}, 404, "invalid_request_error",
     "model", "gpt-4o"),
    ("chat without messages", "POST", "/v1/chat/completions", {}, 400, "invalid_request_error", "messages",
     "messages"),
    ("chat with a bad role", "POST", "/v1/chat/completions", {"messages": [{"role": "robot", "content": "x"}]}, 400,
     "invalid_request_error", "messages[0].role", "robot"),
    ("chat with tools", "POST", "/v1/chat/completions",
     {"messages": [{"role": "user", "content": "x"}], "tools": [{"type": "function", "function": {"name": "f"}}]},
     400, "invalid_request_error", "tools", "function calling is not supported"),
    ("chat with functions", "POST", "/v1/chat/completions",
     {"messages": [{"role": "user", "content": "x"}], "functions": [{"name": "f"}]}, 400, "invalid_request_error",
     "functions", "function calling is not supported"),
    ("chat with an image", "POST", "/v1/chat/completions",
     {"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "http://x"}}]}]}, 400,
     "invalid_request_error", "messages[0].content", "text"),
    ("chat prompt longer than the context", "POST", "/v1/chat/completions",
     {"messages": [{"role": "user", "content": LONG_PROMPT}]}, 400, "invalid_request_error", "prompt", "512"),
    ("embeddings without input", "POST", "/v1/embeddings", {}, 400, "invalid_request_error", "input", "input"),
    ("embeddings with a bad encoding", "POST", "/v1/embeddings", {"input": "a", "encoding_format": "hex"}, 400,
     "invalid_request_error", "encoding_format", "encoding_format"),
    ("detokenize out of range", "POST", "/detokenize", {"tokens": [100000]}, 400, "invalid_request_error", "tokens",
     "100000"),
    ("unknown path", "GET", "/v1/engines", None, 404, "invalid_request_error", None, "/v1/engines"),
    ("wrong method", "GET", "/v1/chat/completions", None, 405, "invalid_request_error", None, "POST"),
    ("wrong method on models", "POST", "/v1/models", {}, 405, "invalid_request_error", None, "GET"),
]


def request(server, method, path, body=None, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    data = body if isinstance(body, (str, bytes)) or body is None else json.dumps(body)
    conn.request(method, path, body=data, headers={"Content-Type": "application/json", **(headers or {})})
    response = conn.getresponse()
    payload = response.read()
    conn.close()
    return response.status, payload


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_bad_input(case, stories_server):
    _, method, path, body, status, error_type, param, message_part = case
    got_status, payload = request(stories_server, method, path, body)
    assert got_status == status, payload
    error = json.loads(payload)["error"]
    assert error["type"] == error_type
    assert error["param"] == param
    assert message_part in error["message"]
    assert "code" in error


def test_prompt_too_long_names_both_numbers(stories_server):
    _, payload = request(stories_server, "POST", "/v1/completions", {"prompt": LONG_PROMPT})
    message = json.loads(payload)["error"]["message"]
    assert "512" in message and "601" in message  # the context and the prompt's length (BOS + 600 tokens)


def test_body_too_large_is_413(stories_server):
    body = json.dumps({"prompt": "x" * (9 << 20)})  # above the default 8 MiB limit
    status, payload = request(stories_server, "POST", "/v1/completions", body)
    assert status == 413
    assert json.loads(payload)["error"]["code"] == "request_too_large"


def test_garbage_on_the_socket_is_answered_400(stories_server):
    with socket.create_connection(("127.0.0.1", stories_server.port), timeout=10) as s:
        s.sendall(b"\x00\x01garbage garbage\r\n\r\n")
        assert s.recv(100).startswith(b"HTTP/1.1 400")


def test_sdk_sees_typed_errors(stories_server):
    client = openai.OpenAI(base_url=stories_server.base_url, api_key="unused", max_retries=0)
    with pytest.raises(openai.NotFoundError):
        client.completions.create(model="nope", prompt="a")
    with pytest.raises(openai.BadRequestError) as bad:
        client.chat.completions.create(model=client.models.list().data[0].id,
                                       messages=[{"role": "user", "content": "x"}],
                                       tools=[{"type": "function", "function": {"name": "f", "parameters": {}}}])
    assert "function calling is not supported" in str(bad.value)


def test_server_still_answers_after_all_of_that(stories_server):
    # Runs last in this module (pytest keeps file order).
    status, _ = request(stories_server, "GET", "/health")
    assert status == 200
    status, payload = request(stories_server, "POST", "/v1/completions", {"prompt": "The cat", "max_tokens": 4})
    assert status == 200 and json.loads(payload)["usage"]["completion_tokens"] == 4


def test_api_key(serve):
    server = serve("--threads", "1", "--api-key", "s3cret-key")
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "s3cret-key"}):
        status, payload = request(server, "GET", "/v1/models", headers=headers)
        assert status == 401
        assert json.loads(payload)["error"]["code"] == "invalid_api_key"
    assert request(server, "GET", "/v1/models", headers={"Authorization": "Bearer s3cret-key"})[0] == 200
    assert request(server, "GET", "/health")[0] == 200
    assert request(server, "GET", "/metrics")[0] == 200
    client = openai.OpenAI(base_url=server.base_url, api_key="s3cret-key", max_retries=0)
    assert client.models.list().data
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=server.base_url, api_key="other", max_retries=0).models.list()
    assert "s3cret-key" not in server.log()
