"""benchmarks/llamacpp/bench_all.py — issue 6's benchmark in one run: llm-atc next to llama.cpp (llama-cpp-python) on
the very same GGUF files, printing ONE JSON object: this machine's memory read bandwidth, pp128 / pp512 / tg128 at
batch 1, batched decode at 4 / 8 / 16 sequences, each decode figure as a fraction of its bandwidth bound, resident
memory next to weight and KV-cache bytes, the serving comparison (llm-atc serve vs llama.cpp's C++ server with as
many parallel slots when --llama-server names it — build_llama_server.py builds it — else llama-cpp-python's one-slot
OpenAI server; driven by benchmarks/serving/bench_serving.py), and every ratio llm-atc / llama.cpp.

Not a test (CI never runs it): timings on a shared machine are noise. Every figure is the median over --rounds
interleaved rounds (ours, llama.cpp, ours, llama.cpp ...). llama.cpp runs in a worker process of its own
(llamacpp_worker.py) so its memory is its own; llm-atc runs as `llm-atc generate` / `llm-atc serve` processes.
Resident memory is read by this driver from /proc/<pid>/status (VmHWM: the peak; VmRSS: now).

Usage: bench_all.py --model CHECKPOINT_DIR [--types f16,q8_0,q4_0] [--sections batch1,batched,memory,serving]
       [--rounds 5] [--threads 2] [--build build] [--cache DIR] ...   (see --help)
CHECKPOINT_DIR is a Hugging Face Llama checkpoint (scripts/make_random_llama.py); convert_to_gguf.py writes it once
per type into the cache, and both engines load that file.
"""
import argparse
import json
import os
import pathlib
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

HERE = pathlib.Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))
from bench_vs_llamacpp import bandwidth_gbps, weight_bytes_per_token  # noqa: E402

SECTIONS = ("batch1", "batched", "memory", "serving")
KV_ELEMENT_BYTES = {"f16": 2, "f32": 4}
POLL_S = 0.01


# ---------------------------------------------------------------------------------------------------- files, memory

# llama.cpp's K-quant mixes: made from the F16 file by llama.cpp's own quantizer (llama_model_quantize), as users
# make them (the gguf package has no K-quant quantizer). Values: llama_cpp's LLAMA_FTYPE_* names.
LLAMACPP_MIXES = {"q4_k_m": "LLAMA_FTYPE_MOSTLY_Q4_K_M", "q4_k_s": "LLAMA_FTYPE_MOSTLY_Q4_K_S",
                  "q5_k_s": "LLAMA_FTYPE_MOSTLY_Q5_K_S", "q6_k": "LLAMA_FTYPE_MOSTLY_Q6_K"}

QUANTIZE_SCRIPT = """
import ctypes, sys
import llama_cpp
params = llama_cpp.llama_model_quantize_default_params()
params.ftype = getattr(llama_cpp, sys.argv[3])
params.nthread = 2
sys.exit(llama_cpp.llama_model_quantize(sys.argv[1].encode(), sys.argv[2].encode(), ctypes.byref(params)))
"""


def convert(model_dir, cache, gguf_type):
    """The checkpoint as GGUF of one type in cache/<name>-<type>/ (model.gguf + tokenizer.model); written once."""
    out_dir = cache / f"{model_dir.name}-{gguf_type}"
    target = out_dir / "model.gguf"
    if not target.is_file():
        source = convert(model_dir, cache, "f16") if gguf_type in LLAMACPP_MIXES else None
        out_dir.mkdir(parents=True, exist_ok=True)
        shutil.copy(model_dir / "tokenizer.model", out_dir / "tokenizer.model")
        partial = out_dir / "model.gguf.partial"  # renamed when complete, so an interrupted run is not reused
        if source:
            subprocess.run([sys.executable, "-c", QUANTIZE_SCRIPT, str(source / "model.gguf"), str(partial),
                            LLAMACPP_MIXES[gguf_type]], check=True)
        else:
            subprocess.run([sys.executable, str(HERE / "convert_to_gguf.py"), str(model_dir), str(partial),
                            "--type", gguf_type], check=True)
        partial.rename(target)
    return out_dir


