#!/usr/bin/env python3
"""benchmarks/serving/bench_serving.py — a serving benchmark client for any OpenAI-compatible server.

In the manner of vLLM's benchmark_serving: sends --num-prompts streaming requests, either with a fixed number in flight
(--concurrency) or arriving as a Poisson process (--request-rate), with random prompts of --input-len tokens (random
token ids from [--vocab-min, --vocab-size)) or words (from --word-list, or a small built-in list), asking for
--output-len tokens each (ignore_eos, so every request generates exactly that many where the server honours it).
Prints one JSON object: request and token throughput, time to first token, time per output token and inter-token
latency (mean, p50, p99), end-to-end latency. Only the standard library is used, so it runs anywhere.

  python3 benchmarks/serving/bench_serving.py --base-url http://127.0.0.1:8000/v1 --num-prompts 64 --concurrency 8
"""
import argparse
import concurrent.futures
import http.client
import json
import random
import statistics
import sys
import threading
import time
import urllib.parse

WORDS = ("the a little girl boy dog cat sun tree park ball happy sad big small red blue run play jump saw went "
         "said mom dad friend day time once upon there was named lily tom tim ben sue bird fish house car toy "
         "garden flower rain water sky star moon night good bad fast slow love help look find share").split()


def percentile(values, q):
    """The q-th percentile (0..100) with linear interpolation, as numpy's default."""
    if not values:
        return 0.0
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100.0
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def make_prompts(args, rng):
    if args.dataset == "random-tokens":
        if args.endpoint != "completions":
            sys.exit("bench_serving: --dataset random-tokens needs --endpoint completions (token-id prompts)")
        return [[rng.randrange(args.vocab_min, args.vocab_size) for _ in range(args.input_len)]
                for _ in range(args.num_prompts)]
    words = WORDS
    if args.word_list:
        with open(args.word_list, encoding="utf-8") as f:
            words = [w for w in f.read().split() if w]
    return [" ".join(rng.choice(words) for _ in range(args.input_len)) for _ in range(args.num_prompts)]


class Endpoint:
    """Where requests go: host, port, path prefix and headers, from --base-url."""

    def __init__(self, base_url, api_key):
        u = urllib.parse.urlsplit(base_url.rstrip("/"))
        if u.scheme not in ("http", "https"):
            sys.exit(f"bench_serving: --base-url must be http(s)://host:port/v1 (got {base_url})")
        self.https = u.scheme == "https"
        self.host = u.hostname
        self.port = u.port or (443 if self.https else 80)
        self.prefix = u.path
        self.headers = {"Content-Type": "application/json"}
        if api_key:
            self.headers["Authorization"] = f"Bearer {api_key}"

    def connect(self, timeout):
        cls = http.client.HTTPSConnection if self.https else http.client.HTTPConnection
        return cls(self.host, self.port, timeout=timeout)

    def get_json(self, path):
        conn = self.connect(30)
        conn.request("GET", self.prefix + path, headers=self.headers)
        r = conn.getresponse()
        body = r.read()
        conn.close()
        if r.status != 200:
            sys.exit(f"bench_serving: GET {path} answered {r.status}: {body[:200]!r}")
        return json.loads(body)


def run_one(endpoint, args, model, prompt):
    """Sends one streaming request; returns its timings (or an error)."""
    body = {"model": model, "max_tokens": args.output_len, "stream": True, "stream_options": {"include_usage": True},
            "temperature": args.temperature}
    if args.ignore_eos:
        body["ignore_eos"] = True
    if args.endpoint == "chat":
        body["messages"] = [{"role": "user", "content": prompt}]
        path = "/chat/completions"
    else:
        body["prompt"] = prompt
        path = "/completions"
    result = {"ok": False, "ttft": None, "itl": [], "latency": None, "output_tokens": 0, "prompt_tokens": 0,
              "error": None}
    start = time.perf_counter()
    try:
        conn = endpoint.connect(args.timeout)
        conn.request("POST", endpoint.prefix + path, body=json.dumps(body), headers=endpoint.headers)
        response = conn.getresponse()
        if response.status != 200:
            result["error"] = f"HTTP {response.status}: {response.read()[:200]!r}"
            conn.close()
            return result
        last = None
        chunks_with_text = 0
        finish_reason = None
        for raw in response:  # http.client undoes the chunked encoding; SSE lines arrive one by one
            line = raw.strip()
            if not line.startswith(b"data:"):
                continue
            data = line[5:].strip()
            if data == b"[DONE]":
                break
            event = json.loads(data)
            if event.get("usage"):
                result["output_tokens"] = event["usage"].get("completion_tokens", 0)
                result["prompt_tokens"] = event["usage"].get("prompt_tokens", 0)
            choices = event.get("choices") or []
            if not choices:
                continue
            c = choices[0]
            finish_reason = c.get("finish_reason") or finish_reason
            text = c.get("text") if args.endpoint == "completions" else (c.get("delta") or {}).get("content")
            if not text:
                continue
            now = time.perf_counter()
            if last is None:
                result["ttft"] = now - start
            else:
                result["itl"].append(now - last)
            last = now
            chunks_with_text += 1
        conn.close()
        result["latency"] = time.perf_counter() - start
        if not result["output_tokens"]:
            # A server without usage in streams (llama-cpp-python's): a "length" finish means exactly max_tokens;
            # otherwise count one token per chunk with text.
            result["output_tokens"] = args.output_len if finish_reason == "length" else chunks_with_text
        result["ok"] = result["ttft"] is not None
        if not result["ok"]:
            result["error"] = "no text streamed"
    except Exception as e:  # a benchmark reports failures, it does not stop at the first
        result["error"] = f"{type(e).__name__}: {e}"
    return result


