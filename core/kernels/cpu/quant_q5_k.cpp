// core/kernels/cpu/quant_q5_k.cpp — the scalar Q5_K routines: dequantize and the reference integer matmul every
// SIMD version is tested against.
#include "kernels/cpu/quant_q5_k.h"

#include "kernels/cpu/fp16.h"

namespace llmatc::cpu {

void dequantize_block_q5_k(const BlockQ5_K* block, float* out) {
    uint8_t sc[kQ4KSubBlocks], m[kQ4KSubBlocks];
    unpack_q4_k_scales(block->scales, sc, m);
    const float d = fp16_to_f32(block->d);
    const float dmin = fp16_to_f32(block->dmin);
    for (int s = 0; s < kQ4KSubBlocks; ++s) {
        const float step = d * float(sc[s]), offset = dmin * float(m[s]);
        for (int l = 0; l < 32; ++l) {
            // A rounded F32 product, then the subtraction, as NumPy computes it: volatile keeps a compiler that
            // contracts to fused multiply-add from skipping the product's rounding.
            const volatile float scaled = step * float(q5_k_level(*block, 32 * s + l));
            out[32 * s + l] = scaled - offset;
        }
    }
}

void matmul_rows_q5_k_scalar(const MatmulProblem& p, int64_t row_begin, int64_t row_end) {
    const int64_t blocks = p.cols / kQ5KBlock;
    const auto* weights = static_cast<const BlockQ5_K*>(p.w);
    for (int64_t i = 0; i < p.n; ++i) {
        const auto* xq = static_cast<const BlockQ8K*>(p.x_q8) + i * blocks;
        for (int64_t r = row_begin; r < row_end; ++r) {
            float sum = 0.0f;
            for (int64_t b = 0; b < blocks; ++b) {
                const BlockQ5_K& w = weights[r * blocks + b];
                const BlockQ8K& x = xq[b];
                uint8_t sc[kQ4KSubBlocks], m[kQ4KSubBlocks];
                unpack_q4_k_scales(w.scales, sc, m);
                int32_t dot[kQ4KSubBlocks] = {0, 0, 0, 0, 0, 0, 0, 0};
                // BlockQ8K's order (quant_q4_k.h): byte b of half h pairs with the low nibbles of weight byte
                // 64h + b (element 64c + l, c = 2h + b / 32, l = b % 32), byte 64 + b with its high nibbles.
                for (int h = 0; h < 2; ++h)
                    for (int byte = 0; byte < 64; ++byte) {
                        const int c = 2 * h + byte / 32, l = byte % 32;
                        dot[2 * c] += int32_t(q5_k_level(w, 64 * c + l)) * int32_t(x.qs[128 * h + byte]);
                        dot[2 * c + 1] += int32_t(q5_k_level(w, 64 * c + 32 + l)) * int32_t(x.qs[128 * h + 64 + byte]);
                    }
                int32_t scaled = 0, offset = 0;
                for (int s = 0; s < kQ4KSubBlocks; ++s) {
                    scaled += int32_t(sc[s]) * dot[s];
                    offset += int32_t(m[s]) * int32_t(x.sums[s]);
                }
                sum += x.d * (fp16_to_f32(w.d) * float(scaled) - fp16_to_f32(w.dmin) * float(offset));
            }
            p.y[i * p.rows + r] = sum;
        }
    }
}

}  // namespace llmatc::cpu
