"""benchmarks/llamacpp/llamacpp_worker.py — llama.cpp (llama-cpp-python) measured in a process of its own, driven by
bench_all.py over stdin/stdout, so that its resident memory is not mixed with the driver's or another type's.

Protocol: one JSON object per line in, one per line out ({"ok": true, ...} or {"ok": false, "error": "..."}).
  {"op": "pp", "ids": [...]}                       prompt tokens/s: one eval of the prompt after a reset
  {"op": "tg", "ids": [...], "n": 128}             generation tokens/s: n single-token evals after the prompt (argmax)
  {"op": "batched", "prompts": [[...], ...], "n": 128}
      batched decode tokens/s: the N prompts prefilled in one llama_decode (sequence ids 0..N-1), then n steps of N
      tokens each, one llama_decode per step, greedy (argmax of each sequence's logits); a context made for this
      call with n_seq_max = N and freed afterwards (its creation is not timed)
  {"op": "quit"}
Started as: llamacpp_worker.py MODEL.gguf --threads T --n-ctx C. Answers {"ok": true, "ready": ...} once loaded,
with the VmRSS of the bare interpreter before llama.cpp was loaded (the Python share of this process's memory).
"""
import argparse
import json
import sys
import time

import numpy as np


def vm_rss_bytes():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


class Worker:
    def __init__(self, gguf_path, threads, n_ctx):
        import llama_cpp
        from llama_cpp import Llama
        self.lib = llama_cpp
        self.threads = threads
        self.llm = Llama(model_path=str(gguf_path), n_threads=threads, n_threads_batch=threads, n_ctx=n_ctx,
                         n_batch=512, n_ubatch=512, verbose=False)
        self.n_vocab = self.llm.n_vocab()

    def _logits_of(self, ctx, row):
        return np.ctypeslib.as_array(self.lib.llama_get_logits_ith(ctx, row), shape=(self.n_vocab,))

    def pp(self, ids):
        self.llm.reset()
        start = time.perf_counter()
        self.llm.eval(ids)
        return {"tokens_per_s": len(ids) / (time.perf_counter() - start)}

    def tg(self, ids, n):
        # Llama.scores is only kept with logits_all (which slows prefill): read the context's last row instead.
        self.llm.reset()
        self.llm.eval(ids)
        token = int(self._logits_of(self.llm._ctx.ctx, -1).argmax())
        start = time.perf_counter()
        for _ in range(n):
            self.llm.eval([token])
            token = int(self._logits_of(self.llm._ctx.ctx, -1).argmax())
        return {"tokens_per_s": n / (time.perf_counter() - start)}

    def batched(self, prompts, n):
        lib = self.lib
        n_seqs = len(prompts)
        prompt_tokens = sum(len(p) for p in prompts)
        longest = max(len(p) for p in prompts)
        params = lib.llama_context_default_params()
        params.n_seq_max = n_seqs
        # Room for every sequence's prompt and n generated tokens (llama.cpp splits n_ctx between the sequences
        # unless its KV cache is unified).
        params.n_ctx = n_seqs * (-(-(longest + n) // 256) * 256)  # whole 256-token pads, as llama.cpp wants
        params.n_batch = max(512, prompt_tokens)
        params.n_ubatch = 512
        params.n_threads = self.threads
        params.n_threads_batch = self.threads
        params.no_perf = True
        ctx = lib.llama_init_from_model(self.llm._model.model, params)
        if not ctx:
            raise RuntimeError(f"llama_init_from_model failed for {n_seqs} sequences (n_ctx {params.n_ctx})")
        batch = lib.llama_batch_init(max(prompt_tokens, n_seqs), 0, 1)
        try:
            # Prefill: every prompt in one batch, logits only for each prompt's last token.
            rows = []
            k = 0
            for seq, ids in enumerate(prompts):
                for pos, token in enumerate(ids):
                    batch.token[k] = token
                    batch.pos[k] = pos
                    batch.n_seq_id[k] = 1
                    batch.seq_id[k][0] = seq
                    batch.logits[k] = pos == len(ids) - 1
                    k += 1
                rows.append(k - 1)
            batch.n_tokens = k
            start = time.perf_counter()
            if lib.llama_decode(ctx, batch) != 0:
                raise RuntimeError(f"llama_decode failed on the prefill of {n_seqs} prompts")
            prefill_seconds = time.perf_counter() - start
            tokens = [int(self._logits_of(ctx, row).argmax()) for row in rows]
            positions = [len(p) for p in prompts]
            # Decode: n steps, each one token per sequence in one llama_decode.
            start = time.perf_counter()
            for _ in range(n):
                for seq in range(n_seqs):
                    batch.token[seq] = tokens[seq]
                    batch.pos[seq] = positions[seq]
                    batch.n_seq_id[seq] = 1
                    batch.seq_id[seq][0] = seq
                    batch.logits[seq] = True
                    positions[seq] += 1
                batch.n_tokens = n_seqs
                if lib.llama_decode(ctx, batch) != 0:
                    raise RuntimeError(f"llama_decode failed on a decode step of {n_seqs} sequences")
                tokens = [int(self._logits_of(ctx, seq).argmax()) for seq in range(n_seqs)]
            decode_seconds = time.perf_counter() - start
        finally:
            lib.llama_batch_free(batch)
            lib.llama_free(ctx)
        return {"tokens_per_s": n * n_seqs / decode_seconds, "steps": n,
                "prompt_tokens_per_s": prompt_tokens / prefill_seconds}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("gguf")
    p.add_argument("--threads", type=int, required=True)
    p.add_argument("--n-ctx", type=int, required=True)
    args = p.parse_args(argv)
    interpreter_rss = vm_rss_bytes()  # numpy and the standard library are loaded, llama.cpp is not yet
    out = sys.stdout
    sys.stdout = sys.stderr  # anything llama.cpp's bindings print must not corrupt the protocol
    try:
        worker = Worker(args.gguf, args.threads, args.n_ctx)
    except Exception as e:  # reported to the driver, which names the file
        out.write(json.dumps({"ok": False, "error": f"{type(e).__name__}: {e}"}) + "\n")
        out.flush()
        return 1
    import llama_cpp  # loaded by Worker already

    system_info = llama_cpp.llama_print_system_info().decode(errors="replace").strip()  # the CPU features it uses
    out.write(json.dumps({"ok": True, "ready": True, "interpreter_rss_bytes": interpreter_rss,
                          "system_info": system_info}) + "\n")
    out.flush()
    for line in sys.stdin:
        request = json.loads(line)
        op = request.get("op")
        try:
            if op == "quit":
                break
            if op == "pp":
                answer = worker.pp(request["ids"])
            elif op == "tg":
                answer = worker.tg(request["ids"], request["n"])
            elif op == "batched":
                answer = worker.batched(request["prompts"], request["n"])
            else:
                raise ValueError(f"unknown op {op!r}")
            answer["ok"] = True
        except Exception as e:
            answer = {"ok": False, "error": f"{type(e).__name__}: {e}"}
        out.write(json.dumps(answer) + "\n")
        out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