def gguf_tensor_bytes(gguf_path):
    import gguf
    return sum(int(t.n_bytes) for t in gguf.GGUFReader(str(gguf_path)).tensors)


def proc_memory(pid):
    """{"VmRSS": bytes, "VmHWM": bytes} of a live process, or {} once it is gone."""
    out = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                key = line.split(":", 1)[0]
                if key in ("VmRSS", "VmHWM"):
                    out[key] = int(line.split()[1]) * 1024
    except (FileNotFoundError, ProcessLookupError):
        pass
    return out


def run_watched(cmd):
    """Runs cmd to completion; returns (stdout, peak VmHWM seen). Output goes to files so no pipe can fill up."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err)
        peak = 0
        while proc.poll() is None:
            peak = max(peak, proc_memory(proc.pid).get("VmHWM", 0))
            time.sleep(POLL_S)
        out.seek(0)
        err.seek(0)
        if proc.returncode != 0:
            raise SystemExit(f"bench_all: {' '.join(map(str, cmd[:4]))} ... failed ({proc.returncode}):\n"
                             f"{err.read().decode(errors='replace')[-3000:]}")
        return out.read().decode(), peak


def kv_bytes_per_token(config, element_bytes):
    head_dim = config.get("head_dim", config["hidden_size"] // config["num_attention_heads"])
    n_kv = config.get("num_key_value_heads", config["num_attention_heads"])
    return 2 * config["num_hidden_layers"] * n_kv * head_dim * element_bytes


def median(values):
    return statistics.median(values) if values else None


def ratio(a, b):
    return round(a / b, 3) if a and b else None


# ---------------------------------------------------------------------------------------------------- the engines

class Ours:
    """llm-atc: one `llm-atc generate` process per measurement (model loading excluded from its timings)."""

    def __init__(self, launcher, model_dir, threads, kv_cache_dtype):
        self.launcher, self.model_dir, self.threads = launcher, model_dir, threads
        self.kv_cache_dtype = kv_cache_dtype
        self.peak_rss = []        # VmHWM of each batch-1 tg run
        self.kv_cache_bytes = None

    def _generate(self, prompt_ids_arg, max_tokens):
        cmd = [str(self.launcher), "generate", "--model", str(self.model_dir), "--prompt-ids", prompt_ids_arg,
               "--max-tokens", str(max_tokens), "--temperature", "0", "--ignore-eos", "--json", "--timings",
               "--threads", str(self.threads), "--kv-cache-dtype", self.kv_cache_dtype]
        stdout, peak = run_watched(cmd)
        return json.loads(stdout)["timings"], peak

    def pp(self, ids):
        return self._generate(",".join(map(str, ids)), 1)[0]["prompt_tokens_per_s"]

    def tg(self, ids, n):
        timings, peak = self._generate(",".join(map(str, ids)), n + 1)  # n decode steps after the first token
        self.peak_rss.append(peak)
        self.kv_cache_bytes = timings.get("kv_cache_bytes")
        return timings["generation_tokens_per_s"]

    def batched(self, prompts, n):
        timings, _ = self._generate(";".join(",".join(map(str, p)) for p in prompts), n + 1)
        return {"tokens_per_s": timings["generation_tokens_per_s"], "steps": timings["generation_steps"],
                "prompt_tokens_per_s": timings["prompt_tokens_per_s"]}


class LlamaCpp:
    """llama.cpp through llama-cpp-python, in llamacpp_worker.py's process."""

    def __init__(self, python, gguf_path, threads, n_ctx):
        self.n_ctx = n_ctx
        self.proc = subprocess.Popen([python, str(HERE / "llamacpp_worker.py"), str(gguf_path), "--threads",
                                      str(threads), "--n-ctx", str(n_ctx)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)
        ready = self._answer(f"loading {gguf_path}")
        self.interpreter_rss = ready["interpreter_rss_bytes"]
        self.system_info = ready["system_info"]

    def _answer(self, what):
        line = self.proc.stdout.readline()
        if not line:
            raise SystemExit(f"bench_all: the llama.cpp worker exited while {what} ({self.proc.wait()})")
        answer = json.loads(line)
        if not answer.get("ok"):
            raise SystemExit(f"bench_all: llama.cpp failed while {what}: {answer.get('error')}")
        return answer

    def _ask(self, **request):
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        return self._answer(request["op"])

    def pp(self, ids):
        return self._ask(op="pp", ids=ids)["tokens_per_s"]

    def tg(self, ids, n):
        return self._ask(op="tg", ids=ids, n=n)["tokens_per_s"]

    def batched(self, prompts, n):
        return self._ask(op="batched", prompts=prompts, n=n)

    def memory(self):
        return proc_memory(self.proc.pid)

    def close(self):
        if self.proc.poll() is None:
            self.proc.stdin.write(json.dumps({"op": "quit"}) + "\n")
            self.proc.stdin.flush()
            self.proc.wait(timeout=60)


# ---------------------------------------------------------------------------------------------------- serving

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerProcess:
    def __init__(self, name, cmd, port, log_dir, startup_s=600):
        self.name, self.port = name, port
        self.log_path = pathlib.Path(log_dir) / f"{name}-{port}.log"
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
        self.base_url = f"http://127.0.0.1:{port}/v1"
        deadline = time.monotonic() + startup_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"bench_all: the {name} server exited ({self.proc.returncode}):\n{self.log()}")
            try:
                with urllib.request.urlopen(self.base_url + "/models", timeout=2) as r:
                    if r.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, OSError):
                pass
            time.sleep(0.2)
        self.stop()
        raise SystemExit(f"bench_all: the {name} server did not answer within {startup_s}s:\n{self.log()}")

    def log(self):
        return self.log_path.read_text(errors="replace")[-3000:]

    def memory(self):
        return proc_memory(self.proc.pid)

    def metric(self, name):
        """A gauge from /metrics (llm-atc's Prometheus endpoint), or None."""
        try:
            with urllib.request.urlopen(self.base_url.rsplit("/v1", 1)[0] + "/metrics", timeout=5) as r:
                for line in r.read().decode().splitlines():
                    if line.startswith(name):
                        return float(line.rsplit(" ", 1)[1])
        except (urllib.error.URLError, OSError, ValueError):
            return None
        return None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def llamacpp_server_description(args, max_conc):
    """Which llama.cpp server the serving comparison ran against, and how many requests it serves at once."""
    if args.llama_server:
        return {"server": f"llama-server ({args.llama_server}): llama.cpp's C++ server, built by "
                          "build_llama_server.py from llama-cpp-python's vendored llama.cpp",
                "parallel_slots": max_conc, "continuous_batching": True}
    return {"server": "llama-cpp-python's OpenAI server (python -m llama_cpp.server)",
            **llamacpp_server_parallel_slots()}


