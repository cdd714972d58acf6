#!/usr/bin/env python3
"""scripts/gpu/stories_greedy_check.py — stories260k greedy on the GPU must equal reference.json token for token.

Runs `llm-atc generate --device cuda --temperature 0 --json` for every case of reference.json and compares
prompt_token_ids, token_ids and text with prompt_ids, generated_ids and generated_text. Prints one line per case and
exits 1 on any mismatch. Used by scripts/gpu_check.sh.
"""
import argparse
import json
import pathlib
import subprocess
import sys


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--llm-atc", required=True, help="path of the built launcher")
    p.add_argument("--model", required=True, help="the stories260k directory (with reference.json)")
    p.add_argument("--device", default="cuda")
    args = p.parse_args(argv)
    model = pathlib.Path(args.model)
    reference = json.loads((model / "reference.json").read_text())
    n_new = reference.get("n_new_tokens", 48)
    mismatches = 0
    for case in reference["cases"]:
        proc = subprocess.run([args.llm_atc, "generate", "--model", str(model), "--device", args.device,
                               "--prompt", case["prompt"], "--temperature", "0", "--max-tokens", str(n_new), "--json"],
                              capture_output=True, text=True, timeout=300)
        if proc.returncode != 0:
            print(f"FAIL {case['prompt']!r}: llm-atc exited {proc.returncode}: {proc.stderr.strip()[-500:]}")
            mismatches += 1
            continue
        got = json.loads(proc.stdout)
        same = (got["prompt_token_ids"] == case["prompt_ids"] and got["token_ids"] == case["generated_ids"]
                and got["text"] == case["generated_text"])
        if not same:
            first = next((i for i, (a, b) in enumerate(zip(got["token_ids"], case["generated_ids"])) if a != b),
                         min(len(got["token_ids"]), len(case["generated_ids"])))
            print(f"FAIL {case['prompt']!r}: tokens differ from position {first}")
            mismatches += 1
        else:
            print(f"ok   {case['prompt']!r}: {len(got['token_ids'])} tokens equal")
    print(f"stories260k greedy on {args.device}: {len(reference['cases']) - mismatches}/{len(reference['cases'])} "
          "cases equal to reference.json")
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
