// core/kernels/cpu/isa_avx2_quant_impl.h — the AVX2 matmul loops for Q8_0 / Q4_0 / Q4_K / Q5_K / Q6_K weights in
// the 16-row interleaved layouts (quant_packed.h, quant_q4_k_packed.h, quant_q5_k_packed.h, quant_q6_k_packed.h),
// written once over their 4-byte dot product: kVnni selects AVX-VNNI's vpdpbusd (isa_avx2_vnni_quant.cpp, compiled
// with -mavxvnni), otherwise vpmaddubsw + vpmaddwd (isa_avx2_quant.cpp). Include only from those two files.
//
// vpmaddubsw (unsigned x signed bytes, pairs summed to int16, saturating) then vpmaddwd (int16 pairs summed to
// int32): each kernel keeps its int16 sums below saturation (bounds at each use), so every integer is exact. With
// vpdpbusd, 4 products are summed straight into int32. Either way the integers equal the AVX-512 VNNI kernels', and
// the F32 steps after them are the AVX-512 kernels' own, lane for lane: every ISA gives the same bits.
#pragma once

#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "kernels/cpu/isa_kernels.h"
#include "kernels/cpu/packed_group_tiles.h"
#include "kernels/cpu/quant_blocks.h"
#include "kernels/cpu/quant_packed.h"
#include "kernels/cpu/quant_q4_k_packed.h"
#include "kernels/cpu/quant_q5_k_packed.h"
#include "kernels/cpu/quant_q6_k_packed.h"
#include "kernels/cpu/stream_prefetch.h"