def llamacpp_server_parallel_slots():
    """What llama-cpp-python's OpenAI server can do at once, read from the installed package rather than assumed."""
    from llama_cpp.server import settings
    fields = set(settings.ModelSettings.model_fields) | set(settings.ServerSettings.model_fields)
    parallel_fields = sorted(f for f in fields if "parallel" in f or f in ("n_slots", "slots"))
    return {"parallel_slots": 1 if not parallel_fields else None,
            "settings_about_parallelism": parallel_fields,
            "why": "llama-cpp-python's server runs every request on one Llama object behind a lock "
                   "(llama_cpp/server/app.py get_llama_proxy) and its settings have no parallel-slot option: "
                   "requests are served one at a time; --interrupt_requests False keeps a waiting request from "
                   "cutting the streaming one short"}


def run_bench_serving(base_url, args, concurrency, seed):
    cmd = [sys.executable, str(REPO_ROOT / "benchmarks" / "serving" / "bench_serving.py"), "--base-url", base_url,
           "--num-prompts", str(args.serving_requests), "--concurrency", str(concurrency), "--input-len",
           str(args.serving_input_words), "--output-len", str(args.serving_output_len), "--temperature", "0",
           "--seed", str(seed)]
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"bench_all: bench_serving.py against {base_url} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout)


