// core/kernels/cpu/token_choice.cpp — top-k / top-p / min-p truncation and the inverse-CDF draw, sorting only the
// candidates the draw can reach.
#include "kernels/cpu/token_choice.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

namespace llmatc::cpu {

namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();
// First window below the max, in units of x (nats at temperature 1): a token 12 below the best one has under 1e-5
// of its probability, so for a peaked distribution the draw ends well inside it.
constexpr double kFirstWindow = 12.0;

struct Better {
    const float* x;
    bool operator()(int32_t a, int32_t b) const { return x[a] > x[b] || (x[a] == x[b] && a < b); }
};

// The walk over sorted candidates [0, m): truncation, then the draw. `complete`: the candidates are every token
// that can be drawn; if not, they are every token within a window below the max at least -log(min_p) + 1 wide.
// Returns the token, or -1 when the walk needs candidates beyond m.
int32_t walk(const int32_t* order, const double* probs, size_t m, bool complete, double total_all, float top_p,
             float min_p, double u) {
    size_t n_keep = m;
    bool cut = false;  // the kept set ends inside the candidates
    if (top_p < 1.0f) {
        double cum = 0.0;
        size_t keep = 0;
        while (keep < m) {
            cum += probs[keep] / total_all;
            ++keep;
            if (cum >= top_p) {
                cut = true;
                break;
            }
        }
        if (!cut && !complete) return -1;
        n_keep = keep;
    }
    if (min_p > 0.0f) {
        // probs[0] is the best candidate's, exp(0) = 1.
        const double floor = min_p * probs[0];
        size_t keep = 1;
        while (keep < n_keep && probs[keep] >= floor) ++keep;
        if (keep < n_keep) cut = true;
        // Every candidate passed: outside the window every probability is under min_p / e, below the floor.
        else if (!complete) cut = true;
        n_keep = keep;
    }
    double kept_total = total_all;
    if (cut) {
        kept_total = 0.0;
        for (size_t i = 0; i < n_keep; ++i) kept_total += probs[i];
    }
    const double target = u * kept_total;
    double cum = 0.0;
    for (size_t i = 0; i < n_keep; ++i) {
        cum += probs[i];
        if (target < cum) return order[i];
    }
    if (!cut && !complete) return -1;
    // Rounding left the target past the end: the last kept candidate with a nonzero weight.
    size_t last = n_keep - 1;
    while (last > 0 && probs[last] == 0.0) --last;
    return order[last];
}

// 32 bits that order as x does, descending: a float's bits made unsigned-ordered, then inverted. -0 is keyed as +0
// (they compare equal, so the lower id must come first).
uint32_t descending_key(float v) {
    v += 0.0f;  // -0 + 0 = +0
    uint32_t b;
    std::memcpy(&b, &v, sizeof b);
    const uint32_t ascending = (b & 0x80000000u) ? ~b : (b | 0x80000000u);
    return ~ascending;
}

// Sorts `ids` (given in increasing id order) best first: a stable LSD radix sort on the value key, 8 bits a pass,
// so equal values keep increasing ids. O(n), where a comparison sort of the whole vocabulary costs milliseconds.
void sort_best_first(const float* x, std::vector<int32_t>& ids, TokenChoiceScratch& s) {
    const size_t n = ids.size();
    if (n < 512) {
        std::sort(ids.begin(), ids.end(), Better{x});
        return;
    }
    s.keys.resize(n);
    s.keys_tmp.resize(n);
    for (size_t i = 0; i < n; ++i)
        s.keys[i] = (uint64_t(descending_key(x[ids[i]])) << 32) | uint32_t(ids[i]);
    for (int shift = 32; shift < 64; shift += 8) {
        size_t count[257] = {};
        for (size_t i = 0; i < n; ++i) ++count[((s.keys[i] >> shift) & 0xff) + 1];
        for (int d = 0; d < 256; ++d) count[d + 1] += count[d];
        for (size_t i = 0; i < n; ++i) s.keys_tmp[count[(s.keys[i] >> shift) & 0xff]++] = s.keys[i];
        s.keys.swap(s.keys_tmp);
    }
    for (size_t i = 0; i < n; ++i) ids[i] = int32_t(uint32_t(s.keys[i]));
}

}  // namespace

int32_t choose_token(const float* x, int32_t vocab, int32_t top_k, float top_p, float min_p, double u,
                     TokenChoiceScratch& scratch) {
    auto& order = scratch.order;
    auto& probs = scratch.probs;
    const Better better{x};
    const size_t n = static_cast<size_t>(vocab);

    if (top_k > 0 && top_k < vocab) {
        // The first top_k by partial sort, every sum over them in candidate order.
        order.resize(n);
        for (int32_t i = 0; i < vocab; ++i) order[size_t(i)] = i;
        std::partial_sort(order.begin(), order.begin() + top_k, order.end(), better);
        const size_t k = static_cast<size_t>(top_k);
        const float max = x[order[0]];
        if (max == kNegInf) return 0;
        probs.resize(k);
        double total = 0.0;
        for (size_t i = 0; i < k; ++i) total += probs[i] = std::exp(static_cast<double>(x[order[i]]) - max);
        return walk(order.data(), probs.data(), k, true, total, top_p, min_p, u);
    }

    float max = kNegInf, min_finite = std::numeric_limits<float>::infinity();
    size_t n_finite = 0;
    for (size_t i = 0; i < n; ++i) {
        if (x[i] == kNegInf) continue;
        max = std::max(max, x[i]);
        min_finite = std::min(min_finite, x[i]);
        ++n_finite;
    }
    if (n_finite == 0) return 0;
    auto& weights = scratch.weights;
    weights.resize(n);
    double total_all = 0.0;
    for (size_t i = 0; i < n; ++i) total_all += weights[i] = std::exp(static_cast<double>(x[i]) - max);

    // min_p is decided inside a window of at least -log(min_p) + 1: outside it every probability is under min_p / e.
    double window = kFirstWindow;
    if (min_p > 0.0f) window = std::max(window, 1.0 - std::log(static_cast<double>(min_p)));
    for (;; window *= 2.0) {
        const bool complete = !(static_cast<double>(max) - window > static_cast<double>(min_finite));
        order.clear();
        if (complete) {
            for (int32_t i = 0; i < vocab; ++i)
                if (x[i] != kNegInf) order.push_back(i);
        } else {
            const double cutoff = static_cast<double>(max) - window;
            for (int32_t i = 0; i < vocab; ++i)
                if (static_cast<double>(x[i]) >= cutoff) order.push_back(i);
        }
        sort_best_first(x, order, scratch);
        probs.resize(order.size());
        for (size_t i = 0; i < order.size(); ++i) probs[i] = weights[size_t(order[i])];
        const int32_t token =
            walk(order.data(), probs.data(), order.size(), complete, total_all, top_p, min_p, u);
        if (token >= 0) return token;
    }
}

}  // namespace llmatc::cpu