namespace llmatc::cpu::avx2_quant_impl {

inline __m256i broadcast_4_bytes(const int8_t* p) {
    int32_t v;
    std::memcpy(&v, p, 4);
    return _mm256_set1_epi32(v);
}

// Stores one activation row's results for a 16-row group (rows 0-7 in halves[0], 8-15 in halves[1]): the first
// valid_rows of them, as the range's end may cut the group.
inline void store_group_rows(float* y, const __m256 halves[2], int valid_rows) {
    if (valid_rows >= 16) {
        _mm256_storeu_ps(y, halves[0]);
        _mm256_storeu_ps(y + 8, halves[1]);
        return;
    }
    alignas(32) float lanes[16];
    _mm256_store_ps(lanes, halves[0]);
    _mm256_store_ps(lanes + 8, halves[1]);
    std::memcpy(y, lanes, size_t(valid_rows) * sizeof(float));
}

// NX activation rows times one 16-row Q8_0 / Q4_0 group over all blocks. Half h of a 64-byte slice (32 bytes) is
// rows 8h..8h+7; lane r of acc[i][h] is y[i][group row 8h + r].
template <bool kVnni, llmatc_dtype D, int NX>
inline void packed_tile(const uint8_t* act, int64_t act_stride, int64_t cols, int64_t x0, const uint8_t* group,
                        float* y, int64_t ldy, int valid_rows) {
    const int64_t blocks = cols / kQuantBlock;
    const int64_t gb_bytes = D == LLMATC_DTYPE_Q8_0 ? 544 : 288;
    PackedActRow x[NX];
    for (int i = 0; i < NX; ++i) x[i] = packed_act_row(act, act_stride, cols, x0 + i);
    __m256 acc[NX][2];
    for (int i = 0; i < NX; ++i) acc[i][0] = acc[i][1] = _mm256_setzero_ps();
    const __m256i ones = _mm256_set1_epi16(1);
    const __m256i low_mask = _mm256_set1_epi8(0x0f), sign_flip = _mm256_set1_epi8(char(0x80));
    for (int64_t b = 0; b < blocks; ++b) {
        const uint8_t* gb = group + b * gb_bytes;
        prefetch_stream(gb, gb_bytes);
        const uint8_t* payload = gb + 32;
        for (int h = 0; h < 2; ++h) {
            const __m256 w_scales = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(gb + 16 * h)));
            __m256i dot[NX];
            if constexpr (D == LLMATC_DTYPE_Q8_0 && kVnni) {
                // Weights are stored q + 128: sum (q + 128) x - 128 sum x, as the AVX-512 VNNI kernel forms it.
                for (int i = 0; i < NX; ++i) dot[i] = _mm256_setzero_si256();
                for (int s = 0; s < 8; ++s) {
                    const __m256i u = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(payload + 64 * s + 32 * h));
                    for (int i = 0; i < NX; ++i) {
                        const __m256i xs = broadcast_4_bytes(x[i].qs + b * kQuantBlock + 4 * s);
                        dot[i] = _mm256_dpbusd_avx_epi32(dot[i], u, xs);
                    }
                }
                for (int i = 0; i < NX; ++i) dot[i] = _mm256_sub_epi32(dot[i], _mm256_set1_epi32(x[i].sums[b] << 7));
            } else if constexpr (D == LLMATC_DTYPE_Q8_0) {
                // Weights are stored q + 128: flipping the top bit gives q. vpmaddubsw takes |q| (up to 128) as
                // its unsigned operand and the activation with q's sign: |pair| <= 2 * 128 * 127 < 2^15.
                for (int i = 0; i < NX; ++i) dot[i] = _mm256_setzero_si256();
                for (int s = 0; s < 8; ++s) {
                    const __m256i q = _mm256_xor_si256(
                        _mm256_loadu_si256(reinterpret_cast<const __m256i*>(payload + 64 * s + 32 * h)), sign_flip);
                    const __m256i magnitude = _mm256_abs_epi8(q);
                    for (int i = 0; i < NX; ++i) {
                        const __m256i xs = _mm256_sign_epi8(broadcast_4_bytes(x[i].qs + b * kQuantBlock + 4 * s), q);
                        dot[i] = _mm256_add_epi32(dot[i], _mm256_madd_epi16(_mm256_maddubs_epi16(magnitude, xs), ones));
                    }
                }
            } else {
                // Nibbles 0..15 times activations: |pair| <= 2 * 15 * 127, and the 8 pairs summed per int16 lane
                // stay <= 30480 < 2^15. The +8 offset comes off with the block's activation sum.
                __m256i nib[8];
                for (int s = 0; s < 4; ++s) {
                    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(payload + 64 * s + 32 * h));
                    nib[s] = _mm256_and_si256(v, low_mask);                             // elements 4s..4s+3
                    nib[s + 4] = _mm256_and_si256(_mm256_srli_epi16(v, 4), low_mask);  // 16+4s..16+4s+3
                }
                for (int i = 0; i < NX; ++i) {
                    const int8_t* xq = x[i].qs + b * kQuantBlock;
                    if constexpr (kVnni) {
                        __m256i d32 = _mm256_setzero_si256();
                        for (int s = 0; s < 8; ++s)
                            d32 = _mm256_dpbusd_avx_epi32(d32, nib[s], broadcast_4_bytes(xq + 4 * s));
                        dot[i] = _mm256_sub_epi32(d32, _mm256_set1_epi32(x[i].sums[b] << 3));
                        continue;
                    }
                    __m256i pairs = _mm256_maddubs_epi16(nib[0], broadcast_4_bytes(xq));
                    for (int s = 1; s < 8; ++s)
                        pairs = _mm256_add_epi16(pairs, _mm256_maddubs_epi16(nib[s], broadcast_4_bytes(xq + 4 * s)));
                    dot[i] = _mm256_sub_epi32(_mm256_madd_epi16(pairs, ones), _mm256_set1_epi32(x[i].sums[b] << 3));
                }
            }
            for (int i = 0; i < NX; ++i) {
                const __m256 scale = _mm256_mul_ps(w_scales, _mm256_set1_ps(x[i].scales[b]));
                acc[i][h] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(dot[i]), scale, acc[i][h]);
            }
        }
    }
    for (int i = 0; i < NX; ++i) store_group_rows(y + i * ldy, acc[i], valid_rows);
}

