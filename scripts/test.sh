#!/usr/bin/env bash
# scripts/test.sh — sets everything up on Debian 12, builds, and runs every test (C++ unit tests, then end-to-end pytest).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
export LLMATC_SHARED="${LLMATC_SHARED:-$(cd .. && pwd)/shared}"
export LLMATC_BUILD_DIR="$(pwd)/build"
echo "== C++ tests"
meson test -C build --print-errorlogs --num-processes 2
echo "== end-to-end tests"
.venv/bin/python -m pytest -q tests/e2e "$@"
# On AVX-512 machines the pass above runs the AVX-512 kernels; the quantized-model tests run again on the AVX2 ones
# (what a CPU without AVX-512 gets), against the same references (llama.cpp's logits, the F32 model).
if grep -qw avx512f /proc/cpuinfo && grep -qw avx2 /proc/cpuinfo; then
    echo "== end-to-end quantized-model tests on the AVX2 kernels (LLMATC_CPU_ISA=avx2)"
    LLMATC_CPU_ISA=avx2 .venv/bin/python -m pytest -q tests/e2e/test_k_quant_mixes.py tests/e2e/test_q4_k_gguf.py \
        tests/e2e/test_quantization.py tests/e2e/test_gguf.py "$@"
fi
