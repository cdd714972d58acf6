"""benchmarks/llamacpp/convert_to_gguf.py — writes a Hugging Face Llama checkpoint (safetensors + tokenizer.model) as
a llama.cpp GGUF file with the `gguf` package from PyPI, the way llama.cpp's convert_hf_to_gguf.py lays it out:
llama.* metadata, the SentencePiece vocabulary as tokenizer.ggml.*, q/k rows permuted for llama.cpp's RoPE, and
F32 / F16 / BF16 / Q8_0 / Q4_0 weights (1-D tensors and rows that do not fill 32-element blocks stay F32).

Usage: convert_to_gguf.py CHECKPOINT_DIR OUT.gguf --type q8_0
Used by the side-by-side benchmark and by tests/e2e/test_gguf.py (same weights for both engines).
"""
import argparse
import json
import pathlib
import sys

import numpy as np

import gguf
from safetensors.numpy import load_file

TYPES = {
    "f32": gguf.GGMLQuantizationType.F32,
    "f16": gguf.GGMLQuantizationType.F16,
    "bf16": gguf.GGMLQuantizationType.BF16,
    "q8_0": gguf.GGMLQuantizationType.Q8_0,
    "q4_0": gguf.GGMLQuantizationType.Q4_0,
}

PER_LAYER = {
    "input_layernorm.weight": "attn_norm.weight",
    "self_attn.q_proj.weight": "attn_q.weight",
    "self_attn.k_proj.weight": "attn_k.weight",
    "self_attn.v_proj.weight": "attn_v.weight",
    "self_attn.o_proj.weight": "attn_output.weight",
    "post_attention_layernorm.weight": "ffn_norm.weight",
    "mlp.gate_proj.weight": "ffn_gate.weight",
    "mlp.up_proj.weight": "ffn_up.weight",
    "mlp.down_proj.weight": "ffn_down.weight",
}
GLOBAL = {"model.embed_tokens.weight": "token_embd.weight", "model.norm.weight": "output_norm.weight",
          "lm_head.weight": "output.weight"}


def gguf_name(hf_name):
    if hf_name in GLOBAL:
        return GLOBAL[hf_name]
    parts = hf_name.split(".", 3)  # model, layers, N, rest
    if len(parts) == 4 and parts[:2] == ["model", "layers"] and parts[3] in PER_LAYER:
        return f"blk.{parts[2]}.{PER_LAYER[parts[3]]}"
    raise SystemExit(f"tensor {hf_name!r} has no llama.cpp name")


def permute_for_llamacpp(w, n_heads):
    """llama.cpp's RoPE rotates interleaved pairs; HF's rotate_half rotates halves: interleave each head's halves."""
    return w.reshape(n_heads, 2, w.shape[0] // n_heads // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def load_tensors(model_dir):
    files = sorted(model_dir.glob("model*.safetensors"))
    if not files:
        raise SystemExit(f"{model_dir}: no model*.safetensors")
    tensors = {}
    for f in files:
        for name, value in load_file(str(f)).items():
            tensors[name] = value
    return tensors


def add_vocab(writer, model_dir):
    import sentencepiece as spm
    sp = spm.SentencePieceProcessor(model_file=str(model_dir / "tokenizer.model"))
    tokens, scores, types = [], [], []
    for i in range(sp.vocab_size()):
        tokens.append(sp.id_to_piece(i).encode("utf-8"))
        scores.append(sp.get_score(i))
        if sp.is_unknown(i):
            types.append(gguf.TokenType.UNKNOWN)
        elif sp.is_control(i):
            types.append(gguf.TokenType.CONTROL)
        elif sp.is_unused(i):
            types.append(gguf.TokenType.UNUSED)
        elif sp.is_byte(i):
            types.append(gguf.TokenType.BYTE)
        else:
            types.append(gguf.TokenType.NORMAL)
    writer.add_tokenizer_model("llama")
    writer.add_token_list(tokens)
    writer.add_token_scores(scores)
    writer.add_token_types(types)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("checkpoint", type=pathlib.Path)
    p.add_argument("out", type=pathlib.Path)
    p.add_argument("--type", choices=sorted(TYPES), default="f32", help="storage of the 2-D weights")
    args = p.parse_args(argv)

    cfg = json.loads((args.checkpoint / "config.json").read_text())
    n_heads = cfg["num_attention_heads"]
    n_kv_heads = cfg.get("num_key_value_heads", n_heads)
    head_dim = cfg.get("head_dim", cfg["hidden_size"] // n_heads)
    tensors = load_tensors(args.checkpoint)
    if cfg.get("tie_word_embeddings", False):
        tensors.pop("lm_head.weight", None)

    writer = gguf.GGUFWriter(str(args.out), "llama")
    writer.add_name(args.checkpoint.name)
    writer.add_context_length(cfg.get("max_position_embeddings", 2048))
    writer.add_embedding_length(cfg["hidden_size"])
    writer.add_block_count(cfg["num_hidden_layers"])
    writer.add_feed_forward_length(cfg["intermediate_size"])
    writer.add_head_count(n_heads)
    writer.add_head_count_kv(n_kv_heads)
    writer.add_rope_dimension_count(head_dim)
    if "head_dim" in cfg:
        writer.add_key_length(head_dim)
        writer.add_value_length(head_dim)
    writer.add_layer_norm_rms_eps(cfg.get("rms_norm_eps", 1e-5))
    writer.add_rope_freq_base(cfg.get("rope_theta", 10000.0))
    scaling = cfg.get("rope_scaling")
    if scaling and scaling.get("type", scaling.get("rope_type")) == "linear":
        writer.add_rope_scaling_type(gguf.RopeScalingType.LINEAR)
        writer.add_rope_scaling_factor(scaling["factor"])
    writer.add_vocab_size(cfg["vocab_size"])
    writer.add_file_type({"f32": 0, "f16": 1, "q4_0": 2, "q8_0": 7, "bf16": 32}[args.type])
    add_vocab(writer, args.checkpoint)
    writer.add_bos_token_id(cfg.get("bos_token_id", 1))
    writer.add_eos_token_id(cfg.get("eos_token_id", 2))

    wanted = TYPES[args.type]
    for hf_name, value in tensors.items():
        data = value.astype(np.float32)
        if hf_name.endswith("self_attn.q_proj.weight"):
            data = permute_for_llamacpp(data, n_heads)
        elif hf_name.endswith("self_attn.k_proj.weight"):
            data = permute_for_llamacpp(data, n_kv_heads)
        qtype = wanted
        if data.ndim == 1:
            qtype = gguf.GGMLQuantizationType.F32
        elif qtype in (gguf.GGMLQuantizationType.Q8_0, gguf.GGMLQuantizationType.Q4_0) and data.shape[-1] % 32:
            qtype = gguf.GGMLQuantizationType.F32
        if qtype == gguf.GGMLQuantizationType.F32:
            writer.add_tensor(gguf_name(hf_name), data)
        elif qtype == gguf.GGMLQuantizationType.F16:
            writer.add_tensor(gguf_name(hf_name), data.astype(np.float16))
        else:
            writer.add_tensor(gguf_name(hf_name), gguf.quants.quantize(data, qtype), raw_dtype=qtype)

    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