template <bool kVnni, llmatc_dtype D>
void packed_matmul(const MatmulProblem& p, int64_t row_begin, int64_t row_end) {
    const int64_t cols = p.cols;
    const int64_t group_bytes = (cols / kQuantBlock) * (D == LLMATC_DTYPE_Q8_0 ? 544 : 288);
    const int64_t stride = packed_act_row_bytes(cols);
    const auto* act = static_cast<const uint8_t*>(p.x_q8);
    const auto* w = static_cast<const uint8_t*>(p.w);
    // Activation rows per tile (kernels-bench GEMM n=128, 2 Zen 5 threads): Q4_0 unpacks its nibbles once for 4 rows
    // (~314 -> ~361 GFLOP/s under avx2); Q8_0 keeps 2 (4 rows: ~302 -> ~287 under avx2, +4% under avx2-vnni).
    constexpr int kTileRows = D == LLMATC_DTYPE_Q4_0 ? 4 : 2;
    for_each_packed_group_tile<kTileRows>(p.n, row_begin, row_end, [&](auto nx, int64_t i, int64_t g, int64_t r,
                                                                       int valid) {
        packed_tile<kVnni, D, decltype(nx)::value>(act, stride, cols, i, w + g * group_bytes, p.y + i * p.rows + r,
                                                   p.rows, valid);
    });
}

// The 8 rows' (half h of a 64-byte word) 6-bit scale of sub-block s as int32 lanes, from scales words 0 and 2
// (quant_q4_k.h's 12-byte encoding; as isa_avx512_q4k.cpp reads it).
inline __m256i q4_k_scale_of(__m256i word0, __m256i word2, int s) {
    const __m256i six = _mm256_set1_epi32(0x3f);
    if (s < 4) return _mm256_and_si256(_mm256_srli_epi32(word0, 8 * s), six);
    const int k = s - 4;
    const __m256i bits_4_5 = _mm256_and_si256(_mm256_srli_epi32(word0, 8 * k + 2), _mm256_set1_epi32(0x30));
    return _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi32(word2, 8 * k), _mm256_set1_epi32(0x0f)), bits_4_5);
}

// The 8 rows' mins of sub-blocks (2p, 2p + 1), p = 0..3, as int16 pairs per int32 lane (low half 2p), for
// vpmaddwd against the activation's (sums[2p], sums[2p + 1]).
inline void q4_k_min_pairs(__m256i word1, __m256i word2, __m256i pair[4]) {
    const __m256i mins_0_3 = _mm256_and_si256(word1, _mm256_set1_epi8(0x3f));
    const __m256i mins_4_7 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi32(word2, 4), _mm256_set1_epi8(0x0f)),
                                             _mm256_and_si256(_mm256_srli_epi32(word1, 2), _mm256_set1_epi8(0x30)));
    const __m256i byte_mask = _mm256_set1_epi32(0xff);
    for (int h = 0; h < 2; ++h) {
        const __m256i m = h == 0 ? mins_0_3 : mins_4_7;
        pair[2 * h] = _mm256_or_si256(_mm256_and_si256(m, byte_mask),
                                      _mm256_slli_epi32(_mm256_and_si256(_mm256_srli_epi32(m, 8), byte_mask), 16));
        pair[2 * h + 1] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi32(m, 16), byte_mask),
                                          _mm256_slli_epi32(_mm256_srli_epi32(m, 24), 16));
    }
}

// Bit `bit` of every byte of v moved to bit 4 (the fifth bit of a Q5_K level), the other bits cleared. The 16-bit
// shifts move at most 4 places, so bit 4 of each byte comes from the same byte.
inline __m256i q5_k_fifth_bit(__m256i v, int bit) {
    const __m256i moved = bit <= 4 ? _mm256_slli_epi16(v, 4 - bit) : _mm256_srli_epi16(v, bit - 4);
    return _mm256_and_si256(moved, _mm256_set1_epi8(0x10));
}

