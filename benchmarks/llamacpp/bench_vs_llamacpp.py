"""benchmarks/llamacpp/bench_vs_llamacpp.py — llm-atc against llama.cpp (llama-cpp-python) on the very same GGUF
files, side by side in one run: pp128, pp512 and tg128 at batch 1, interleaved (ours, llama.cpp, ours, llama.cpp
...) with medians over the rounds, next to this machine's memory read bandwidth measured between the rounds and each
decode figure as a fraction of its bandwidth bound (weight bytes read per token / bandwidth). Prints JSON.

Not a test (CI never runs it): timings on a shared machine are noise for CI. Needs /work/main/.venv with `gguf` and
`llama-cpp-python`, and a build with llm-atc and llmatc-kernels-bench.

Usage: bench_vs_llamacpp.py --model CHECKPOINT_DIR [--types f16,q8_0,q4_0] [--threads 2] [--rounds 5]
       [--build build] [--cache build/bench-cache]
CHECKPOINT_DIR is a Hugging Face Llama checkpoint (e.g. from scripts/make_random_llama.py --preset 110m); it is
converted once per type with convert_to_gguf.py into the cache, and both engines load the resulting file.
"""
import argparse
import json
import pathlib
import random
import shutil
import statistics
import subprocess
import sys
import time

HERE = pathlib.Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]


def convert(model_dir, cache, gguf_type):
    out_dir = cache / f"{model_dir.name}-{gguf_type}"
    if not (out_dir / "model.gguf").is_file():
        out_dir.mkdir(parents=True, exist_ok=True)
        shutil.copy(model_dir / "tokenizer.model", out_dir / "tokenizer.model")
        subprocess.run([sys.executable, str(HERE / "convert_to_gguf.py"), str(model_dir), str(out_dir / "model.gguf"),
                        "--type", gguf_type], check=True)
    return out_dir


def weight_bytes_per_token(gguf_path):
    """Bytes decode reads per token: every tensor once, one embedding row, and the table again when it is lm_head."""
    import gguf
    reader = gguf.GGUFReader(str(gguf_path))
    total, embed, has_output = 0, 0, False
    for t in reader.tensors:
        n = int(t.n_bytes)
        if t.name == "token_embd.weight":
            embed = n
            rows = int(t.shape[-1])  # ggml order: innermost first, rows last
        else:
            total += n
        has_output |= t.name == "output.weight"
    return total + embed // rows + (0 if has_output else embed)


class Ours:
    def __init__(self, launcher, model_dir, threads):
        self.launcher, self.model_dir, self.threads = launcher, model_dir, threads

    def _timings(self, prompt_ids, max_tokens):
        cmd = [str(self.launcher), "generate", "--model", str(self.model_dir), "--prompt-ids",
               ",".join(map(str, prompt_ids)), "--max-tokens", str(max_tokens), "--temperature", "0",
               "--ignore-eos", "--json", "--timings", "--threads", str(self.threads)]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True)
        return json.loads(out.stdout)["timings"]

    def pp(self, prompt_ids):
        return self._timings(prompt_ids, 1)["prompt_tokens_per_s"]

    def tg(self, prompt_ids, n):
        return self._timings(prompt_ids, n + 1)["generation_tokens_per_s"]  # n decode steps after the first token


class LlamaCpp:
    def __init__(self, gguf_path, threads, n_ctx):
        from llama_cpp import Llama
        self.llm = Llama(model_path=str(gguf_path), n_threads=threads, n_threads_batch=threads, n_ctx=n_ctx,
                         n_batch=512, n_ubatch=512, verbose=False)

    def pp(self, prompt_ids):
        self.llm.reset()
        start = time.perf_counter()
        self.llm.eval(prompt_ids)
        return len(prompt_ids) / (time.perf_counter() - start)

    def _last_logits(self):
        # The context's own buffer for the last evaluated position (Llama.scores is only kept with logits_all,
        # which would make llama.cpp compute logits for every prompt position and slow its prefill).
        import llama_cpp
        import numpy as np
        return np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(self.llm._ctx.ctx, -1),
                                     shape=(self.llm.n_vocab(),))

    def tg(self, prompt_ids, n):
        # Greedy decode of n tokens one at a time (no sampling chain: argmax of the returned logits).
        self.llm.reset()
        self.llm.eval(prompt_ids)
        token = int(self._last_logits().argmax())
        start = time.perf_counter()
        for _ in range(n):
            self.llm.eval([token])
            token = int(self._last_logits().argmax())
        return n / (time.perf_counter() - start)


