// core/kernels/cpu/isa_kernels.h — the inner loops that have one implementation per instruction set (scalar, AVX2,
// AVX-512), as a table chosen once at run time from the CPU's features.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "llmatc/kernels.h"

namespace llmatc::cpu {

// y[n, rows] = x[n, cols] * W^T for a weight W [rows, cols] stored as `dtype` (F32, F16, BF16, Q8_0, Q4_0, and the
// K-quants). For the block-quantized types, x_q8 holds x quantized to Q8_0 blocks (n rows of cols/32 blocks; the
// K-quants' own formats for them), and the inner products are integer; x is then unused. When `packed`,
// the Q8_0 / Q4_0 weight is in the 16-row interleaved layout and x_q8 in the packed activation format (see
// quant_packed.h; only for kernels whose table sets packs_quantized), a Q4_K weight in quant_q4_k_packed.h's
// layout (x_q8 still BlockQ8K), a Q5_K one in quant_q5_k_packed.h's, a Q6_K one in quant_q6_k_packed.h's (x_q8
// still BlockQ8K16), or the F16 / BF16 weight in the layout of float_packed.h (packs_floats). Pointers are borrowed for the call.
struct MatmulProblem {
    llmatc_dtype dtype;
    const void* w;
    int64_t rows;
    int64_t cols;
    const float* x;
    const void* x_q8;
    int64_t n;
    float* y;
    bool packed;
    // For packed F16 / BF16 weights and n > 1: x in 8-row tiles (float_packed.h's tile_activations_*), F32 or, for
    // BF16 weights with BF16 activations, BF16 pairs (then x_tiles is unused).
    const float* x_tiles;
    const uint32_t* x_tiles_bf16;
    // For packed BF16 weights on AMX (IsaKernels::has_amx_bf16): x as BF16 rows in isa_amx_bf16.h's layout (then
    // x_tiles and x_tiles_bf16 are unused).
    const uint16_t* x_amx_bf16 = nullptr;
    // For packed Q8_0 / Q4_0 / Q4_K / Q5_K weights on AMX (IsaKernels::has_amx_int8): x_q8 holds
    // amx_int8_activation_rows(n) rows (isa_amx_int8.h; the rows past n zeros) and the tiles compute the integer dot
    // products.
    bool amx_int8 = false;
};

// The instruction-set levels, from the portable one up. A level is usable when the CPU has its features:
//   avx2           AVX2 + FMA + F16C (Haswell, Zen 1 and later);
//   avx2_vnni      and AVX-VNNI (Alder Lake and later without AVX-512): vpdpbusd on 256 bits for quantized weights;
//   avx512_no_vnni AVX-512 F/BW/VL/DQ without VNNI (Skylake-SP / -X): the AVX-512 float kernels, and the AVX2 kernels
//                  for block-quantized weights (their integer dot products need VNNI to gain from 512 bits);
//   avx512         AVX-512 with VNNI (Cascade Lake, Ice Lake, Zen 4 and later); BF16 and AMX used where present.
enum class Isa { scalar = 0, avx2 = 1, avx2_vnni = 2, avx512_no_vnni = 3, avx512 = 4 };
constexpr Isa kIsaLevels[] = {Isa::scalar, Isa::avx2, Isa::avx2_vnni, Isa::avx512_no_vnni, Isa::avx512};

struct IsaKernels {
    Isa isa;
    const char* name;
    // Computes the output columns [row_begin, row_end) of y (all n rows); the ranges of concurrent calls don't
    // overlap. row_begin is a multiple of kMatmulRowMultiple except possibly at the end.
    void (*matmul_rows)(const MatmulProblem& p, int64_t row_begin, int64_t row_end);
    // Quantizes n floats (a multiple of 32) to Q8_0 blocks at out (n / 32 blocks of 34 bytes).
    void (*quantize_row_q8_0)(const float* x, void* out, int64_t n);
    // Whether matmul_rows can take BF16 activations (MatmulProblem::x_tiles_bf16) for packed BF16 weights.
    bool has_bf16_dot;
    // Whether block-quantized weights (Q8_0, Q4_0, Q4_K, Q5_K, Q6_K) are repacked at load into the 16-row
    // interleaved layouts this table's matmul_rows reads (quant_packed.h, quant_q4_k_packed.h, quant_q5_k_packed.h,
    // quant_q6_k_packed.h); quantize_act_row then writes the activations the Q8_0 / Q4_0 kernels take (NULL
    // otherwise; the packed K-quants still read BlockQ8K / BlockQ8K16).
    bool packs_quantized;
    void (*quantize_act_row)(const float* x, void* out, int64_t cols);
    // Whether F16 / BF16 weights are repacked at load into the 16-row interleaved layout (float_packed.h).
    bool packs_floats;
    // out[i] = gate[i] / (1 + exp(-gate[i])) * up[i] for i < n (SiLU(gate) * up; within a few ulp of std::exp's).
    void (*silu_mul)(const float* gate, const float* up, int64_t n, float* out);
    // Whether matmul_rows can take AMX activations (MatmulProblem::x_amx_bf16) for packed BF16 weights, and the
    // routine that writes them (isa_amx_bf16.h's amx_bf16_activations).
    bool has_amx_bf16 = false;
    void (*amx_bf16_activations)(const float* x, int64_t n, int64_t cols, int64_t row_begin, int64_t row_end,
                                 uint16_t* out) = nullptr;
    // The K-quants' activation quantizers, writing quantize_row_q8k's (quant_q4_k.h) and quantize_row_q8k16's
    // (quant_q6_k.h) bytes; NULL: those reference routines.
    void (*quantize_row_q8k)(const float* x, void* out, int64_t n) = nullptr;
    void (*quantize_row_q8k16)(const float* x, void* out, int64_t n) = nullptr;
    // Whether matmul_rows can run packed Q8_0 / Q4_0 / Q4_K / Q5_K weights on AMX-INT8 tiles
    // (MatmulProblem::amx_int8).
    bool has_amx_int8 = false;
};

// Rows a thread's range of matmul output columns should be a multiple of (the register tile height; also the
// packed quantized layout's group of 16 rows).
constexpr int64_t kMatmulRowMultiple = 16;

const IsaKernels& isa_kernels_scalar();
const IsaKernels& isa_kernels_avx2();       // requires AVX2, FMA, F16C
const IsaKernels& isa_kernels_avx2_vnni();  // also AVX-VNNI
const IsaKernels& isa_kernels_avx512_no_vnni();  // requires AVX512F/BW/VL/DQ, F16C, FMA
const IsaKernels& isa_kernels_avx512();          // also AVX512-VNNI (BF16 used when present)

// Whether this CPU can run `isa`'s kernels.
bool isa_supported(Isa isa);
// The best level this CPU supports.
Isa best_isa();
const IsaKernels& isa_kernels(Isa isa);
// "scalar", "avx2", "avx2-vnni", "avx512-novnni", "avx512" (LLMATC_CPU_ISA's values).
const char* isa_name(Isa isa);
// The level whose isa_name is `name`; false when there is none.
bool isa_from_name(std::string_view name, Isa* out);
// Every level's name, as "scalar, avx2, ..." (for messages that list them).
std::string isa_level_names();

}  // namespace llmatc::cpu