def serving_section(args, model_dir, gguf_path, config, weight_bytes):
    max_conc = max(args.serving_concurrency)
    max_model_len = args.serving_max_model_len
    # Both servers hold the same number of KV tokens: ours max_conc sequences of max_model_len (whole blocks, so the
    # engine allocates exactly these bytes), llama.cpp one context of that many tokens (its KV cache is F16).
    kv_tokens = max_conc * max_model_len
    ours_kv_bytes = kv_tokens * kv_bytes_per_token(config, KV_ELEMENT_BYTES[args.kv_cache_dtype])
    llama_kv_bytes = kv_tokens * kv_bytes_per_token(config, 2)
    log_dir = tempfile.mkdtemp(prefix="bench-all-serve-")
    ours_port, llama_port = free_port(), free_port()
    ours = ServerProcess("llm-atc", [str(args.build / "llm-atc"), "serve", "--name", str(model_dir), "--port",
                                     str(ours_port), "--threads", str(args.threads), "--max-num-seqs", str(max_conc),
                                     "--kv-cache-dtype", args.kv_cache_dtype,
                                     "--max-model-len", str(max_model_len), "--kv-cache-memory", str(ours_kv_bytes)],
                         ours_port, log_dir)
    llama = None
    try:
        if args.llama_server:
            # llama.cpp's C++ server: max_conc parallel slots sharing kv_tokens of context (each slot gets
            # max_model_len, as ours), continuous batching (its default).
            llama_cmd = [str(args.llama_server), "--model", str(gguf_path), "--threads", str(args.threads),
                         "--threads-batch", str(args.threads), "--ctx-size", str(kv_tokens),
                         "--parallel", str(max_conc), "--cont-batching", "--host", "127.0.0.1",
                         "--port", str(llama_port),
                         # No cross-request prompt cache in RAM (ours has none either) and no web UI.
                         "--cache-ram", "0", "--no-webui"]
        else:
            llama_cmd = [args.python, "-m", "llama_cpp.server", "--model", str(gguf_path),
                         "--n_threads", str(args.threads), "--n_threads_batch", str(args.threads),
                         "--n_ctx", str(kv_tokens), "--interrupt_requests", "False",
                         "--host", "127.0.0.1", "--port", str(llama_port)]
        llama = ServerProcess("llama.cpp", llama_cmd, llama_port, log_dir)
        samples = {c: {"llm-atc": [], "llama.cpp": []} for c in args.serving_concurrency}
        for r in range(args.serving_rounds):
            for c in args.serving_concurrency:
                # The same prompts for both servers, new ones for every (round, concurrency): both servers keep
                # earlier prompts' KV (prefix cache, slot cache), and a repeated prompt would skip its prefill.
                seed = 1000 * r + c
                for name, server in (("llm-atc", ours), ("llama.cpp", llama)):
                    result = run_bench_serving(server.base_url, args, c, seed=seed)
                    samples[c][name].append(result)
                    print(json.dumps({"serving": name, "concurrency": c, "round": r,
                                      "output_tok_s": result["output_token_throughput_per_s"],
                                      "mean_ttft_ms": result["mean_ttft_ms"], "failed": result["failed"]}),
                          file=sys.stderr)
        memory = {"llm-atc": ours.memory(), "llama.cpp": llama.memory()}
        ours_blocks = ours.metric("llmatc_kv_cache_blocks_total")
    finally:
        ours.stop()
        if llama:
            llama.stop()

    expected_tokens = args.serving_requests * args.serving_output_len
    entry = {"requests": args.serving_requests, "input_words": args.serving_input_words,
             "output_len": args.serving_output_len, "rounds": args.serving_rounds,
             "llamacpp_server": llamacpp_server_description(args, max_conc), "llm-atc_max_num_seqs": max_conc}
    for c, per_engine in samples.items():
        row = {}
        for name, runs in per_engine.items():
            row[name] = {
                "output_tokens_per_s": round(median([x["output_token_throughput_per_s"] for x in runs]), 2),
                "mean_ttft_ms": round(median([x["mean_ttft_ms"] for x in runs]), 1),
                "mean_tpot_ms": round(median([x["mean_tpot_ms"] for x in runs]), 2),
                # From the usage the server reports (llama-cpp-python's streams carry none: null).
                "mean_prompt_tokens": round(median([x["total_input_tokens"] / max(x["completed"], 1)
                                                    for x in runs]), 1) or None,
                "failed_requests": sum(x["failed"] for x in runs),
                # Every request asks for output_len tokens (ignore_eos; llama.cpp's server ignores that field, and
                # a random model almost never picks EOS): fewer means a request stopped early.
                "all_output_tokens_generated": all(x["total_output_tokens"] == expected_tokens for x in runs),
            }
        row["ratio_ours_over_llamacpp"] = {
            "output_tokens_per_s": ratio(row["llm-atc"]["output_tokens_per_s"],
                                         row["llama.cpp"]["output_tokens_per_s"]),
            "mean_ttft_ms (lower is better)": ratio(row["llm-atc"]["mean_ttft_ms"], row["llama.cpp"]["mean_ttft_ms"]),
        }
        entry[f"concurrency_{c}"] = row
    entry["memory"] = {
        "llm-atc": memory_entry(memory["llm-atc"].get("VmHWM"), memory["llm-atc"].get("VmRSS"), weight_bytes,
                                ours_kv_bytes, extra={"kv_cache_blocks": ours_blocks}),
        "llama.cpp": memory_entry(memory["llama.cpp"].get("VmHWM"), memory["llama.cpp"].get("VmRSS"), weight_bytes,
                                  llama_kv_bytes,
                                  extra=None if args.llama_server else
                                  {"note": "includes the Python interpreter, FastAPI and uvicorn"}),
    }
    return entry


