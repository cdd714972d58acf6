// core/kernels/cpu/quant_q6_k.h — GGUF's Q6_K super-block layout (read from GGUF files, never made at load), its
// dequantizer, the activation format its integer kernels read, and the scalar Q6_K matmul (the reference).
#pragma once

#include <cstdint>

#include "kernels/cpu/isa_kernels.h"

namespace llmatc::cpu {

constexpr int64_t kQ6KBlock = 256;     // elements per Q6_K super-block
constexpr int kQ6KSubBlocks = 16;      // sub-blocks of 16, each with a signed 8-bit scale

// ggml's block_q6_K (210 bytes). Element e is d * scales[e / 16] * (q - 32), q a 6-bit level in 0..63.
// For half h (elements 128h .. 128h + 127): ql[64h + k] holds the low 4 bits of element 128h + k (low nibble) and
// of element 128h + 64 + k (high nibble), k in 0..63; qh[32h + l] holds the top 2 bits of element 128h + 32t + l in
// its bits 2t, 2t + 1 (t in 0..3, l in 0..31).
struct BlockQ6_K {
    uint8_t ql[128];
    uint8_t qh[64];
    int8_t scales[kQ6KSubBlocks];
    uint16_t d;  // IEEE half: scale of the sub-block scales
};
static_assert(sizeof(BlockQ6_K) == 210, "Q6_K block must match GGUF's 210 bytes");

// Activations for Q6_K weights: ggml's block_q8_K. 256 values = d * qs[i] in element order (symmetric, |q| <= 127,
// rounded half to even: the same values as BlockQ8K of quant_q4_k.h, in another order), and sums[j] the sum of the
// quantized values of elements 16j .. 16j + 15, for the "- 32" offset of the Q6_K levels.
struct BlockQ8K16 {
    int8_t qs[256];
    float d;
    int16_t sums[kQ6KSubBlocks];
};
static_assert(sizeof(BlockQ8K16) == 292, "BlockQ8K16 is 256 bytes of values, a float scale and 16 int16 sums");

// Bytes of one row of `cols` activations (cols a multiple of 256) in BlockQ8K16 form.
inline int64_t q8k16_row_bytes(int64_t cols) { return (cols / kQ6KBlock) * int64_t(sizeof(BlockQ8K16)); }

// The 6-bit level (0..63) of element e (0..255) of a block.
inline int q6_k_level(const BlockQ6_K& block, int e) {
    const int h = e / 128, within = e % 128;
    const int low = (block.ql[64 * h + within % 64] >> (4 * (within / 64))) & 0x0f;
    const int high = (block.qh[32 * h + within % 32] >> (2 * (within / 32))) & 0x03;
    return low | (high << 4);
}

// 256 floats from one block with the float operations of gguf-py's dequantize (d * scale in F32, then times
// q - 32), so the result is bit for bit the reference's.
void dequantize_block_q6_k(const BlockQ6_K* block, float* out);

// Quantizes a row of n floats (n a multiple of 256) to n / 256 BlockQ8K16 blocks at out.
void quantize_row_q8k16(const float* x, void* out, int64_t n);

// y = x * W^T for Q6_K weights (MatmulProblem::dtype == Q6_K): p.w holds rows * cols/256 BlockQ6_K blocks, p.x_q8
// holds n rows of cols/256 BlockQ8K16 blocks (p.x is unused). Per super-block the products are integer:
// y += d * dx * sum_j scales[j] * (sum_{e in j} q_e x_e - 32 * sums[j]).
void matmul_rows_q6_k_scalar(const MatmulProblem& p, int64_t row_begin, int64_t row_end);

}  // namespace llmatc::cpu
