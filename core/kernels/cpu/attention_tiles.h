// core/kernels/cpu/attention_tiles.h — the inner loops of tiled paged attention (one implementation per instruction
// set: scalar, AVX2, AVX-512), chosen at run time like IsaKernels. cpu_attention.cpp stages a tile of keys and values
// as F32 rows once and runs every query head of a KV group (and several query rows) over it with these.
#pragma once

#include <cstdint>

#include "kernels/cpu/isa_kernels.h"

namespace llmatc::cpu {

// Staged rows are padded to a multiple of this many floats (zeros past the head width), so that every loop below
// runs whole vectors.
constexpr int32_t kAttentionRowPad = 16;
// dot_rows produces scores in groups of this many rows.
constexpr int32_t kAttentionScoreGroup = 8;

struct AttentionTileKernels {
    // dst[0, n) = src[0, n) as F32 (IEEE half or F32 source); dst[n, n_pad) = 0. n_pad is a multiple of
    // kAttentionRowPad and >= n.
    void (*load_row_f16)(float* dst, const uint16_t* src, int32_t n, int32_t n_pad);
    void (*load_row_f32)(float* dst, const float* src, int32_t n, int32_t n_pad);
    // dst[i] = src[i] as IEEE half, rounded to nearest even (what f32_to_fp16 computes), for i < n.
    void (*store_row_f16)(uint16_t* dst, const float* src, int64_t n);
    // scores[t] = sum_i q[i] * k[t * d_pad + i] for t < n_rows rounded up to kAttentionScoreGroup; k must hold that
    // many rows (zeros past n_rows) and scores that many floats. d_pad is a multiple of kAttentionRowPad.
    void (*dot_rows)(const float* q, const float* k, int32_t d_pad, int32_t n_rows, float* scores);
    // dot_rows for two query vectors over the same keys, each result bit-identical to dot_rows' (the keys are
    // loaded once for both).
    void (*dot_rows2)(const float* q0, const float* q1, const float* k, int32_t d_pad, int32_t n_rows, float* scores0,
                      float* scores1);
    // The largest of s[0, n); n >= 1.
    float (*max_of)(const float* s, int32_t n);
    // s[t] = exp(s[t] - max) for t < n (max >= every s[t]); returns their sum. Terms below e^-87 become 0.
    float (*exp_sum)(float* s, int32_t n, float max);
    // o[0, d_pad) = o * rescale + sum_{t < n_rows} p[t] * v[t * d_pad ..] (the online-softmax update).
    void (*accumulate)(float* o, float rescale, const float* p, const float* v, int32_t n_rows, int32_t d_pad);
    // accumulate for two outputs over the same values, each bit-identical to accumulate's.
    void (*accumulate2)(float* o0, float* o1, float rescale0, float rescale1, const float* p0, const float* p1,
                        const float* v, int32_t n_rows, int32_t d_pad);
};

// The tile kernels for `isa` (the scalar ones when this build has no x86 kernels).
const AttentionTileKernels& attention_tile_kernels(Isa isa);

}  // namespace llmatc::cpu
