"""tests/core/kernels/compare_k_quants_with_gguf.py — our Q6_K and Q5_K decoders against gguf-py's NumPy ones (the
reference for ggml's layouts): every value of random blocks (all level, scale and high-bit patterns; d and dmin
normal, subnormal, zero and negative halves) must be bit for bit equal.

Usage: compare_k_quants_with_gguf.py PATH/TO/k_quant_tool
"""
import pathlib
import subprocess
import sys
import tempfile

import numpy as np

import gguf

# type name for the tool, ggml type, block bytes, byte offsets of the half-precision scales inside a block
TYPES = [
    ("q6_k", gguf.GGMLQuantizationType.Q6_K, 210, [208]),
    ("q5_k", gguf.GGMLQuantizationType.Q5_K, 176, [0, 2]),
]


def dequantize_with_tool(tool, type_name, blocks):
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = pathlib.Path(tmp) / "in", pathlib.Path(tmp) / "out"
        src.write_bytes(blocks.tobytes())
        subprocess.run([tool, "dequantize", type_name, str(src), str(dst)], check=True)
        return np.frombuffer(dst.read_bytes(), dtype=np.float32)


def random_blocks(rng, n, block_bytes, half_offsets):
    blocks = rng.integers(0, 256, size=(n, block_bytes), dtype=np.uint8)
    halves = np.concatenate([rng.standard_normal(n) * 1e-2, rng.standard_normal(n) * 1e-6,
                             np.zeros(n // 8), -np.abs(rng.standard_normal(n)) * 3])
    for offset in half_offsets:
        blocks[:, offset:offset + 2] = rng.choice(halves, size=n).astype(np.float16).view(np.uint8).reshape(n, 2)
    return blocks


def main():
    tool = sys.argv[1]
    rng = np.random.default_rng(6)
    for type_name, ggml_type, block_bytes, half_offsets in TYPES:
        blocks = random_blocks(rng, 4096, block_bytes, half_offsets)
        expected = gguf.quants.dequantize(blocks, ggml_type).reshape(-1).astype(np.float32)
        actual = dequantize_with_tool(tool, type_name, blocks)
        assert actual.shape == expected.shape, (type_name, actual.shape, expected.shape)
        differ = np.flatnonzero(actual.view(np.uint32) != expected.view(np.uint32))
        assert differ.size == 0, f"{type_name}: {differ.size} values differ from gguf-py, first at {differ[0]}: " \
                                 f"{actual[differ[0]]!r} vs {expected[differ[0]]!r}"
        print(f"{type_name}: {expected.size} values bit-identical to gguf-py")


if __name__ == "__main__":
    main()