// NX activation rows times one 16-row packed Q4_K group (or Q5_K when kQ5: quant_q5_k_packed.h, the fifth bits
// added to the nibbles) over every super-block (quant_q4_k_packed.h). Lane r of acc[i][h] is y[i][group row 8h + r].
// Per super-block and row: y += x.d * (d * sum_s sc[s] * dot_s - dmin * sum_s m[s] * x.sums[s]). The scaled sum is
// formed as 16 times its value, exactly as the AVX-512 kernel forms it, so the F32 steps and results match it.
template <bool kVnni, bool kQ5, int NX>
inline void q4_k_packed_tile(const BlockQ8K* x, int64_t blocks, const uint8_t* group, float* y, int64_t ldy,
                             int valid_rows) {
    constexpr int64_t kGroupBlockBytes = kQ5 ? kQ5KGroupBlockBytes : kQ4KGroupBlockBytes;
    __m256 acc[NX][2];
    for (int i = 0; i < NX; ++i) acc[i][0] = acc[i][1] = _mm256_setzero_ps();
    const __m256i low_mask = _mm256_set1_epi8(0x0f);
    for (int64_t b = 0; b < blocks; ++b) {
        const uint8_t* gb = group + b * kGroupBlockBytes;
        prefetch_stream(gb, kGroupBlockBytes);
        for (int h = 0; h < 2; ++h) {
            const auto word = [&](int w) {
                return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(gb + kQ4KPackedScales + 64 * w + 32 * h));
            };
            const __m256i word0 = word(0), word1 = word(1), word2 = word(2);
            __m256i offset[NX], scaled[NX];
            {
                __m256i pair[4];
                q4_k_min_pairs(word1, word2, pair);
                for (int i = 0; i < NX; ++i) {
                    const BlockQ8K& xb = x[i * blocks + b];
                    __m256i o = _mm256_setzero_si256();
                    for (int p = 0; p < 4; ++p) {
                        int32_t sums;
                        std::memcpy(&sums, xb.sums + 2 * p, 4);
                        o = _mm256_add_epi32(o, _mm256_madd_epi16(pair[p], _mm256_set1_epi32(sums)));
                    }
                    offset[i] = o;
                    scaled[i] = _mm256_setzero_si256();
                }
            }
            const uint8_t* payload = gb + kQ4KPackedPayload + 32 * h;
            for (int c = 0; c < 4; ++c) {
                __m256i lo[8], hi[8];
                for (int j = 0; j < 8; ++j) {
                    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(payload + 64 * (8 * c + j)));
                    lo[j] = _mm256_and_si256(v, low_mask);
                    hi[j] = _mm256_and_si256(_mm256_srli_epi16(v, 4), low_mask);
                    if constexpr (kQ5) {
                        // Slice j's qh bytes: bit 2c is the fifth bit of the low nibbles, bit 2c + 1 of the high ones.
                        const __m256i qh = _mm256_loadu_si256(
                            reinterpret_cast<const __m256i*>(gb + kQ5KPackedHighBits + 64 * j + 32 * h));
                        lo[j] = _mm256_or_si256(lo[j], q5_k_fifth_bit(qh, 2 * c));
                        hi[j] = _mm256_or_si256(hi[j], q5_k_fifth_bit(qh, 2 * c + 1));
                    }
                }
                // Scales as int16 in both halves of each lane, so vpmaddwd multiplies and adds the pair at once (VNNI:
                // int32, for vpmulld).
                const auto spread16 = [](__m256i s) {
                    return kVnni ? s : _mm256_or_si256(s, _mm256_slli_epi32(s, 16));
                };
                const __m256i sc_lo = spread16(q4_k_scale_of(word0, word2, 2 * c));
                const __m256i sc_hi = spread16(q4_k_scale_of(word0, word2, 2 * c + 1));
                for (int i = 0; i < NX; ++i) {
                    // Chunk c's low-nibble elements are sub-block 2c; the high ones (2c + 1) sit 64 bytes on.
                    const int8_t* q = x[i * blocks + b].qs + q8k_sub_block_offset(2 * c);
                    if constexpr (kVnni) {
                        // The same integers: each lane's 32 products summed in int32, times the sub-block's scale.
                        __m256i a = _mm256_setzero_si256(), d = _mm256_setzero_si256();
                        for (int j = 0; j < 8; ++j) {
                            a = _mm256_dpbusd_avx_epi32(a, lo[j], broadcast_4_bytes(q + 4 * j));
                            d = _mm256_dpbusd_avx_epi32(d, hi[j], broadcast_4_bytes(q + 64 + 4 * j));
                        }
                        scaled[i] = _mm256_add_epi32(scaled[i], _mm256_add_epi32(_mm256_mullo_epi32(a, sc_lo),
                                                                                  _mm256_mullo_epi32(d, sc_hi)));
                        continue;
                    }
                    // Q4_K: 8 pair sums of <= 2 * 15 * 127 per int16 lane, <= 30480 < 2^15. Q5_K's levels reach 31:
                    // 4 pair sums, <= 31496, per vpmaddwd.
                    constexpr int kRun = kQ5 ? 4 : 8;
                    for (int j0 = 0; j0 < 8; j0 += kRun) {
                        __m256i a = _mm256_maddubs_epi16(lo[j0], broadcast_4_bytes(q + 4 * j0));
                        __m256i d = _mm256_maddubs_epi16(hi[j0], broadcast_4_bytes(q + 64 + 4 * j0));
                        for (int j = j0 + 1; j < j0 + kRun; ++j) {
                            a = _mm256_add_epi16(a, _mm256_maddubs_epi16(lo[j], broadcast_4_bytes(q + 4 * j)));
                            d = _mm256_add_epi16(d, _mm256_maddubs_epi16(hi[j], broadcast_4_bytes(q + 64 + 4 * j)));
                        }
                        const __m256i sum = _mm256_add_epi32(_mm256_madd_epi16(a, sc_lo), _mm256_madd_epi16(d, sc_hi));
                        scaled[i] = _mm256_add_epi32(scaled[i], sum);
                    }
                }
            }
            const __m256 dv = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(gb + 16 * h)));
            const __m256 dmin =
                _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(gb + kQ4KPackedDmin + 16 * h)));
            for (int i = 0; i < NX; ++i) {
                const float xd = x[i * blocks + b].d;
                const __m256 s16 = _mm256_cvtepi32_ps(_mm256_slli_epi32(scaled[i], 4));
                acc[i][h] = _mm256_fmadd_ps(s16, _mm256_mul_ps(dv, _mm256_set1_ps(xd * 0.0625f)), acc[i][h]);
                acc[i][h] = _mm256_fnmadd_ps(_mm256_cvtepi32_ps(offset[i]), _mm256_mul_ps(dmin, _mm256_set1_ps(xd)),
                                             acc[i][h]);
            }
        }
    }
    for (int i = 0; i < NX; ++i) store_group_rows(y + i * ldy, acc[i], valid_rows);
}

