// core/kernels/cpu/quant_q6_k.cpp — the scalar Q6_K routines: dequantize, the activation quantizer, and the
// reference integer matmul every SIMD version is tested against.
#include "kernels/cpu/quant_q6_k.h"

#include <algorithm>
#include <cmath>

#include "kernels/cpu/fp16.h"

namespace llmatc::cpu {

namespace {

constexpr int kLevelOffset = 32;  // Q6_K stores q + 32 so the 6-bit field is unsigned

// Round half to even of |v| <= 2^22, as nearbyint in the default rounding mode: adding 1.5 * 2^23 leaves the rounded
// value in the low mantissa bits. Unlike nearbyint (a libm call without SSE4.1) it vectorises.
float round_half_even(float v) {
    constexpr float kMagic = 12582912.0f;
    return (v + kMagic) - kMagic;
}

}  // namespace

void dequantize_block_q6_k(const BlockQ6_K* block, float* out) {
    const float d = fp16_to_f32(block->d);
    for (int j = 0; j < kQ6KSubBlocks; ++j) {
        // One rounded F32 product for the sub-block's scale, then one per element, as NumPy computes them.
        const float scale = d * float(block->scales[j]);
        for (int i = 0; i < 16; ++i) {
            const int e = 16 * j + i;
            out[e] = scale * float(q6_k_level(*block, e) - kLevelOffset);
        }
    }
}

void quantize_row_q8k16(const float* x, void* out, int64_t n) {
    auto* blocks = static_cast<BlockQ8K16*>(out);
    for (int64_t b = 0; b < n / kQ6KBlock; ++b) {
        const float* xb = x + b * kQ6KBlock;
        BlockQ8K16& block = blocks[b];
        float amax = 0.0f;
        for (int i = 0; i < kQ6KBlock; ++i) amax = std::max(amax, std::fabs(xb[i]));
        // The same scale and rounding as quantize_row_q8k (quant_q4_k.cpp), so Q4_K, Q5_K and Q6_K matrices of one
        // model see the same activation values.
        const float d = amax / 127.0f;
        const float inv_d = d != 0.0f ? 1.0f / d : 0.0f;
        block.d = d;
        for (int i = 0; i < kQ6KBlock; ++i) block.qs[i] = int8_t(round_half_even(xb[i] * inv_d));  // |.| <= 127
        for (int j = 0; j < kQ6KSubBlocks; ++j) {
            int sum = 0;
            for (int i = 16 * j; i < 16 * j + 16; ++i) sum += block.qs[i];
            block.sums[j] = int16_t(sum);
        }
    }
}

void matmul_rows_q6_k_scalar(const MatmulProblem& p, int64_t row_begin, int64_t row_end) {
    const int64_t blocks = p.cols / kQ6KBlock;
    const auto* weights = static_cast<const BlockQ6_K*>(p.w);
    for (int64_t i = 0; i < p.n; ++i) {
        const auto* xq = static_cast<const BlockQ8K16*>(p.x_q8) + i * blocks;
        for (int64_t r = row_begin; r < row_end; ++r) {
            float sum = 0.0f;
            for (int64_t b = 0; b < blocks; ++b) {
                const BlockQ6_K& w = weights[r * blocks + b];
                const BlockQ8K16& x = xq[b];
                // |total| <= 16 * 128 * 16 * 63 * 127: int32 holds it.
                int32_t total = 0;
                for (int j = 0; j < kQ6KSubBlocks; ++j) {
                    int32_t dot = 0;
                    for (int e = 16 * j; e < 16 * j + 16; ++e) dot += int32_t(q6_k_level(w, e)) * int32_t(x.qs[e]);
                    total += int32_t(w.scales[j]) * (dot - kLevelOffset * int32_t(x.sums[j]));
                }
                sum += x.d * (fp16_to_f32(w.d) * float(total));
            }
            p.y[i * p.rows + r] = sum;
        }
    }
}

}  // namespace llmatc::cpu