def summarize(results, duration, args):
    ok = [r for r in results if r["ok"]]
    ms = 1000.0
    ttfts = [r["ttft"] * ms for r in ok]
    itls = [x * ms for r in ok for x in r["itl"]]
    tpots = [(r["latency"] - r["ttft"]) / (r["output_tokens"] - 1) * ms for r in ok if r["output_tokens"] > 1]
    e2el = [r["latency"] * ms for r in ok]
    out_tokens = sum(r["output_tokens"] for r in ok)
    in_tokens = sum(r["prompt_tokens"] for r in ok)
    errors = sorted({r["error"] for r in results if not r["ok"]})
    return {
        "endpoint": args.endpoint,
        "dataset": args.dataset,
        "num_prompts": len(results),
        "completed": len(ok),
        "failed": len(results) - len(ok),
        "errors": errors[:5],
        "concurrency": args.concurrency,
        "request_rate": args.request_rate,
        "input_len": args.input_len,
        "output_len": args.output_len,
        "duration_s": round(duration, 3),
        "total_input_tokens": in_tokens,
        "total_output_tokens": out_tokens,
        "request_throughput_per_s": round(len(ok) / duration, 3) if duration else 0.0,
        "output_token_throughput_per_s": round(out_tokens / duration, 2) if duration else 0.0,
        "total_token_throughput_per_s": round((in_tokens + out_tokens) / duration, 2) if duration else 0.0,
        "mean_ttft_ms": round(statistics.fmean(ttfts), 3) if ttfts else 0.0,
        "p50_ttft_ms": round(percentile(ttfts, 50), 3),
        "p99_ttft_ms": round(percentile(ttfts, 99), 3),
        "mean_tpot_ms": round(statistics.fmean(tpots), 3) if tpots else 0.0,
        "p50_tpot_ms": round(percentile(tpots, 50), 3),
        "p99_tpot_ms": round(percentile(tpots, 99), 3),
        "mean_itl_ms": round(statistics.fmean(itls), 3) if itls else 0.0,
        "p50_itl_ms": round(percentile(itls, 50), 3),
        "p99_itl_ms": round(percentile(itls, 99), 3),
        "mean_e2el_ms": round(statistics.fmean(e2el), 3) if e2el else 0.0,
        "p99_e2el_ms": round(percentile(e2el, 99), 3),
    }


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--base-url", default="http://127.0.0.1:8000/v1", help="the server's OpenAI base URL")
    p.add_argument("--api-key", default=None, help="Bearer token, if the server wants one")
    p.add_argument("--model", default=None, help="model id (default: the first of GET /models)")
    p.add_argument("--endpoint", choices=["completions", "chat"], default="completions")
    p.add_argument("--num-prompts", type=int, default=64)
    group = p.add_mutually_exclusive_group()
    group.add_argument("--concurrency", type=int, default=None, help="requests in flight at once (default 8)")
    group.add_argument("--request-rate", type=float, default=None,
                       help="requests per second arriving as a Poisson process; 'inf' sends all at once")
    p.add_argument("--input-len", type=int, default=32, help="prompt length in tokens (words for random-words)")
    p.add_argument("--output-len", type=int, default=128, help="max_tokens of every request")
    p.add_argument("--dataset", choices=["random-words", "random-tokens"], default="random-words")
    p.add_argument("--word-list", default=None, help="file of words for random-words (default: a built-in list)")
    p.add_argument("--vocab-size", type=int, default=512, help="random-tokens: ids are drawn below this")
    p.add_argument("--vocab-min", type=int, default=3, help="random-tokens: smallest id (skip BOS/EOS/UNK)")
    p.add_argument("--temperature", type=float, default=0.0)
    p.add_argument("--no-ignore-eos", dest="ignore_eos", action="store_false",
                   help="let requests stop at EOS (default: ignore_eos, so each generates --output-len tokens)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--timeout", type=float, default=600.0, help="per-request timeout in seconds")
    args = p.parse_args()
    if args.concurrency is None and args.request_rate is None:
        args.concurrency = 8
    for name in ("num_prompts", "input_len", "output_len"):
        if getattr(args, name) < 1:
            sys.exit(f"bench_serving: --{name.replace('_', '-')} must be at least 1")
    if args.concurrency is not None and args.concurrency < 1:
        sys.exit("bench_serving: --concurrency must be at least 1")

    endpoint = Endpoint(args.base_url, args.api_key)
    model = args.model or endpoint.get_json("/models")["data"][0]["id"]
    rng = random.Random(args.seed)
    prompts = make_prompts(args, rng)

    # Warm-up: one short request, so connection set-up and first-touch costs stay out of the numbers.
    warm = run_one(endpoint, argparse.Namespace(**{**vars(args), "output_len": 4}), model, prompts[0])
    if not warm["ok"]:
        sys.exit(f"bench_serving: the warm-up request failed: {warm['error']}")

    results = []
    lock = threading.Lock()

    def record(future):
        with lock:
            results.append(future.result())

    start = time.perf_counter()
    if args.concurrency is not None:
        with concurrent.futures.ThreadPoolExecutor(max_workers=args.concurrency) as pool:
            for prompt in prompts:
                pool.submit(run_one, endpoint, args, model, prompt).add_done_callback(record)
    else:
        with concurrent.futures.ThreadPoolExecutor(max_workers=min(len(prompts), 256)) as pool:
            for prompt in prompts:
                pool.submit(run_one, endpoint, args, model, prompt).add_done_callback(record)
                if args.request_rate != float("inf"):
                    time.sleep(rng.expovariate(args.request_rate))
    duration = time.perf_counter() - start
    print(json.dumps(summarize(results, duration, args), indent=2))


if __name__ == "__main__":
    main()