def memory_entry(peak, now, weight_bytes, kv_bytes, extra=None):
    entry = {"peak_rss_bytes": peak, "rss_bytes": now, "weight_bytes": weight_bytes, "kv_cache_bytes": kv_bytes,
             "peak_rss_over_weights_plus_kv": round(peak / (weight_bytes + kv_bytes), 3) if peak else None}
    entry.update(extra or {})
    return entry


# ---------------------------------------------------------------------------------------------------- one type

def bench_type(args, gguf_type, prompts, batched_prompts, config):
    model_dir = convert(args.model, args.cache, gguf_type)
    gguf_path = model_dir / "model.gguf"
    bytes_per_token = weight_bytes_per_token(gguf_path)
    weight_bytes = gguf_tensor_bytes(gguf_path)
    entry = {"gguf": str(gguf_path), "weight_bytes": weight_bytes, "weight_bytes_read_per_token": bytes_per_token}
    sections = args.sections
    tg_prompt = prompts[128][:8]
    bandwidth = []
    bench = args.build / "benchmarks" / "kernels" / "llmatc-kernels-bench"

    if sections & {"batch1", "batched", "memory"}:
        n_ctx = config.get("max_position_embeddings", 2048)  # ours generate keeps one full-context sequence too
        ours = Ours(args.build / "llm-atc", model_dir, args.threads, args.kv_cache_dtype)
        llama = LlamaCpp(args.python, gguf_path, args.threads, n_ctx)
        try:
            engines = {"llm-atc": ours, "llama.cpp": llama}
            for engine in engines.values():  # warm-up, not recorded: first-touch page faults, thread start-up
                engine.pp(prompts[512] if "batch1" in sections else prompts[128])
                engine.tg(tg_prompt, 8)
            llama_memory = llama.memory()  # before any batched context: the batch-1 footprint
            ours.peak_rss.clear()
            samples = {name: {} for name in engines}
            for r in range(args.rounds):
                bandwidth.append(bandwidth_gbps(bench, args.threads))
                print(json.dumps({"type": gguf_type, "round": r, "memory_read_gbps": bandwidth[-1]}), file=sys.stderr)
                for name, engine in engines.items():  # ours first, then llama.cpp, every round
                    if name != "llm-atc":  # bandwidth drifts minute to minute: sample it again mid-round
                        bandwidth.append(bandwidth_gbps(bench, args.threads))
                    s = samples[name]
                    if "batch1" in sections:
                        s.setdefault("pp128", []).append(engine.pp(prompts[128]))
                        s.setdefault("pp512", []).append(engine.pp(prompts[512]))
                    if "batch1" in sections or "memory" in sections:
                        s.setdefault("tg128", []).append(engine.tg(tg_prompt, args.tg_tokens))
                for n in args.batch_sizes if "batched" in sections else ():
                    for name, engine in engines.items():
                        result = engine.batched(batched_prompts[n], args.tg_tokens)
                        samples[name].setdefault(f"batched{n}", []).append(result["tokens_per_s"])
                        samples[name].setdefault(f"batched{n}_steps", []).append(result["steps"])
                print(json.dumps({"type": gguf_type, "round": r, "samples": {
                    k: {m: round(v[-1], 1) for m, v in s.items()} for k, s in samples.items()}}), file=sys.stderr)
        finally:
            llama.close()

        bw = median(bandwidth)
        bound = bw * 1e9 / bytes_per_token  # decode steps/s when every step reads every weight once
        entry.update({"memory_read_gbps": round(bw, 2), "tg_bound_tokens_per_s": round(bound, 1),
                      "memory_read_gbps_range": [round(min(bandwidth), 2), round(max(bandwidth), 2)],
                      "llama.cpp_system_info": llama.system_info})
        for name, s in samples.items():
            e = {}
            for key in ("pp128", "pp512", "tg128"):
                if key in s and ("batch1" in sections or key == "tg128"):
                    e[key] = round(median(s[key]), 1)
            if "tg128" in e:
                e["tg128_fraction_of_bound"] = round(e["tg128"] / bound, 3)
            for n in args.batch_sizes if "batched" in sections else ():
                tps = median(s[f"batched{n}"])
                e[f"batched{n}"] = {"tokens_per_s": round(tps, 1), "decode_steps": int(median(s[f"batched{n}_steps"])),
                                    "fraction_of_bound": round(tps / (n * bound), 3)}
            entry[name] = e
        keys = [k for k in ("pp128", "pp512", "tg128") if k in entry["llm-atc"]]
        entry["ratio_ours_over_llamacpp"] = {k: ratio(entry["llm-atc"][k], entry["llama.cpp"][k]) for k in keys}
        for n in args.batch_sizes if "batched" in sections else ():
            entry["ratio_ours_over_llamacpp"][f"batched{n}"] = ratio(entry["llm-atc"][f"batched{n}"]["tokens_per_s"],
                                                                     entry["llama.cpp"][f"batched{n}"]["tokens_per_s"])
        if "memory" in sections:
            llama_kv = n_ctx * kv_bytes_per_token(config, 2)
            entry["memory_generating"] = {
                "llm-atc": memory_entry(int(median(ours.peak_rss)), None, weight_bytes, ours.kv_cache_bytes,
                                        extra={"what": "llm-atc generate, tg128 at batch 1 (peak over the run)"}),
                "llama.cpp": memory_entry(
                    llama_memory.get("VmHWM"), llama_memory.get("VmRSS"), weight_bytes, llama_kv,
                    extra={"what": "worker after pp and tg at batch 1", "python_interpreter_rss_bytes":
                           llama.interpreter_rss,
                           "peak_rss_without_interpreter_over_weights_plus_kv":
                               round((llama_memory["VmHWM"] - llama.interpreter_rss) / (weight_bytes + llama_kv), 3)
                               if llama_memory.get("VmHWM") else None}),
            }
    if "serving" in sections and gguf_type in args.serving_types:
        entry["serving"] = serving_section(args, model_dir, gguf_path, config, weight_bytes)
    return entry


