"""tests/core/kernels/compare_q4_k_with_gguf.py — our Q4_K against the references: dequantization bit for bit equal
to gguf-py's (random blocks, every scale/min bit pattern), and our quantizer's RMS error no worse than 1.5x that of
ggml's own quantize_row_q4_K_ref (from llama-cpp-python's libggml, when the venv has it; gguf-py 0.19 has no Q4_K
quantizer) and no worse than a plain per-sub-block min/max grid (always).

Usage: compare_q4_k_with_gguf.py PATH/TO/k_quant_tool
"""
import ctypes
import pathlib
import subprocess
import sys
import tempfile

import numpy as np

import gguf

Q4_K = gguf.GGMLQuantizationType.Q4_K
BLOCK_BYTES = 144


def run_tool(tool, mode, data, out_dtype):
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = pathlib.Path(tmp) / "in", pathlib.Path(tmp) / "out"
        src.write_bytes(data.tobytes())
        subprocess.run([tool, mode, "q4_k", str(src), str(dst)], check=True)
        return np.frombuffer(dst.read_bytes(), dtype=out_dtype)


def random_blocks(rng, n):
    """Random nibbles and packed scales; d and dmin random finite halves (normal, subnormal, zero, negative)."""
    blocks = rng.integers(0, 256, size=(n, BLOCK_BYTES), dtype=np.uint8)
    halves = np.concatenate([rng.standard_normal(n) * 1e-2, rng.standard_normal(n) * 1e-6,
                             np.zeros(n // 8), -np.abs(rng.standard_normal(n)) * 3])
    d = rng.choice(halves, size=n).astype(np.float16)
    dmin = rng.choice(halves, size=n).astype(np.float16)
    blocks[:, 0:2] = d.view(np.uint8).reshape(n, 2)
    blocks[:, 2:4] = dmin.view(np.uint8).reshape(n, 2)
    return blocks


def check_dequantize(tool, rng):
    blocks = random_blocks(rng, 4096)
    expected = gguf.quants.dequantize(blocks, Q4_K).reshape(-1).astype(np.float32)
    actual = run_tool(tool, "dequantize", blocks, np.float32)
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    differ = np.flatnonzero(actual.view(np.uint32) != expected.view(np.uint32))
    assert differ.size == 0, f"{differ.size} values differ from gguf-py, first at {differ[0]}: " \
                             f"{actual[differ[0]]!r} vs {expected[differ[0]]!r}"
    print(f"dequantize: {expected.size} values bit-identical to gguf-py")


def rms(a, b):
    return float(np.sqrt(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)))


def minmax_grid(rows):
    """The plain baseline: per sub-block of 32, 16 levels from min(x, 0) to max(x), scales and mins as 6-bit fractions
    of their per-256 maxima, as Q4_K can store them. Returns the dequantized values."""
    x = rows.reshape(-1, 8, 32).astype(np.float32)
    lo = np.minimum(x.min(axis=-1), 0)
    scale = (x.max(axis=-1) - lo) / 15
    d = (scale.max(axis=-1, keepdims=True) / 63).astype(np.float16).astype(np.float32)
    dmin = ((-lo).max(axis=-1, keepdims=True) / 63).astype(np.float16).astype(np.float32)
    sc = np.where(d > 0, np.clip(np.rint(scale / np.where(d > 0, d, 1)), 0, 63), 0)
    m = np.where(dmin > 0, np.clip(np.rint(-lo / np.where(dmin > 0, dmin, 1)), 0, 63), 0)
    step, offset = d * sc, dmin * m
    q = np.clip(np.rint((x + offset[..., None]) / np.where(step > 0, step, 1)[..., None]), 0, 15)
    return (step[..., None] * q - offset[..., None]).reshape(rows.shape)


def ggml_quantizer():
    """ggml_quantize_chunk from llama-cpp-python's libggml-base, or None when the venv does not have it."""
    try:
        import llama_cpp
    except ImportError:
        return None
    lib_dir = pathlib.Path(llama_cpp.__file__).parent / "lib"
    lib = ctypes.CDLL(str(lib_dir / "libggml-base.so"))
    fn = lib.ggml_quantize_chunk
    fn.restype = ctypes.c_size_t
    fn.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64, ctypes.c_int64, ctypes.c_int64,
                   ctypes.c_void_p]

    def quantize(rows):
        rows = np.ascontiguousarray(rows, dtype=np.float32)
        out = np.zeros((rows.shape[0], rows.shape[1] // 256 * BLOCK_BYTES), dtype=np.uint8)
        written = fn(int(Q4_K), rows.ctypes.data, out.ctypes.data, 0, rows.shape[0], rows.shape[1], None)
        assert written == out.size, (written, out.size)
        return out
    return quantize


def check_quantizer(tool, rng):
    reference = ggml_quantizer()
    if reference is None:
        print("llama-cpp-python not installed: comparing with the min/max baseline only")
    cases = {
        "normal": rng.standard_normal((64, 1024)) * 0.02,
        "uniform": rng.uniform(-1, 1, (64, 1024)),
        "heavy-tailed": rng.standard_t(3, (64, 1024)) * 0.02,
        "outliers": np.where(rng.random((64, 1024)) < 0.01, 0.5, 0.02) * rng.standard_normal((64, 1024)),
        "positive": np.abs(rng.standard_normal((64, 1024))),
    }
    failures = []
    for name, rows in cases.items():
        rows = rows.astype(np.float32)
        ours = run_tool(tool, "quantize", rows, np.uint8).reshape(rows.shape[0], -1)
        ours_error = rms(gguf.quants.dequantize(ours, Q4_K), rows)
        baseline_error = rms(minmax_grid(rows), rows)
        line = f"{name:>12}: ours {ours_error:.4g}, min/max grid {baseline_error:.4g}"
        if ours_error > baseline_error * 1.0001:
            failures.append(f"{name}: worse than the min/max grid")
        if reference is not None:
            ggml_error = rms(gguf.quants.dequantize(reference(rows), Q4_K), rows)
            line += f", ggml {ggml_error:.4g} (ratio {ours_error / ggml_error:.3f})"
            if ours_error > 1.5 * ggml_error:
                failures.append(f"{name}: more than 1.5x ggml's RMS error")
        print(line)
    assert not failures, "; ".join(failures)


def main():
    tool = sys.argv[1]
    rng = np.random.default_rng(20240601)
    check_dequantize(tool, rng)
    check_quantizer(tool, rng)


if __name__ == "__main__":
    main()
