#!/usr/bin/env python3
"""scripts/make_random_llama.py — writes a random-weight Llama checkpoint (Hugging Face layout) with transformers.

Used by the reference tests (tests/e2e/test_reference_transformers.py) and the benchmarks. Weights are drawn with a
fixed seed from N(0, 0.02) (--std); norm weights are 1 + N(0, 0.02) so that a mix-up of norms shows in the logits. The
tokenizer is copied from a SentencePiece model: stories260k's 512-token one (default) or Llama 2's 32000-token one.

Examples:
  make_random_llama.py --out /tmp/tiny                                  # 2 layers, dim 64, GQA 4/2, vocab 512
  make_random_llama.py --out /tmp/110m --preset 110m --tokenizer llama2 --dtype f32
  make_random_llama.py --out /tmp/tinyllama --preset tinyllama-1.1b --tokenizer llama2 --dtype bf16
"""
import argparse
import json
import os
import pathlib
import shutil
import sys

REPO_ROOT = pathlib.Path(__file__).resolve().parent.parent
SHARED = pathlib.Path(os.environ.get("LLMATC_SHARED", REPO_ROOT.parent / "shared"))
TOKENIZERS = {
    "stories260k": (SHARED / "models" / "stories260k" / "tokenizer.model", 512),
    "llama2": (SHARED / "tokenizers" / "llama2" / "tokenizer.model", 32000),
}
PRESETS = {
    # name: (hidden, layers, heads, kv_heads, intermediate, tied) — 110m is llama2.c's stories110M shape (tied
    # embeddings: 110M parameters with a 32000 vocabulary); tinyllama-1.1b is TinyLlama-1.1B's (untied).
    "110m": (768, 12, 12, 12, 2048, True),
    "tinyllama-1.1b": (2048, 22, 32, 4, 5632, False),
}
DTYPES = {"f32": "float32", "f16": "float16", "bf16": "bfloat16"}


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--out", required=True, help="checkpoint directory to write (created; must be empty or absent)")
    p.add_argument("--preset", choices=sorted(PRESETS),
                   help="a named shape: sets the shape flags (110m also ties the embeddings)")
    p.add_argument("--hidden-size", type=int, default=64)
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--kv-heads", type=int, help="key/value heads (default: --heads, i.e. no GQA)")
    p.add_argument("--head-dim", type=int, help="write an explicit head_dim (default: hidden / heads, not written)")
    p.add_argument("--intermediate-size", type=int, default=128)
    p.add_argument("--vocab-size", type=int, help="default: the tokenizer's size (512 or 32000)")
    p.add_argument("--tokenizer", choices=sorted(TOKENIZERS), default="stories260k",
                   help="SentencePiece model to copy beside the weights")
    p.add_argument("--max-position-embeddings", type=int, default=2048)
    p.add_argument("--rope-theta", type=float, default=10000.0)
    p.add_argument("--rope-scaling-factor", type=float, help="write linear rope_scaling with this factor")
    p.add_argument("--rms-norm-eps", type=float, default=1e-5)
    p.add_argument("--tied", action="store_true", help="tie lm_head to the embeddings (no lm_head.weight)")
    p.add_argument("--dtype", choices=sorted(DTYPES), default="f32")
    p.add_argument("--format", choices=["safetensors", "bin"], default="safetensors",
                   help="model*.safetensors, or pytorch_model*.bin")
    p.add_argument("--max-shard-size", help="shard the weights (e.g. 200KB, 2GB); default: one file")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--std", type=float, default=0.02,
                   help="standard deviation of the weights (tests use more, so that attention is far from uniform)")
    args = p.parse_args(argv)
    if args.preset:
        args.hidden_size, args.layers, args.heads, args.kv_heads, args.intermediate_size, tied = PRESETS[args.preset]
        args.tied = args.tied or tied
    args.kv_heads = args.kv_heads or args.heads
    if args.heads % args.kv_heads:
        p.error(f"--heads {args.heads} is not a multiple of --kv-heads {args.kv_heads}")
    tokenizer_path, tokenizer_size = TOKENIZERS[args.tokenizer]
    args.vocab_size = args.vocab_size or tokenizer_size
    if args.vocab_size < tokenizer_size:
        p.error(f"--vocab-size {args.vocab_size} is smaller than the {args.tokenizer} tokenizer ({tokenizer_size})")
    if not tokenizer_path.is_file():
        p.error(f"tokenizer not found: {tokenizer_path} (set LLMATC_SHARED)")
    args.tokenizer_path = tokenizer_path
    return args


def build_model(args):
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    config = dict(
        hidden_size=args.hidden_size, intermediate_size=args.intermediate_size, num_hidden_layers=args.layers,
        num_attention_heads=args.heads, num_key_value_heads=args.kv_heads, vocab_size=args.vocab_size,
        max_position_embeddings=args.max_position_embeddings, rms_norm_eps=args.rms_norm_eps,
        rope_theta=args.rope_theta, tie_word_embeddings=args.tied, bos_token_id=1, eos_token_id=2,
        initializer_range=0.02, torch_dtype=DTYPES[args.dtype],
    )
    if args.head_dim:
        config["head_dim"] = args.head_dim
    if args.rope_scaling_factor:
        config["rope_scaling"] = {"type": "linear", "factor": args.rope_scaling_factor}
    model = LlamaForCausalLM(LlamaConfig(**config))

    # Our own draw, in a fixed order, so that the weights depend only on the seed and the shape.
    generator = torch.Generator().manual_seed(args.seed)
    with torch.no_grad():
        for name, param in sorted(model.named_parameters()):
            noise = torch.randn(param.shape, generator=generator, dtype=torch.float32)
            param.copy_(1.0 + 0.02 * noise if name.endswith("norm.weight") else args.std * noise)
    if args.tied:
        model.tie_weights()
    return model.to(getattr(torch, DTYPES[args.dtype]))


def write_tokenizer(args, out):
    shutil.copyfile(args.tokenizer_path, out / "tokenizer.model")
    (out / "tokenizer_config.json").write_text(json.dumps({
        "tokenizer_class": "LlamaTokenizer", "bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>",
        "pad_token": None, "add_bos_token": True, "add_eos_token": False, "legacy": True,
        "clean_up_tokenization_spaces": False, "model_max_length": args.max_position_embeddings,
    }, indent=2) + "\n")


def main(argv=None):
    args = parse_args(argv)
    out = pathlib.Path(args.out)
    if out.exists() and any(out.iterdir()):
        sys.exit(f"make_random_llama.py: {out} exists and is not empty")
    out.mkdir(parents=True, exist_ok=True)
    model = build_model(args)
    save_kwargs = {"safe_serialization": args.format == "safetensors"}
    if args.max_shard_size:
        save_kwargs["max_shard_size"] = args.max_shard_size
    model.save_pretrained(out, **save_kwargs)
    write_tokenizer(args, out)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"wrote {out}: {n_params / 1e6:.2f}M parameters, {args.dtype}, {args.format}"
          f"{', sharded ' + args.max_shard_size if args.max_shard_size else ''}"
          f"{', tied' if args.tied else ''}, GQA {args.heads}/{args.kv_heads}, vocab {args.vocab_size}")


if __name__ == "__main__":
    main()
