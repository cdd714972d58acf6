// core/kernels/cpu/quant_q4_k.h — GGUF's Q4_K super-block layout, its scalar quantize / dequantize, the Q8_K-style
// activation format its integer kernels read, and the Q4_K matmul entry points of each instruction set.
#pragma once

#include <cstdint>

#include "kernels/cpu/isa_kernels.h"

namespace llmatc::cpu {

constexpr int64_t kQ4KBlock = 256;     // elements per Q4_K super-block
constexpr int kQ4KSubBlocks = 8;       // sub-blocks of 32, each with a 6-bit scale and a 6-bit min

// ggml's block_q4_K (144 bytes). Element e of sub-block s is d * sc[s] * q - dmin * m[s], q a nibble in 0..15.
// scales packs sc[0..7] and m[0..7] in 6 bits each: bytes 0-3 hold sc[0..3] in their low 6 bits, bytes 4-7 hold
// m[0..3]; bytes 8-11 hold the low 4 bits of sc[4..7] (low nibble) and m[4..7] (high nibble), whose top 2 bits sit
// in the top 2 bits of bytes 0-3 (sc) and 4-7 (m). qs holds four chunks of 32 bytes: chunk c's byte l carries
// element 64c + l in its low nibble and element 64c + 32 + l in its high nibble.
struct BlockQ4_K {
    uint16_t d;      // IEEE half: scale of the sub-block scales
    uint16_t dmin;   // IEEE half: scale of the sub-block mins
    uint8_t scales[12];
    uint8_t qs[128];
};
static_assert(sizeof(BlockQ4_K) == 144, "Q4_K block must match GGUF's 144 bytes");

// Activations for Q4_K weights: 256 values = d * qs[i] (symmetric, |q| <= 127, rounded half to even), stored in the
// order the Q4_K kernels read nibbles, so one 64-byte load of weight nibbles lines up with one 64-byte load of
// activations. For half h (0, 1) of the super-block: qs[128h + b] is element 64(2h + b/32) + b%32 (the low nibbles
// of weight bytes 64h + b) and qs[128h + 64 + b] is element 64(2h + b/32) + 32 + b%32 (their high nibbles), b in
// 0..63. sums[s] is the sum of the quantized values of sub-block s (elements 32s..32s+31), for the min term.
struct BlockQ8K {
    int8_t qs[256];
    float d;
    int16_t sums[kQ4KSubBlocks];
};
static_assert(sizeof(BlockQ8K) == 276, "BlockQ8K is 256 bytes of values, a float scale and 8 int16 sums");

// Where sub-block s's 32 values (elements 32s..32s+31) begin in BlockQ8K::qs, in the order above:
// 128 (s / 4) + {0, 64, 32, 96}[s % 4].
constexpr int64_t q8k_sub_block_offset(int s) { return 128 * (s / 4) + 32 * ((s / 2) % 2) + 64 * (s % 2); }

// Bytes of one row of `cols` activations (cols a multiple of 256) in BlockQ8K form.
inline int64_t q8k_row_bytes(int64_t cols) { return (cols / kQ4KBlock) * int64_t(sizeof(BlockQ8K)); }

// The 6-bit scales and mins of a super-block, unpacked.
void unpack_q4_k_scales(const uint8_t packed[12], uint8_t scales[kQ4KSubBlocks], uint8_t mins[kQ4KSubBlocks]);

// 256 floats from one block; the same float operations as gguf-py's dequantize (d * sc, dmin * m in F32, then
// (d * sc) * q - dmin * m), so the result is bit for bit the reference's.
void dequantize_block_q4_k(const BlockQ4_K* block, float* out);

// Quantizes 256 floats: per sub-block, a weighted least-squares search over candidate scale/min pairs (ggml's
// make_qkx2_quants approach: weights av|x| + |x_i|, 21 trial scales around 15 / (max - min), min clamped to <= 0),
// then the 8 scales and 8 mins are quantized to 6 bits against their maxima and the nibbles recomputed with the
// quantized scales. Non-finite inputs are the caller's to reject.
void quantize_block_q4_k(const float* x, BlockQ4_K* out);

// Quantizes a row of n floats (n a multiple of 256) to n / 256 BlockQ8K blocks at out.
void quantize_row_q8k(const float* x, void* out, int64_t n);

// y = x * W^T for Q4_K weights (MatmulProblem::dtype == Q4_K): p.w holds rows * cols/256 BlockQ4_K blocks, p.x_q8
// holds n rows of cols/256 BlockQ8K blocks (p.x is unused). Per super-block, the products are integer:
// y += dx * (d * sum_s sc[s] * dot_s - dmin * sum_s m[s] * sums[s]).
void matmul_rows_q4_k_scalar(const MatmulProblem& p, int64_t row_begin, int64_t row_end);
// (With AVX-512 VNNI, Q4_K weights are repacked at load and multiplied by quant_q4_k_packed.h's kernel instead.)

}  // namespace llmatc::cpu
