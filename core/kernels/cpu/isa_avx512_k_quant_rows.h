// core/kernels/cpu/isa_avx512_k_quant_rows.h — what the AVX-512 K-quant kernels (Q4_K, Q5_K, Q6_K) share: the VNNI
// check, the scale spread of the Q4_K/Q5_K sub-block order, a 128-bit sum, and the loop over activation-row tiles.
// Include only from files compiled with the AVX-512 flags.
#pragma once

#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <type_traits>

#include "kernels/cpu/isa_kernels.h"

namespace llmatc::cpu::k_quant {

// AVX-512 VNNI (vpdpbusd) is present: the K-quant kernels fall back to their scalar versions without it.
inline bool cpu_has_vnni() {
    static const bool has = [] {
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx512vnni") != 0;
    }();
    return has;
}

// vpermw indices spreading the 8 int16 sub-block scales of a Q4_K / Q5_K super-block over the packed products of
// half h: 128-bit lanes 0-1 hold chunk 2h (low levels: sub-block 4h, high: 4h + 1), lanes 2-3 chunk 2h + 1
// (sub-blocks 4h + 2, 4h + 3).
inline __m512i q4_k_scale_spread(int h) {
    const short a = short(4 * h), b = short(4 * h + 1), c = short(4 * h + 2), e = short(4 * h + 3);
    return _mm512_set_epi16(e, e, e, e, c, c, c, c, e, e, e, e, c, c, c, c,
                            b, b, b, b, a, a, a, a, b, b, b, b, a, a, a, a);
}

inline float reduce_128(__m128 v) {
    v = _mm_add_ps(v, _mm_movehl_ps(v, v));
    v = _mm_add_ss(v, _mm_movehdup_ps(v));
    return _mm_cvtss_f32(v);
}

// Rows [row_begin, row_end) of y = x · W^T for a weight stored row by row as `blocks` super-blocks (WBlock) and
// activations as `blocks` XBlocks per row: activation rows go in blocks of 64 kept hot in L2 while the weight rows
// pass, in tiles of 4 (then 3, 2, 1) rows that share each unpacked weight block. `tile(std::integral_constant<int,
// NX>, x, blocks, w_row, y, ldy)` computes NX activation rows times one weight row.
template <typename WBlock, typename XBlock, typename Tile>
void matmul_rows_by_tiles(const MatmulProblem& p, int64_t row_begin, int64_t row_end, int64_t blocks, Tile tile) {
    const auto* w = static_cast<const WBlock*>(p.w);
    const auto* xq = static_cast<const XBlock*>(p.x_q8);
    constexpr int64_t kXBlockRows = 64;
    for (int64_t xb = 0; xb < p.n; xb += kXBlockRows) {
        const int64_t nb = std::min(kXBlockRows, p.n - xb);
        for (int64_t r = row_begin; r < row_end; ++r) {
            const WBlock* w_row = w + r * blocks;
            auto run = [&](auto nx, int64_t i) {
                tile(nx, xq + (xb + i) * blocks, blocks, w_row, p.y + (xb + i) * p.rows + r, p.rows);
            };
            int64_t i = 0;
            for (; i + 4 <= nb; i += 4) run(std::integral_constant<int, 4>{}, i);
            switch (nb - i) {
                case 3: run(std::integral_constant<int, 3>{}, i); break;
                case 2: run(std::integral_constant<int, 2>{}, i); break;
                case 1: run(std::integral_constant<int, 1>{}, i); break;
                default: break;
            }
        }
    }
}

}  // namespace llmatc::cpu::k_quant
