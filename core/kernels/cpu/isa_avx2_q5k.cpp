// core/kernels/cpu/isa_avx2_q5k.cpp — Q5_K weights (GGUF's layout, read in place) times BlockQ8K activations with
// AVX2 integer dot products (vpmaddubsw + vpmaddwd). Compiled with AVX2 + FMA + F16C flags only; called only when
// the CPU has them. Per super-block the integers are the scalar kernel's (quant_q5_k.cpp), exactly; the F32 scaling
// and summation run in another order.
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "kernels/cpu/fp16.h"
#include "kernels/cpu/isa_avx2_k_quants.h"
#include "kernels/cpu/isa_avx2_quant.h"
#include "kernels/cpu/k_quant_row_tiles.h"
#include "kernels/cpu/quant_q5_k.h"
#include "kernels/cpu/stream_prefetch.h"

namespace llmatc::cpu {

namespace {

// One weight super-block unpacked for the dot products: levels[2c] byte l is the 5-bit level (0..31) of element
// 64c + l (sub-block 2c), levels[2c + 1] that of element 64c + 32 + l (sub-block 2c + 1); scales[s] holds sub-block
// s's 6-bit scale in every int16 lane, mins its 8 mins as int16.
struct UnpackedBlock {
    __m256i levels[8];
    __m256i scales[kQ4KSubBlocks];
    __m128i mins;
    float d, dmin;
};

inline uint32_t load_u32(const uint8_t* p) {
    uint32_t v;
    std::memcpy(&v, p, 4);
    return v;
}

inline void unpack_block(const BlockQ5_K& block, UnpackedBlock& u) {
    const __m256i low_mask = _mm256_set1_epi8(0x0f), one = _mm256_set1_epi8(0x01);
    const __m256i qh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(block.qh));
    // Bit s of qh[l] is bit 4 of element 32s + l; 16-bit shifts then byte masks keep each byte's own bits.
    const auto fifth = [&](int s) { return _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, s), one), 4); };
    for (int c = 0; c < 4; ++c) {
        const __m256i packed = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(block.qs + 32 * c));
        u.levels[2 * c] = _mm256_or_si256(_mm256_and_si256(packed, low_mask), fifth(2 * c));
        u.levels[2 * c + 1] =
            _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(packed, 4), low_mask), fifth(2 * c + 1));
    }
    // quant_q4_k.h's 12-byte scales, four at a time (unpack_q4_k_scales' bytes): scales 0-3 and mins 0-3 are the
    // low 6 bits of bytes 0-3 and 4-7; scales and mins 4-7 take 4 bits from bytes 8-11 and 2 from the top of 0-7.
    const uint32_t w0 = load_u32(block.scales), w1 = load_u32(block.scales + 4), w2 = load_u32(block.scales + 8);
    const uint32_t sc_lo = w0 & 0x3f3f3f3fu, sc_hi = (w2 & 0x0f0f0f0fu) | ((w0 >> 2) & 0x30303030u);
    const uint32_t m_lo = w1 & 0x3f3f3f3fu, m_hi = ((w2 >> 4) & 0x0f0f0f0fu) | ((w1 >> 2) & 0x30303030u);
    const __m256i wide = _mm256_cvtepu8_epi16(_mm_setr_epi32(int(sc_lo), int(sc_hi), int(m_lo), int(m_hi)));
    const __m256i sc = _mm256_broadcastsi128_si256(_mm256_castsi256_si128(wide));  // 8 scales, in both halves
    for (int s = 0; s < kQ4KSubBlocks; ++s)  // int16 lane s in every lane
        u.scales[s] = _mm256_shuffle_epi8(sc, _mm256_set1_epi16(short(0x0100 + 0x0202 * s)));
    u.mins = _mm256_extracti128_si256(wide, 1);
    u.d = fp16_to_f32(block.d);
    u.dmin = fp16_to_f32(block.dmin);
}

// NX activation rows times one weight row over every super-block; each weight block is unpacked once and reused
// by the NX rows (prefill). The per-block integers are the scalar kernel's; they are scaled lane by lane into F32
// accumulators (levels times scales, and mins times sums, apart) and summed across lanes once per row.
template <int NX>
void q5_k_tile(const BlockQ8K* x, int64_t blocks, const BlockQ5_K* w_row, float* y, int64_t ldy) {
    __m256 acc[NX];
    __m128 acc_min[NX];
    for (int i = 0; i < NX; ++i) {
        acc[i] = _mm256_setzero_ps();
        acc_min[i] = _mm_setzero_ps();
    }
    for (int64_t b = 0; b < blocks; ++b) {
        prefetch_stream(&w_row[b], int64_t(sizeof(BlockQ5_K)));
        UnpackedBlock u;
        unpack_block(w_row[b], u);
        for (int i = 0; i < NX; ++i) {
            const BlockQ8K& xb = x[i * blocks + b];
            // vpmaddubsw pairs: |.| <= 2 * 31 * 127; times a 6-bit scale and summed, far inside int32.
            __m256i scaled = _mm256_setzero_si256();
            for (int c = 0; c < 4; ++c) {
                // BlockQ8K keeps chunk c's low-nibble elements at 128 (c / 2) + 32 (c % 2), the high ones 64 on.
                const int8_t* q = xb.qs + 128 * (c / 2) + 32 * (c % 2);
                const __m256i x_lo = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q));
                const __m256i x_hi = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q + 64));
                scaled = _mm256_add_epi32(
                    scaled, _mm256_madd_epi16(_mm256_maddubs_epi16(u.levels[2 * c], x_lo), u.scales[2 * c]));
                scaled = _mm256_add_epi32(
                    scaled, _mm256_madd_epi16(_mm256_maddubs_epi16(u.levels[2 * c + 1], x_hi), u.scales[2 * c + 1]));
            }
            // Mins times the activation's sub-block sums: 8 int16 products, pairs summed into 4 int32 lanes.
            const __m128i offset =
                _mm_madd_epi16(u.mins, _mm_loadu_si128(reinterpret_cast<const __m128i*>(xb.sums)));
            acc[i] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(scaled), _mm256_set1_ps(xb.d * u.d), acc[i]);
            acc_min[i] = _mm_fmadd_ps(_mm_cvtepi32_ps(offset), _mm_set1_ps(xb.d * u.dmin), acc_min[i]);
        }
    }
    for (int i = 0; i < NX; ++i)
        y[i * ldy] = k_quant::reduce_f32_avx2(_mm256_sub_ps(acc[i], _mm256_zextps128_ps256(acc_min[i])));
}

// Activation rows per tile: each unpacked weight block (16 registers' worth) serves this many rows (4: Q5_K_S 1.1B
// pp512 ~97 tok/s, 8: ~101; 2 Zen 5 threads).
constexpr int kQ5KTileRows = 8;

}  // namespace

void matmul_rows_q5_k_avx2(const MatmulProblem& p, int64_t row_begin, int64_t row_end) {
    k_quant::matmul_rows_by_tiles<BlockQ5_K, BlockQ8K, kQ5KTileRows>(
        p, row_begin, row_end, p.cols / kQ5KBlock,
        [](auto nx, const BlockQ8K* x, int64_t blocks, const BlockQ5_K* w_row, float* y, int64_t ldy) {
            q5_k_tile<decltype(nx)::value>(x, blocks, w_row, y, ldy);
        });
}

}  // namespace llmatc::cpu
