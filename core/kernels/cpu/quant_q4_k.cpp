// core/kernels/cpu/quant_q4_k.cpp — the scalar Q4_K routines: scale packing, dequantize, the quantizer used at
// load, the activation quantizer, and the reference integer matmul every SIMD version is tested against.
#include "kernels/cpu/quant_q4_k.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "kernels/cpu/fp16.h"

namespace llmatc::cpu {

namespace {

constexpr int kNibbleMax = 15;
constexpr int kSixBitMax = 63;

int round_to_int(float v) { return int(std::nearbyint(v)); }

// Round half to even for the level search, where |v| stays small: adding 1.5 * 2^23 leaves the rounded value in the
// low mantissa bits. Much cheaper than nearbyint (a libm call without SSE4.1), and the search calls it most.
int round_level(float v) {
    v = std::clamp(v, -1.0f, float(kNibbleMax + 1));
    constexpr float kMagic = 12582912.0f;
    return int((v + kMagic) - kMagic);
}

// The 4-bit levels of 32 values for a given scale and (non-positive) offset: L = round((x - offset) / scale).
void levels_for(const float* x, float inv_scale, float offset, uint8_t* levels) {
    for (int i = 0; i < 32; ++i)
        levels[i] = uint8_t(std::clamp(round_level(inv_scale * (x[i] - offset)), 0, kNibbleMax));
}

float weighted_error(const float* x, const float* weight, const uint8_t* levels, float scale, float offset) {
    float error = 0.0f;
    for (int i = 0; i < 32; ++i) {
        const float diff = scale * float(levels[i]) + offset - x[i];
        error += weight[i] * diff * diff;
    }
    return error;
}

// Fits x ~ scale * L + offset (offset <= 0) for one sub-block of 32 values, minimising sum weight * err^2 over a
// few candidate scales: each candidate fixes the levels L, then scale and offset are the weighted least-squares
// solution for those levels. Returns scale and -offset (the positive "min" Q4_K stores).
void fit_sub_block(const float* x, const float* weight, float& scale_out, float& min_out) {
    float lo = x[0], hi = x[0];
    for (int i = 1; i < 32; ++i) {
        lo = std::min(lo, x[i]);
        hi = std::max(hi, x[i]);
    }
    lo = std::min(lo, 0.0f);  // Q4_K reconstructs d*sc*q - dmin*m with m >= 0, so the offset cannot be positive
    if (hi <= lo) {
        scale_out = 0.0f;
        min_out = -lo;
        return;
    }
    uint8_t levels[32], trial[32];
    float best_scale = (hi - lo) / kNibbleMax;
    float best_offset = lo;
    levels_for(x, 1.0f / best_scale, lo, levels);
    float best_error = weighted_error(x, weight, levels, best_scale, best_offset);

    float sxx = 0;
    for (int i = 0; i < 32; ++i) sxx += weight[i] * x[i] * x[i];

    constexpr int kSteps = 20;
    constexpr float kFirstDelta = -1.0f, kDeltaStep = 0.1f;
    for (int step = 0; step <= kSteps; ++step) {
        const float inv_scale = (kFirstDelta + kDeltaStep * float(step) + kNibbleMax) / (hi - lo);
        levels_for(x, inv_scale, lo, trial);
        float sw = 0, sl = 0, sll = 0, sx = 0, slx = 0;
        for (int i = 0; i < 32; ++i) {
            const float w = weight[i], l = trial[i];
            sw += w;
            sl += w * l;
            sll += w * l * l;
            sx += w * x[i];
            slx += w * l * x[i];
        }
        const float det = sw * sll - sl * sl;
        if (det <= 0) continue;
        float scale = (sw * slx - sx * sl) / det;
        float offset = (sll * sx - sl * slx) / det;
        if (offset > 0) {  // refit with the offset pinned at zero
            offset = 0.0f;
            scale = sll > 0 ? slx / sll : 0.0f;
        }
        // sum w (scale L + offset - x)^2, expanded over the sums already taken (no second pass over the values).
        const float error = scale * scale * sll + 2 * scale * offset * sl + offset * offset * sw -
                            2 * scale * slx - 2 * offset * sx + sxx;
        if (error < best_error) {
            best_error = error;
            best_scale = scale;
            best_offset = offset;
            std::memcpy(levels, trial, sizeof levels);
        }
    }
    scale_out = best_scale;
    min_out = -best_offset;
}

void pack_scales(const uint8_t sc[kQ4KSubBlocks], const uint8_t m[kQ4KSubBlocks], uint8_t packed[12]) {
    for (int j = 0; j < 4; ++j) {
        packed[j] = uint8_t((sc[j] & 0x3f) | ((sc[j + 4] >> 4) << 6));
        packed[j + 4] = uint8_t((m[j] & 0x3f) | ((m[j + 4] >> 4) << 6));
        packed[j + 8] = uint8_t((sc[j + 4] & 0x0f) | ((m[j + 4] & 0x0f) << 4));
    }
}

}  // namespace

void unpack_q4_k_scales(const uint8_t packed[12], uint8_t scales[kQ4KSubBlocks], uint8_t mins[kQ4KSubBlocks]) {
    for (int j = 0; j < 4; ++j) {
        scales[j] = packed[j] & 0x3f;
        mins[j] = packed[j + 4] & 0x3f;
        scales[j + 4] = uint8_t((packed[j + 8] & 0x0f) | ((packed[j] >> 6) << 4));
        mins[j + 4] = uint8_t((packed[j + 8] >> 4) | ((packed[j + 4] >> 6) << 4));
    }
}

void dequantize_block_q4_k(const BlockQ4_K* block, float* out) {
    uint8_t sc[kQ4KSubBlocks], m[kQ4KSubBlocks];
    unpack_q4_k_scales(block->scales, sc, m);
    const float d = fp16_to_f32(block->d);
    const float dmin = fp16_to_f32(block->dmin);
    for (int c = 0; c < 4; ++c) {
        const uint8_t* q = block->qs + 32 * c;
        const float d_lo = d * float(sc[2 * c]), m_lo = dmin * float(m[2 * c]);
        const float d_hi = d * float(sc[2 * c + 1]), m_hi = dmin * float(m[2 * c + 1]);
        for (int l = 0; l < 32; ++l) {
            // A rounded F32 product, then the subtraction, as NumPy computes it: volatile keeps a compiler that
            // contracts to fused multiply-add (the default on some targets) from skipping the product's rounding.
            const volatile float lo = d_lo * float(q[l] & 0x0f);
            const volatile float hi = d_hi * float(q[l] >> 4);
            out[64 * c + l] = lo - m_lo;
            out[64 * c + 32 + l] = hi - m_hi;
        }
    }
}

void quantize_block_q4_k(const float* x, BlockQ4_K* out) {
    float sum_squares = 0.0f;
    for (int i = 0; i < kQ4KBlock; ++i) sum_squares += x[i] * x[i];
    const float typical = std::sqrt(sum_squares / float(kQ4KBlock));

    float scales[kQ4KSubBlocks], mins[kQ4KSubBlocks];
    float max_scale = 0.0f, max_min = 0.0f;
    for (int s = 0; s < kQ4KSubBlocks; ++s) {
        float weight[32];
        for (int i = 0; i < 32; ++i) weight[i] = typical + std::fabs(x[32 * s + i]);
        fit_sub_block(x + 32 * s, weight, scales[s], mins[s]);
        max_scale = std::max(max_scale, scales[s]);
        max_min = std::max(max_min, mins[s]);
    }
    const float inv_scale = max_scale > 0 ? kSixBitMax / max_scale : 0.0f;
    const float inv_min = max_min > 0 ? kSixBitMax / max_min : 0.0f;
    uint8_t sc[kQ4KSubBlocks], m[kQ4KSubBlocks];
    for (int s = 0; s < kQ4KSubBlocks; ++s) {
        sc[s] = uint8_t(std::min(kSixBitMax, round_to_int(inv_scale * scales[s])));
        m[s] = uint8_t(std::min(kSixBitMax, round_to_int(inv_min * mins[s])));
    }
    pack_scales(sc, m, out->scales);
    out->d = f32_to_fp16(max_scale / kSixBitMax);
    out->dmin = f32_to_fp16(max_min / kSixBitMax);

    // Levels against the scales as they will be decoded (half-precision d, 6-bit sc), not the fitted ones.
    const float d = fp16_to_f32(out->d), dmin = fp16_to_f32(out->dmin);
    uint8_t levels[kQ4KBlock];
    for (int s = 0; s < kQ4KSubBlocks; ++s) {
        const float step = d * float(sc[s]);
        const float offset = dmin * float(m[s]);
        for (int i = 0; i < 32; ++i) {
            const int l = step != 0.0f ? round_level((x[32 * s + i] + offset) / step) : 0;
            levels[32 * s + i] = uint8_t(std::clamp(l, 0, kNibbleMax));
        }
    }
    for (int c = 0; c < 4; ++c)
        for (int l = 0; l < 32; ++l)
            out->qs[32 * c + l] = uint8_t(levels[64 * c + l] | (levels[64 * c + 32 + l] << 4));
}

void quantize_row_q8k(const float* x, void* out, int64_t n) {
    auto* blocks = static_cast<BlockQ8K*>(out);
    for (int64_t b = 0; b < n / kQ4KBlock; ++b) {
        const float* xb = x + b * kQ4KBlock;
        BlockQ8K& block = blocks[b];
        float amax = 0.0f;
        for (int i = 0; i < kQ4KBlock; ++i) amax = std::max(amax, std::fabs(xb[i]));
        const float d = amax / 127.0f;
        const float inv_d = d != 0.0f ? 1.0f / d : 0.0f;
        block.d = d;
        int8_t q[kQ4KBlock];
        // Round half to even as nearbyint does (|x * inv_d| <= 127): the 1.5 * 2^23 trick, which vectorises where
        // nearbyint is a libm call per value (3% of a Q4_K_M decode step).
        constexpr float kMagic = 12582912.0f;
        for (int i = 0; i < kQ4KBlock; ++i) q[i] = int8_t((xb[i] * inv_d + kMagic) - kMagic);
        for (int s = 0; s < kQ4KSubBlocks; ++s) {
            int sum = 0;
            for (int i = 0; i < 32; ++i) sum += q[32 * s + i];
            block.sums[s] = int16_t(sum);
        }
        for (int h = 0; h < 2; ++h)
            for (int byte = 0; byte < 64; ++byte) {
                const int element = 64 * (2 * h + byte / 32) + byte % 32;
                block.qs[128 * h + byte] = q[element];
                block.qs[128 * h + 64 + byte] = q[element + 32];
            }
    }
}

void matmul_rows_q4_k_scalar(const MatmulProblem& p, int64_t row_begin, int64_t row_end) {
    const int64_t blocks = p.cols / kQ4KBlock;
    const auto* weights = static_cast<const BlockQ4_K*>(p.w);
    for (int64_t i = 0; i < p.n; ++i) {
        const auto* xq = static_cast<const BlockQ8K*>(p.x_q8) + i * blocks;
        for (int64_t r = row_begin; r < row_end; ++r) {
            float sum = 0.0f;
            for (int64_t b = 0; b < blocks; ++b) {
                const BlockQ4_K& w = weights[r * blocks + b];
                const BlockQ8K& x = xq[b];
                uint8_t sc[kQ4KSubBlocks], m[kQ4KSubBlocks];
                unpack_q4_k_scales(w.scales, sc, m);
                int32_t dot[kQ4KSubBlocks] = {0, 0, 0, 0, 0, 0, 0, 0};
                for (int h = 0; h < 2; ++h)
                    for (int byte = 0; byte < 64; ++byte) {
                        const uint8_t packed = w.qs[64 * h + byte];
                        const int sub = 2 * (2 * h + byte / 32);  // low nibble's sub-block; the high one is next
                        dot[sub] += int32_t(packed & 0x0f) * int32_t(x.qs[128 * h + byte]);
                        dot[sub + 1] += int32_t(packed >> 4) * int32_t(x.qs[128 * h + 64 + byte]);
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
