// core/kernels/cpu/cpu_sample.cpp — token choice per logits row on the CPU backend (llmatc_kernels.sample).
#include "kernels/cpu/cpu_sample.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>
#include <vector>

#include "util/error.h"

namespace llmatc::cpu {

namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

[[noreturn]] void bad_argument(const std::string& what) {
    throw Error(LLMATC_ERR_INVALID_ARGUMENT, "cpu backend: sample: " + what);
}

int32_t argmax(const float* x, int32_t n) {
    int32_t best = 0;
    for (int32_t i = 1; i < n; ++i)
        if (x[i] > x[best]) best = i;
    return best;
}

// log_softmax(row)[token], computed as the engine's log_softmax does (float max, double sum).
float chosen_logprob(const float* row, int32_t vocab, int32_t token) {
    float max = kNegInf;
    for (int32_t i = 0; i < vocab; ++i) max = std::max(max, row[i]);
    double sum = 0.0;
    for (int32_t i = 0; i < vocab; ++i) sum += std::exp(static_cast<double>(row[i]) - max);
    const double log_sum = std::log(sum) + max;
    return static_cast<float>(row[token] - log_sum);
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

// One row, non-greedy; `x` and `order` are scratch reused across rows.
int32_t sample_row(const float* row, int32_t vocab, const llmatc_sample_params& p, std::vector<float>& x,
                   std::vector<int32_t>& order, std::vector<double>& probs) {
    x.assign(row, row + vocab);
    for (float& v : x) v /= p.temperature;
    order.resize(static_cast<size_t>(vocab));
    std::iota(order.begin(), order.end(), 0);
    auto better = [&](int32_t a, int32_t b) { return x[a] > x[b] || (x[a] == x[b] && a < b); };
    size_t n_keep = order.size();
    if (p.top_k > 0 && static_cast<size_t>(p.top_k) < order.size()) {
        std::partial_sort(order.begin(), order.begin() + p.top_k, order.end(), better);
        n_keep = static_cast<size_t>(p.top_k);
    } else {
        std::sort(order.begin(), order.end(), better);
    }
    const float max = x[order[0]];
    probs.resize(n_keep);
    double total = 0.0;
    for (size_t i = 0; i < n_keep; ++i) total += probs[i] = std::exp(static_cast<double>(x[order[i]]) - max);
    if (p.top_p < 1.0f) {
        double cum = 0.0;
        size_t keep = 0;
        while (keep < n_keep) {
            cum += probs[keep] / total;
            ++keep;
            if (cum >= p.top_p) break;
        }
        n_keep = keep;
    }
    if (p.min_p > 0.0f) {
        const double floor = p.min_p * probs[0];
        size_t keep = 1;
        while (keep < n_keep && probs[keep] >= floor) ++keep;
        n_keep = keep;
    }
    total = 0.0;
    for (size_t i = 0; i < n_keep; ++i) total += probs[i];
    const double target = p.u * total;
    double cum = 0.0;
    int32_t token = order[n_keep - 1];
    for (size_t i = 0; i < n_keep; ++i) {
        cum += probs[i];
        if (target < cum) {
            token = order[i];
            break;
        }
    }
    if (x[token] == kNegInf) token = argmax(x.data(), vocab);
    return token;
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
    std::vector<int32_t> order;
    std::vector<double> probs;
    for (int64_t r = 0; r < n_rows; ++r) {
        const auto& p = *reinterpret_cast<const llmatc_sample_params*>(reinterpret_cast<const char*>(params) +
                                                                        static_cast<size_t>(r) * stride);
        check_params(p, r);
        const float* row = logits + r * int64_t(vocab);
        const int32_t token = p.temperature == 0.0f ? argmax(row, vocab) : sample_row(row, vocab, p, x, order, probs);
        out_tokens[r] = token;
        if (out_logprobs) out_logprobs[r] = chosen_logprob(row, vocab, token);
    }
}

}  // namespace llmatc::cpu
