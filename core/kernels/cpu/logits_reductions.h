// core/kernels/cpu/logits_reductions.h — whole-row reductions over a logits row, vectorised: the greedy token
// (row_argmax) and log(sum exp(x)), the one routine behind every log-probability (the engine's host sampler and
// prompt logprobs, the CPU backend's sample op), so they give the same bits.
#pragma once

#include <cstdint>

#include "kernels/cpu/isa_kernels.h"

namespace llmatc::cpu {

// log(sum_i exp(x[i])) for n > 0 floats, as m + log(sum_i exp(x[i] - m)) with m the largest x[i]. Each exp is
// single precision (simd_exp.h's polynomial, about 1 ulp; an argument below -87 is taken as -87, whose exp, about
// 2^-125.5, is nothing next to the largest term's 1) and the sum is double, added in a fixed order that depends on n
// and on the instruction set alone. The instruction set is the CPU's best (best_isa()), not LLMATC_CPU_ISA's, so
// every caller in the process agrees bitwise whatever level the matmul kernels run at. A NaN anywhere gives NaN;
// all -inf gives NaN.
double log_sum_exp(const float* x, int64_t n);

// The same at a given level (isa_supported(isa) must hold): the AVX-512 levels run one loop, the AVX2 levels
// another, scalar a double-precision std::exp loop. For tests, which check each against a long-double reference.
double log_sum_exp_at(Isa isa, const float* x, int64_t n);

// log_softmax(x)[token]: x[token] - log_sum_exp(x, n), rounded to float (the engine's log_softmax gives each entry
// the same way, so the two agree bitwise).
float token_logprob(const float* x, int64_t n, int32_t token);

// The index of the largest of n > 0 floats, the lowest on ties: exactly the loop `if (x[i] > x[best]) best = i`
// from best = 0 (NaN entries never win; a NaN at 0 gives 0). Exact, so every level gives the same index.
int32_t row_argmax(const float* x, int64_t n);
int32_t row_argmax_at(Isa isa, const float* x, int64_t n);

}  // namespace llmatc::cpu
