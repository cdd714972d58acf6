#!/usr/bin/env python3
"""benchmarks/generate/bench_generate.py — prompt and generation tokens/s of `llm-atc generate` (a benchmark, not a test).

Measures stories260k (../shared) and a random-weight 110M Llama (dim 768, 12 layers, 12 heads, hidden 2048, Llama 2's
32000-token vocabulary; made once with scripts/make_random_llama.py and cached). Each run feeds a fixed prompt of
--prompt-tokens ids and generates exactly --gen-tokens tokens greedily (--ignore-eos); the figures are medians over
--repeats runs of generate's own "timings" (model loading excluded). Prints one JSON object.

  benchmarks/generate/bench_generate.py [--build-dir build] [--threads 2] [--dtype f32] [--repeats 5]
"""
import argparse
import json
import os
import pathlib
import random
import statistics
import subprocess
import sys
import tempfile

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
SHARED = pathlib.Path(os.environ.get("LLMATC_SHARED", REPO_ROOT.parent / "shared"))


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--build-dir", default=os.environ.get("LLMATC_BUILD_DIR", str(REPO_ROOT / "build")))
    p.add_argument("--threads", type=int, default=0, help="kernel threads (0 = all cores)")
    p.add_argument("--dtype", choices=["f32", "f16", "bf16"], default="f32", help="weights of the 110M model")
    p.add_argument("--prompt-tokens", type=int, default=128)
    p.add_argument("--gen-tokens", type=int, default=128)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--cache-dir", default=os.path.join(tempfile.gettempdir(), "llmatc-bench-models"),
                   help="where the random 110M checkpoint is kept between runs")
    return p.parse_args()


def random_110m(cache_dir, dtype):
    out = pathlib.Path(cache_dir) / f"random-110m-{dtype}"
    if not (out / "config.json").is_file():
        out.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, str(REPO_ROOT / "scripts" / "make_random_llama.py"), "--out", str(out),
                        "--preset", "110m", "--tokenizer", "llama2", "--dtype", dtype, "--seed", "0"], check=True)
    return out


def measure(args, model_dir, vocab_size):
    rng = random.Random(0)
    ids = [1] + [rng.randrange(3, vocab_size) for _ in range(args.prompt_tokens - 1)]
    runs = []
    for _ in range(args.repeats):
        proc = subprocess.run([str(pathlib.Path(args.build_dir) / "llm-atc"), "generate", "--model", str(model_dir),
                               "--prompt-ids", ",".join(map(str, ids)), "--temperature", "0", "--ignore-eos",
                               "--max-tokens", str(args.gen_tokens), "--threads", str(args.threads), "--json",
                               "--timings"], capture_output=True, text=True)
        if proc.returncode != 0:
            sys.exit(f"llm-atc generate failed on {model_dir}:\n{proc.stderr}")
        runs.append(json.loads(proc.stdout)["timings"])
    return {
        "model": str(model_dir),
        "prompt_tokens": args.prompt_tokens,
        "generated_tokens": args.gen_tokens,
        "prompt_tokens_per_s": round(statistics.median(r["prompt_tokens_per_s"] for r in runs), 1),
        "generation_tokens_per_s": round(statistics.median(r["generation_tokens_per_s"] for r in runs), 1),
        "runs": args.repeats,
    }


def main():
    args = parse_args()
    results = {
        "threads": args.threads,
        "stories260k": measure(args, SHARED / "models" / "stories260k", 512),
        f"random_110m_{args.dtype}": measure(args, random_110m(args.cache_dir, args.dtype), 32000),
    }
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