def parse_list(text, cast=str):
    return [cast(x) for x in text.split(",") if x]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", type=pathlib.Path, required=True, help="Hugging Face Llama checkpoint directory")
    p.add_argument("--types", default="f16,q8_0,q4_0", help="GGUF types to compare (f32, f16, bf16, q8_0, q4_0; and llama.cpp's K-quant mixes "
                        "q4_k_m, q4_k_s, q5_k_s, q6_k, quantized from the f16 file by llama.cpp)")
    p.add_argument("--sections", default=",".join(SECTIONS), help=f"any of {','.join(SECTIONS)}")
    p.add_argument("--rounds", type=int, default=5, help="interleaved rounds per figure (medians)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--build", type=pathlib.Path, default=REPO_ROOT / "build")
    p.add_argument("--cache", type=pathlib.Path, default=None, help="GGUF files (default BUILD/bench-cache)")
    p.add_argument("--python", default=sys.executable, help="the Python with llama-cpp-python (default: this one)")
    p.add_argument("--kv-cache-dtype", choices=sorted(KV_ELEMENT_BYTES), default="f16",
                   help="llm-atc's KV cache (llama.cpp's is F16)")
    p.add_argument("--tg-tokens", type=int, default=128, help="decode steps of tg and of batched decode")
    p.add_argument("--batch-sizes", default="4,8,16", help="sequences decoded together")
    p.add_argument("--batched-prompt-len", type=int, default=32, help="prompt tokens of each batched sequence")
    p.add_argument("--llama-server", type=pathlib.Path, default=None,
                   help="llama.cpp's C++ server binary (build_llama_server.py makes it) to serve with as many "
                        "parallel slots as the highest concurrency; default: llama-cpp-python's one-slot server")
    p.add_argument("--serving-types", default=None, help="types to serve (default: all of --types)")
    p.add_argument("--serving-rounds", type=int, default=None, help="default: --rounds")
    p.add_argument("--serving-requests", type=int, default=16)
    p.add_argument("--serving-concurrency", default="4,8")
    p.add_argument("--serving-input-words", type=int, default=60,
                   help="random words per prompt (about 64 Llama tokens with BOS)")
    p.add_argument("--serving-output-len", type=int, default=128)
    p.add_argument("--serving-max-model-len", type=int, default=256, help="llm-atc serve --max-model-len")
    args = p.parse_args(argv)

    args.sections = set(parse_list(args.sections))
    unknown = args.sections - set(SECTIONS)
    if unknown:
        p.error(f"--sections: unknown {sorted(unknown)}; choose from {','.join(SECTIONS)}")
    if args.rounds < 1 or args.threads < 1 or args.tg_tokens < 1:
        p.error("--rounds, --threads and --tg-tokens must be at least 1")
    args.types = parse_list(args.types)
    args.batch_sizes = parse_list(args.batch_sizes, int)
    args.serving_types = parse_list(args.serving_types) if args.serving_types else args.types
    args.serving_rounds = args.serving_rounds or args.rounds
    args.serving_concurrency = parse_list(args.serving_concurrency, int)
    args.cache = args.cache or args.build / "bench-cache"
    if args.llama_server and not args.llama_server.is_file():
        p.error(f"--llama-server: {args.llama_server} not found (benchmarks/llamacpp/build_llama_server.py builds it)")
    for path, what in ((args.model / "config.json", "--model"), (args.build / "llm-atc", "--build")):
        if not path.is_file():
            p.error(f"{what}: {path} not found")
    bench = args.build / "benchmarks" / "kernels" / "llmatc-kernels-bench"
    if args.sections & {"batch1", "batched", "memory"} and not bench.is_file():
        p.error(f"--build: {bench} not found (ninja -C {args.build} benchmarks/kernels/llmatc-kernels-bench)")

    config = json.loads((args.model / "config.json").read_text())
    vocab = config["vocab_size"]
    rng = random.Random(0)
    prompts = {n: [1] + [rng.randrange(3, vocab) for _ in range(n - 1)] for n in (128, 512)}
    batched_prompts = {n: [[1] + [rng.randrange(3, vocab) for _ in range(args.batched_prompt_len - 1)]
                           for _ in range(n)] for n in args.batch_sizes}

    report = {"model": str(args.model), "threads": args.threads, "rounds": args.rounds,
              # LLMATC_CPU_ISA (scalar, avx2, avx2-vnni, avx512-novnni, avx512) runs llm-atc's kernels of a
              # lower level than this CPU's best.
              "llm-atc_cpu_isa": os.environ.get("LLMATC_CPU_ISA") or "best",
              "llm-atc_kv_cache_dtype": args.kv_cache_dtype,
              "sections": sorted(args.sections), "tg_tokens": args.tg_tokens,
              "batched_prompt_len": args.batched_prompt_len,
              "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
              "note": "medians over interleaved rounds; bounds are memory bandwidth / weight bytes read per decode "
                      "step (batched: N tokens per step); on a shared machine absolute figures are noise",
              "results": {}}
    for gguf_type in args.types:
        report["results"][gguf_type] = bench_type(args, gguf_type, prompts, batched_prompts, config)
        print(json.dumps({gguf_type: "done"}), file=sys.stderr)
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
