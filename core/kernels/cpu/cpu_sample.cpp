// core/kernels/cpu/cpu_sample.cpp — token choice per logits row on the CPU backend (llmatc_kernels.sample).
#include "kernels/cpu/cpu_sample.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "kernels/cpu/logits_reductions.h"
#include "kernels/cpu/token_choice.h"
#include "util/error.h"

namespace llmatc::cpu {

namespace {

[[noreturn]] void bad_argument(const std::string& what) {
    throw Error(LLMATC_ERR_INVALID_ARGUMENT, "cpu backend: sample: " + what);
}

void check_params(const llmatc_sample_params& p, int64_t row) {
    const std::string where = "params[" + std::to_string(row) + "].";
    if (!(p.temperature >= 0.0f) || std::isinf(p.temperature))
        bad_argument(where + "temperature must be finite and >= 0, got " + std::to_string(p.temperature));
    if (p.top_k < 0) bad_argument(where + "top_k must be >= 0, got " + std::to_string(p.top_k));
    if (!(p.top_p > 0.0f && p.top_p <= 1.0f))
        bad_argument(where + "top_p must be in (0, 1], got " + std::to_string(p.top_p));
    if (!(p.min_p >= 0.0f && p.min_p <= 1.0f))
        bad_argument(where + "min_p must be in [0, 1], got " + std::to_string(p.min_p));
    if (!(p.u >= 0.0 && p.u < 1.0)) bad_argument(where + "u must be in [0, 1), got " + std::to_string(p.u));
}

// One row, non-greedy; `x` and `scratch` are reused across rows.
int32_t sample_row(const float* row, int32_t vocab, const llmatc_sample_params& p, std::vector<float>& x,
                   TokenChoiceScratch& scratch) {
    x.assign(row, row + vocab);
    for (float& v : x) v /= p.temperature;
    return choose_token(x.data(), vocab, p.top_k, p.top_p, p.min_p, p.u, scratch);
}

}  // namespace

void op_sample(const float* logits, int64_t n_rows, int32_t vocab, const llmatc_sample_params* params,
               int32_t* out_tokens, float* out_logprobs) {
    if (n_rows < 0) bad_argument("n_rows must be >= 0, got " + std::to_string(n_rows));
    if (n_rows == 0) return;
    if (vocab <= 0) bad_argument("vocab must be > 0, got " + std::to_string(vocab));
    if (!logits || !params || !out_tokens) bad_argument("NULL logits, params or out_tokens");
    const uint32_t stride = params[0].struct_size;
    if (stride < sizeof(llmatc_sample_params))
        bad_argument("params struct_size " + std::to_string(stride) + " is smaller than llmatc_sample_params (" +
                     std::to_string(sizeof(llmatc_sample_params)) + ")");
    std::vector<float> x;
    TokenChoiceScratch scratch;
    for (int64_t r = 0; r < n_rows; ++r) {
        const auto& p = *reinterpret_cast<const llmatc_sample_params*>(reinterpret_cast<const char*>(params) +
                                                                        static_cast<size_t>(r) * stride);
        check_params(p, r);
        const float* row = logits + r * int64_t(vocab);
        const int32_t token = p.temperature == 0.0f ? row_argmax(row, vocab) : sample_row(row, vocab, p, x, scratch);
        out_tokens[r] = token;
        if (out_logprobs) out_logprobs[r] = token_logprob(row, vocab, token);
    }
}

}  // namespace llmatc::cpu