template <bool kVnni, bool kQ5>
void q4_k_packed_matmul(const MatmulProblem& p, int64_t row_begin, int64_t row_end) {
    const int64_t blocks = p.cols / kQ4KBlock;
    const int64_t group_bytes = blocks * (kQ5 ? kQ5KGroupBlockBytes : kQ4KGroupBlockBytes);
    const auto* xq = static_cast<const BlockQ8K*>(p.x_q8);
    const auto* w = static_cast<const uint8_t*>(p.w);
    // 4 activation rows per tile: the unpacked levels serve twice the rows they did with 2 (kernels-bench Q4_K GEMM
    // n=128, 2 Zen 5 threads: avx2 ~258 -> ~298, avx2-vnni ~335 -> ~400 GFLOP/s).
    for_each_packed_group_tile<4>(p.n, row_begin, row_end, [&](auto nx, int64_t i, int64_t g, int64_t r, int valid) {
        q4_k_packed_tile<kVnni, kQ5, decltype(nx)::value>(xq + i * blocks, blocks, w + g * group_bytes,
                                                          p.y + i * p.rows + r, p.rows, valid);
    });
}

// The 2-bit field t (bits 2t, 2t + 1) of every byte of qh moved to bits 4-5, the other bits cleared: the top bits
// of a Q6_K level (as isa_avx512_q6k.cpp's high_bits; the 16-bit shifts keep each byte's bits in its byte).
inline __m256i q6_k_high_bits(__m256i qh, int t) {
    const __m256i moved = t == 0   ? _mm256_slli_epi16(qh, 4)
                          : t == 1 ? _mm256_slli_epi16(qh, 2)
                          : t == 2 ? qh
                                   : _mm256_srli_epi16(qh, 2);
    return _mm256_and_si256(moved, _mm256_set1_epi8(0x30));
}

// The 8 rows' signed scale of sub-block j as int32 lanes, from their half of scales word j / 4 (byte j % 4).
inline __m256i q6_k_scale_of(const __m256i words[4], int j) {
    const int byte = j % 4;
    const __m256i w = words[j / 4];
    return _mm256_srai_epi32(byte == 3 ? w : _mm256_slli_epi32(w, 24 - 8 * byte), 24);
}

// The activation's int16 sums of sub-blocks a and b as one int32 (a in the low half), to broadcast for vpmaddwd.
inline __m256i broadcast_sum_pair(const BlockQ8K16& x, int a, int b) {
    return _mm256_set1_epi32(int32_t(uint16_t(x.sums[a])) | int32_t(uint32_t(uint16_t(x.sums[b])) << 16));
}

