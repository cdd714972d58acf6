// core/kernels/cpu/token_choice.h — the non-greedy draw shared by the host sampler and the CPU backend's sample
// slot: top-k / top-p / min-p truncation and an inverse-CDF draw over candidates ordered best first.
#pragma once

#include <cstdint>
#include <vector>

namespace llmatc::cpu {

// Buffers reused from draw to draw: once warm, a draw allocates nothing.
struct TokenChoiceScratch {
    std::vector<int32_t> order;  // candidate ids, best first
    std::vector<double> probs;   // exp(x - max) of those candidates, in the same order
    std::vector<double> weights;           // exp(x - max) of every token, in id order
    std::vector<uint64_t> keys, keys_tmp;  // radix sort: (descending value key << 32) | id
};

// The token `u` (in [0, 1)) draws from `x` (vocab scaled logits: divided by the temperature, biases and masks
// applied; -inf = never). Semantics, which the CUDA sampler shares:
//   candidates are ordered by x descending, the lower id first among equals;
//   top_k > 0 keeps the first top_k; top_p < 1 keeps the shortest prefix whose probability reaches top_p (at least
//   one); min_p > 0 keeps those whose probability is at least min_p times the best one's;
//   the draw walks the kept candidates, accumulating exp(x - max), and takes the first whose running sum exceeds
//   u times the kept sum.
// Only the part of the order the draw can reach is sorted: candidates within a window below the max, widened until
// the truncation and the draw are decided inside it (the whole vocabulary at worst). Sums over the kept prefix run
// in candidate order; the sum over all tokens (top-p's denominator, and the draw's when nothing is cut) runs in id
// order. If every token is -inf, returns the lowest id.
int32_t choose_token(const float* x, int32_t vocab, int32_t top_k, float top_p, float min_p, double u,
                     TokenChoiceScratch& scratch);

}  // namespace llmatc::cpu
