// core/kernels/cpu/quant_blocks.h — the GGUF block-quantized layouts (Q8_0, Q4_0) and their scalar quantize /
// dequantize routines, shared by weight preparation, every ISA's kernels and the tests.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "kernels/cpu/fp16.h"

namespace llmatc::cpu {

constexpr int64_t kQuantBlock = 32;  // elements per Q8_0 / Q4_0 block

// 32 values = d * qs[i]; d is an IEEE half. 34 bytes, as in GGUF.
struct BlockQ8_0 {
    uint16_t d;
    int8_t qs[32];
};
// 32 values = d * (nibble - 8); byte j holds element j in its low nibble and element j + 16 in its high nibble.
struct BlockQ4_0 {
    uint16_t d;
    uint8_t qs[16];
};
static_assert(sizeof(BlockQ8_0) == 34, "Q8_0 block must match GGUF's 34 bytes");
static_assert(sizeof(BlockQ4_0) == 18, "Q4_0 block must match GGUF's 18 bytes");

// Symmetric 8-bit: d = max|x| / 127, q = round-half-even(x / d). Every ISA's activation quantizer must give the
// same result (they use the same rounding), so integer dot products agree across ISAs.
inline void quantize_block_q8_0(const float* x, BlockQ8_0* out) {
    float amax = 0.0f;
    for (int i = 0; i < 32; ++i) amax = std::max(amax, std::fabs(x[i]));
    const float d = amax / 127.0f;
    const float inv_d = d != 0.0f ? 1.0f / d : 0.0f;
    out->d = f32_to_fp16(d);
    for (int i = 0; i < 32; ++i) out->qs[i] = int8_t(std::nearbyint(x[i] * inv_d));
}

// 4-bit with the signed extreme mapped to -8 (GGUF's Q4_0 rule): d = extreme / -8, q = clamp(x / d + 8).
inline void quantize_block_q4_0(const float* x, BlockQ4_0* out) {
    float amax = 0.0f;
    float extreme = 0.0f;
    for (int i = 0; i < 32; ++i) {
        if (std::fabs(x[i]) > amax) {
            amax = std::fabs(x[i]);
            extreme = x[i];
        }
    }
    const float d = extreme / -8.0f;
    const float inv_d = d != 0.0f ? 1.0f / d : 0.0f;
    out->d = f32_to_fp16(d);
    for (int j = 0; j < 16; ++j) {
        const int lo = std::min(15, int(x[j] * inv_d + 8.5f));
        const int hi = std::min(15, int(x[j + 16] * inv_d + 8.5f));
        out->qs[j] = uint8_t(lo | (hi << 4));
    }
}

inline void dequantize_block_q8_0(const BlockQ8_0* b, float* out) {
    const float d = fp16_to_f32(b->d);
    for (int i = 0; i < 32; ++i) out[i] = d * float(b->qs[i]);
}

inline void dequantize_block_q4_0(const BlockQ4_0* b, float* out) {
    const float d = fp16_to_f32(b->d);
    for (int j = 0; j < 16; ++j) {
        out[j] = d * float(int(b->qs[j] & 0x0f) - 8);
        out[j + 16] = d * float(int(b->qs[j] >> 4) - 8);
    }
}

}  // namespace llmatc::cpu