// NX activation rows times one 16-row packed Q6_K group over every super-block (quant_q6_k_packed.h); lane r of
// acc[i][h2] is y[i][group row 8h2 + r]. Per super-block and row the integer sum_j sc[j] * (dot_j - 32 * x.sums[j])
// of isa_avx512_q6k.cpp, and its F32 steps: the same bits. The levels' places are that file's.
template <bool kVnni, int NX>
inline void q6_k_packed_tile(const BlockQ8K16* x, int64_t blocks, const uint8_t* group, float* y, int64_t ldy,
                             int valid_rows) {
    __m256 acc[NX][2];
    for (int i = 0; i < NX; ++i) acc[i][0] = acc[i][1] = _mm256_setzero_ps();
    const __m256i low_mask = _mm256_set1_epi8(0x0f);
    for (int64_t b = 0; b < blocks; ++b) {
        const uint8_t* gb = group + b * kQ6KGroupBlockBytes;
        prefetch_stream(gb, kQ6KGroupBlockBytes);
        for (int h2 = 0; h2 < 2; ++h2) {
            const auto slice = [&](int64_t offset) {
                return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(gb + offset + 32 * h2));
            };
            __m256i words[4];
            for (int w = 0; w < 4; ++w) words[w] = slice(kQ6KPackedScales + 64 * w);
            __m256i scaled[NX];
            if constexpr (kVnni) {
                for (int i = 0; i < NX; ++i) scaled[i] = _mm256_setzero_si256();
            } else {
                // -32 * sum_j sc[j] * sums[j] up front: vpmaddwd of the scales as int16 pairs (sub-blocks 4w, 4w + 2
                // and 4w + 1, 4w + 3 of each word) with the activation's sums in the same pairs.
                __m256i even[4], odd[4];
                for (int w = 0; w < 4; ++w) {
                    even[w] = _mm256_srai_epi16(_mm256_slli_epi16(words[w], 8), 8);
                    odd[w] = _mm256_srai_epi16(words[w], 8);
                }
                for (int i = 0; i < NX; ++i) {
                    const BlockQ8K16& xb = x[i * blocks + b];
                    __m256i o = _mm256_setzero_si256();
                    for (int w = 0; w < 4; ++w) {
                        o = _mm256_add_epi32(o, _mm256_madd_epi16(even[w], broadcast_sum_pair(xb, 4 * w, 4 * w + 2)));
                        o = _mm256_add_epi32(o, _mm256_madd_epi16(odd[w], broadcast_sum_pair(xb, 4 * w + 1, 4 * w + 3)));
                    }
                    scaled[i] = _mm256_sub_epi32(_mm256_setzero_si256(), _mm256_slli_epi32(o, 5));
                }
            }
            for (int h = 0; h < 2; ++h) {
                for (int g = 0; g < 4; ++g) {
                    __m256i lo[4], hi[4];
                    for (int m = 0; m < 4; ++m) {
                        const __m256i v = slice(64 * (16 * h + 4 * g + m));
                        const __m256i qh = slice(kQ6KPackedHighBits + 64 * (8 * h + 4 * (g % 2) + m));
                        lo[m] = _mm256_or_si256(_mm256_and_si256(v, low_mask), q6_k_high_bits(qh, g / 2));
                        hi[m] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(v, 4), low_mask),
                                                q6_k_high_bits(qh, 2 + g / 2));
                    }
                    const int j_lo = 8 * h + g, j_hi = 8 * h + 4 + g;
                    const __m256i sc_lo = q6_k_scale_of(words, j_lo), sc_hi = q6_k_scale_of(words, j_hi);
                    for (int i = 0; i < NX; ++i) {
                        const BlockQ8K16& xb = x[i * blocks + b];
                        const int8_t* q = xb.qs + 128 * h + 16 * g;
                        if constexpr (kVnni) {
                            __m256i a = _mm256_set1_epi32(-32 * int32_t(xb.sums[j_lo]));
                            __m256i c = _mm256_set1_epi32(-32 * int32_t(xb.sums[j_hi]));
                            for (int m = 0; m < 4; ++m) {
                                a = _mm256_dpbusd_avx_epi32(a, lo[m], broadcast_4_bytes(q + 4 * m));
                                c = _mm256_dpbusd_avx_epi32(c, hi[m], broadcast_4_bytes(q + 64 + 4 * m));
                            }
                            scaled[i] = _mm256_add_epi32(scaled[i], _mm256_add_epi32(_mm256_mullo_epi32(a, sc_lo),
                                                                                      _mm256_mullo_epi32(c, sc_hi)));
                            continue;
                        }
                        // Levels 0..63 times activations: |pair| <= 2 * 63 * 127, two pair sums <= 32004 < 2^15 per
                        // int16 lane; vpmaddwd with the scale in both halves of each lane (blended, as it is signed).
                        const __m256i sc16_lo = _mm256_blend_epi16(sc_lo, _mm256_slli_epi32(sc_lo, 16), 0xaa);
                        const __m256i sc16_hi = _mm256_blend_epi16(sc_hi, _mm256_slli_epi32(sc_hi, 16), 0xaa);
                        for (int m = 0; m < 4; m += 2) {
                            const __m256i a = _mm256_add_epi16(
                                _mm256_maddubs_epi16(lo[m], broadcast_4_bytes(q + 4 * m)),
                                _mm256_maddubs_epi16(lo[m + 1], broadcast_4_bytes(q + 4 * m + 4)));
                            const __m256i c = _mm256_add_epi16(
                                _mm256_maddubs_epi16(hi[m], broadcast_4_bytes(q + 64 + 4 * m)),
                                _mm256_maddubs_epi16(hi[m + 1], broadcast_4_bytes(q + 64 + 4 * m + 4)));
                            scaled[i] = _mm256_add_epi32(scaled[i], _mm256_add_epi32(_mm256_madd_epi16(a, sc16_lo),
                                                                                      _mm256_madd_epi16(c, sc16_hi)));
                        }
                    }
                }
            }
            const __m256 dv =
                _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(gb + kQ6KPackedD + 16 * h2)));
            for (int i = 0; i < NX; ++i)
                acc[i][h2] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(scaled[i]),
                                             _mm256_mul_ps(dv, _mm256_set1_ps(x[i * blocks + b].d)), acc[i][h2]);
        }
    }
    for (int i = 0; i < NX; ++i) store_group_rows(y + i * ldy, acc[i], valid_rows);
}

