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
# The pass above runs the CPU's best kernels; the quantized-model tests run again on each lower level whose quantized
# kernels differ (AVX2's vpmaddubsw, AVX-VNNI's vpdpbusd on 256 bits: what CPUs without AVX-512 get), against the same
# references (llama.cpp's logits, the F32 model).
flags=$(grep -m1 '^flags' /proc/cpuinfo || true)
lower_levels=()
if grep -qw avx512f <<<"$flags"; then
    lower_levels+=(avx2)
    if grep -qw avx_vnni <<<"$flags"; then lower_levels+=(avx2-vnni); fi
elif grep -qw avx_vnni <<<"$flags"; then
    lower_levels+=(avx2)
fi
for level in "${lower_levels[@]}"; do
    echo "== end-to-end quantized-model tests on the $level kernels (LLMATC_CPU_ISA=$level)"
    LLMATC_CPU_ISA=$level .venv/bin/python -m pytest -q tests/e2e/test_k_quant_mixes.py tests/e2e/test_q4_k_gguf.py \
        tests/e2e/test_quantization.py tests/e2e/test_gguf.py "$@"
done
