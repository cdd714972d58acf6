"""tests/e2e/test_openai_cancel.py — clients that disconnect mid-stream get their requests aborted and their KV blocks
freed (visible in /metrics), and the server keeps serving.
"""
import json
import socket
import time

import openai

N_CLIENTS = 8


def open_stream(port, max_tokens):
    """Sends a streaming completion on a raw socket and returns it once the first SSE event arrived."""
    body = json.dumps({"prompt": "Once upon a time", "max_tokens": max_tokens, "stream": True, "ignore_eos": True,
                       "temperature": 0.8})
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    s.sendall((f"POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
               f"Content-Length: {len(body)}\r\n\r\n{body}").encode())
    received = b""
    while b"data: " not in received:
        chunk = s.recv(4096)
        assert chunk, "the server closed the stream early"
        received += chunk
    return s


def wait_for(predicate, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_disconnect_mid_stream_frees_kv_blocks(serve, metric):
    server = serve("--threads", "1", "--max-num-seqs", "16")
    streams = [open_stream(server.port, 500) for _ in range(N_CLIENTS)]
    assert metric(server, "llmatc_kv_cache_usage_perc") > 0
    for s in streams:
        s.close()
    assert wait_for(lambda: metric(server, "llmatc_num_requests_running") == 0
                    and metric(server, "llmatc_kv_cache_usage_perc") == 0), "blocks were not freed"
    aborted = metric(server, "llmatc_request_success_total", finished_reason="abort")
    finished = metric(server, "llmatc_request_success_total", finished_reason="length")
    assert aborted > 0, "no request was cancelled"
    assert aborted + finished == N_CLIENTS
    # Generation stopped early: far fewer tokens than N_CLIENTS full requests.
    assert metric(server, "llmatc_generation_tokens_total") < N_CLIENTS * 500
    assert wait_for(lambda: metric(server, "llmatc_http_requests_total", status="499") == aborted)
    assert "disconnected" in server.log()

    client = openai.OpenAI(base_url=server.base_url, api_key="unused", max_retries=0)
    r = client.completions.create(model=client.models.list().data[0].id, prompt="The cat", max_tokens=8)
    assert r.usage.completion_tokens == 8