template <bool kVnni>
void q6_k_packed_matmul(const MatmulProblem& p, int64_t row_begin, int64_t row_end) {
    const int64_t blocks = p.cols / kQ6KBlock;
    const int64_t group_bytes = blocks * kQ6KGroupBlockBytes;
    const auto* xq = static_cast<const BlockQ8K16*>(p.x_q8);
    const auto* w = static_cast<const uint8_t*>(p.w);
    for_each_packed_group_tile<4>(p.n, row_begin, row_end, [&](auto nx, int64_t i, int64_t g, int64_t r, int valid) {
        q6_k_packed_tile<kVnni, decltype(nx)::value>(xq + i * blocks, blocks, w + g * group_bytes,
                                                     p.y + i * p.rows + r, p.rows, valid);
    });
}


// matmul_rows for a packed Q8_0 / Q4_0 / Q4_K / Q5_K / Q6_K weight; false, computing nothing, for anything else.
template <bool kVnni>
bool packed_quant_matmul(const MatmulProblem& p, int64_t row_begin, int64_t row_end) {
    if (!p.packed) return false;
    switch (p.dtype) {
        case LLMATC_DTYPE_Q8_0: packed_matmul<kVnni, LLMATC_DTYPE_Q8_0>(p, row_begin, row_end); return true;
        case LLMATC_DTYPE_Q4_0: packed_matmul<kVnni, LLMATC_DTYPE_Q4_0>(p, row_begin, row_end); return true;
        case LLMATC_DTYPE_Q4_K: q4_k_packed_matmul<kVnni, false>(p, row_begin, row_end); return true;
        case LLMATC_DTYPE_Q5_K: q4_k_packed_matmul<kVnni, true>(p, row_begin, row_end); return true;
        case LLMATC_DTYPE_Q6_K: q6_k_packed_matmul<kVnni>(p, row_begin, row_end); return true;
        default: return false;
    }
}

}  // namespace llmatc::cpu::avx2_quant_impl