def bandwidth_gbps(bench, threads):
    out = subprocess.run([str(bench), "--threads", str(threads), "--rounds", "3", "--bandwidth-only"],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout)["memory_read_gbps"]["median"]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", type=pathlib.Path, required=True)
    p.add_argument("--types", default="f16,q8_0,q4_0")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--build", type=pathlib.Path, default=REPO_ROOT / "build")
    p.add_argument("--cache", type=pathlib.Path, default=None)
    args = p.parse_args(argv)
    cache = args.cache or args.build / "bench-cache"
    launcher = args.build / "llm-atc"
    bench = args.build / "benchmarks" / "kernels" / "llmatc-kernels-bench"
    vocab = json.loads((args.model / "config.json").read_text())["vocab_size"]
    rng = random.Random(0)
    prompts = {n: [1] + [rng.randrange(3, vocab) for _ in range(n - 1)] for n in (128, 512)}
    tg_prompt = prompts[128][:8]

    report = {"model": str(args.model), "threads": args.threads, "rounds": args.rounds,
              "note": "medians over interleaved rounds; the machine is shared, so absolute figures are noisy",
              "results": {}}
    for gguf_type in args.types.split(","):
        model_dir = convert(args.model, cache, gguf_type)
        gguf_path = model_dir / "model.gguf"
        engines = {"llm-atc": Ours(launcher, model_dir, args.threads),
                   "llama.cpp": LlamaCpp(gguf_path, args.threads, n_ctx=1024)}
        samples = {name: {"pp128": [], "pp512": [], "tg128": []} for name in engines}
        for engine in engines.values():  # warm-up, not recorded: first-touch page faults, thread start-up
            engine.pp(prompts[128])
            engine.tg(tg_prompt, 8)
        bandwidth = []
        for _ in range(args.rounds):
            bandwidth.append(bandwidth_gbps(bench, args.threads))
            for name, engine in engines.items():  # ours first, then llama.cpp, every round
                samples[name]["pp128"].append(engine.pp(prompts[128]))
                samples[name]["pp512"].append(engine.pp(prompts[512]))
                samples[name]["tg128"].append(engine.tg(tg_prompt, 128))
        # Release llama.cpp's context and threads before the next type: a live earlier instance was seen to slow the
        # next one's decode by orders of magnitude.
        engines["llama.cpp"].llm.close()
        del engines
        bw = statistics.median(bandwidth)
        bytes_per_token = weight_bytes_per_token(gguf_path)
        bound = bw * 1e9 / bytes_per_token
        entry = {"memory_read_gbps": round(bw, 2), "weight_bytes_per_token": bytes_per_token,
                 "tg_bound_tokens_per_s": round(bound, 1)}
        for name in samples:
            med = {k: statistics.median(v) for k, v in samples[name].items()}
            entry[name] = {k: round(v, 1) for k, v in med.items()}
            entry[name]["tg128_fraction_of_bound"] = round(med["tg128"] / bound, 3)
        entry["ratio_ours_over_llamacpp"] = {
            k: round(entry["llm-atc"][k] / entry["llama.cpp"][k], 2) for k in ("pp128", "pp512", "tg128")}
        report["results"][gguf_type] = entry
        print(json.dumps({gguf_type: entry}), file=sys.stderr)
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
