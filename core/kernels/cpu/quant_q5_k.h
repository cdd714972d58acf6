// core/kernels/cpu/quant_q5_k.h — GGUF's Q5_K super-block layout (read from GGUF files, never made at load), its
// dequantizer, and the Q5_K matmul entry points of each ISA. Activations are Q4_K's BlockQ8K (quant_q4_k.h).
#pragma once

#include <cstdint>

#include "kernels/cpu/isa_kernels.h"
#include "kernels/cpu/quant_q4_k.h"

namespace llmatc::cpu {

constexpr int64_t kQ5KBlock = 256;  // elements per Q5_K super-block: 8 sub-blocks of 32, as Q4_K

// ggml's block_q5_K (176 bytes): Q4_K plus a fifth bit per value. Element e of sub-block s is
// d * sc[s] * q - dmin * m[s], q in 0..31; d, dmin and the packed 6-bit sc / m are exactly Q4_K's (BlockQ4_K).
// qs is Q4_K's: chunk c's byte l carries the low 4 bits of element 64c + l (low nibble) and of element
// 64c + 32 + l (high nibble). qh[l] holds bit 4 of element 32s + l in its bit s.
struct BlockQ5_K {
    uint16_t d;      // IEEE half: scale of the sub-block scales
    uint16_t dmin;   // IEEE half: scale of the sub-block mins
    uint8_t scales[12];
    uint8_t qh[32];
    uint8_t qs[128];
};
static_assert(sizeof(BlockQ5_K) == 176, "Q5_K block must match GGUF's 176 bytes");

// The 5-bit level (0..31) of element e (0..255) of a block.
inline int q5_k_level(const BlockQ5_K& block, int e) {
    const int s = e / 32, l = e % 32;
    const int low = (block.qs[32 * (s / 2) + l] >> (4 * (s % 2))) & 0x0f;
    const int high = (block.qh[l] >> s) & 0x01;
    return low | (high << 4);
}

// 256 floats from one block, with the float operations of gguf-py's dequantize (d * sc and dmin * m in F32, then
// (d * sc) * q - dmin * m), so the result is bit for bit the reference's.
void dequantize_block_q5_k(const BlockQ5_K* block, float* out);

// y = x * W^T for Q5_K weights (MatmulProblem::dtype == Q5_K): p.w holds rows * cols/256 BlockQ5_K blocks, p.x_q8
// holds n rows of cols/256 BlockQ8K blocks (quantize_row_q8k; p.x is unused). Per super-block, as for Q4_K:
// y += dx * (d * sum_s sc[s] * dot_s - dmin * sum_s m[s] * sums[s]).
void matmul_rows_q5_k_scalar(const MatmulProblem& p, int64_t row_begin, int64_t row_end);
// (The AVX2 and AVX-512 levels repack Q5_K at load: quant_q5_k_packed.h.)

}  // namespace llmatc::cpu
