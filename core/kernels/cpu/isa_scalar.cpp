// core/kernels/cpu/isa_scalar.cpp — the portable inner loops: the fallback on CPUs without AVX2, and the simplest
// statement of what every ISA's kernels compute.
#include <cmath>

#include "kernels/cpu/fp16.h"
#include "kernels/cpu/isa_kernels.h"
#include "kernels/cpu/quant_blocks.h"
#include "kernels/cpu/quant_q4_k.h"
#include "kernels/cpu/quant_q5_k.h"
#include "kernels/cpu/quant_q6_k.h"

namespace llmatc::cpu {

namespace {

template <class LoadWeight>
void matmul_rows_float(const MatmulProblem& p, int64_t row_begin, int64_t row_end, LoadWeight load) {
    for (int64_t i = 0; i < p.n; ++i) {
        const float* x = p.x + i * p.cols;
        for (int64_t r = row_begin; r < row_end; ++r) {
            // Four partial sums: lets the compiler overlap additions, and keeps rounding close to the SIMD paths.
            float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
            int64_t k = 0;
            for (; k + 4 <= p.cols; k += 4) {
                s0 += x[k] * load(r, k);
                s1 += x[k + 1] * load(r, k + 1);
                s2 += x[k + 2] * load(r, k + 2);
                s3 += x[k + 3] * load(r, k + 3);
            }
            for (; k < p.cols; ++k) s0 += x[k] * load(r, k);
            p.y[i * p.rows + r] = (s0 + s1) + (s2 + s3);
        }
    }
}

void matmul_rows_quantized(const MatmulProblem& p, int64_t row_begin, int64_t row_end) {
    const int64_t blocks = p.cols / kQuantBlock;
    for (int64_t i = 0; i < p.n; ++i) {
        const auto* xq = static_cast<const BlockQ8_0*>(p.x_q8) + i * blocks;
        for (int64_t r = row_begin; r < row_end; ++r) {
            float sum = 0.0f;
            for (int64_t b = 0; b < blocks; ++b) {
                int32_t isum = 0;
                float dw;
                if (p.dtype == LLMATC_DTYPE_Q8_0) {
                    const auto& wb = static_cast<const BlockQ8_0*>(p.w)[r * blocks + b];
                    for (int j = 0; j < 32; ++j) isum += int32_t(wb.qs[j]) * int32_t(xq[b].qs[j]);
                    dw = fp16_to_f32(wb.d);
                } else {
                    const auto& wb = static_cast<const BlockQ4_0*>(p.w)[r * blocks + b];
                    for (int j = 0; j < 16; ++j) {
                        isum += (int32_t(wb.qs[j] & 0x0f) - 8) * int32_t(xq[b].qs[j]);
                        isum += (int32_t(wb.qs[j] >> 4) - 8) * int32_t(xq[b].qs[j + 16]);
                    }
                    dw = fp16_to_f32(wb.d);
                }
                sum += float(isum) * (dw * fp16_to_f32(xq[b].d));
            }
            p.y[i * p.rows + r] = sum;
        }
    }
}

void matmul_rows(const MatmulProblem& p, int64_t row_begin, int64_t row_end) {
    switch (p.dtype) {
        case LLMATC_DTYPE_F32: {
            const auto* w = static_cast<const float*>(p.w);
            matmul_rows_float(p, row_begin, row_end, [&](int64_t r, int64_t k) { return w[r * p.cols + k]; });
            return;
        }
        case LLMATC_DTYPE_F16: {
            const auto* w = static_cast<const uint16_t*>(p.w);
            matmul_rows_float(p, row_begin, row_end,
                              [&](int64_t r, int64_t k) { return fp16_to_f32(w[r * p.cols + k]); });
            return;
        }
        case LLMATC_DTYPE_BF16: {
            const auto* w = static_cast<const uint16_t*>(p.w);
            matmul_rows_float(p, row_begin, row_end,
                              [&](int64_t r, int64_t k) { return bf16_to_f32(w[r * p.cols + k]); });
            return;
        }
        case LLMATC_DTYPE_Q8_0:
        case LLMATC_DTYPE_Q4_0: matmul_rows_quantized(p, row_begin, row_end); return;
        case LLMATC_DTYPE_Q4_K: matmul_rows_q4_k_scalar(p, row_begin, row_end); return;
        case LLMATC_DTYPE_Q6_K: matmul_rows_q6_k_scalar(p, row_begin, row_end); return;
        case LLMATC_DTYPE_Q5_K: matmul_rows_q5_k_scalar(p, row_begin, row_end); return;
        default: return;  // weight_create admits no other storage type
    }
}

void quantize_row_q8_0(const float* x, void* out, int64_t n) {
    auto* blocks = static_cast<BlockQ8_0*>(out);
    for (int64_t b = 0; b < n / kQuantBlock; ++b) quantize_block_q8_0(x + b * kQuantBlock, blocks + b);
}

void silu_mul(const float* gate, const float* up, int64_t n, float* out) {
    for (int64_t i = 0; i < n; ++i) out[i] = gate[i] / (1.0f + std::exp(-gate[i])) * up[i];
}

}  // namespace

const IsaKernels& isa_kernels_scalar() {
    static const IsaKernels kernels{Isa::scalar, "scalar", matmul_rows, quantize_row_q8_0, false, false, nullptr,
                                    false, silu_mul};
    return kernels;
}

}  // namespace llmatc::cpu
