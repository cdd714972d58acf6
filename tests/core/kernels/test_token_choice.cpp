// tests/core/kernels/test_token_choice.cpp — choose_token (sorting only the reachable candidates) against a plain
// full sort of the whole vocabulary, over peaked, flat, tied and masked distributions.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <vector>

#include "kernels/cpu/token_choice.h"

using llmatc::cpu::choose_token;
using llmatc::cpu::TokenChoiceScratch;

namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

// The rule as token_choice.h states it, the obvious way: sort everything, truncate, draw.
int32_t reference_choice(const std::vector<float>& x, int32_t top_k, float top_p, float min_p, double u) {
    const int32_t vocab = static_cast<int32_t>(x.size());
    std::vector<int32_t> order(x.size());
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(),
              [&](int32_t a, int32_t b) { return x[a] > x[b] || (x[a] == x[b] && a < b); });
    const float max = x[order[0]];
    if (max == kNegInf) return 0;
    size_t n_keep = top_k > 0 && top_k < vocab ? size_t(top_k) : order.size();
    std::vector<double> probs(n_keep);
    for (size_t i = 0; i < n_keep; ++i) probs[i] = std::exp(double(x[order[i]]) - max);
    double total = 0.0;  // top-k: over the k in order; otherwise over every token in id order
    if (n_keep < order.size()) {
        for (double p : probs) total += p;
    } else {
        for (float v : x) total += std::exp(double(v) - max);
    }
    bool cut = n_keep < order.size();
    if (top_p < 1.0f) {
        double cum = 0.0;
        size_t keep = 0;
        while (keep < n_keep) {
            cum += probs[keep] / total;
            ++keep;
            if (cum >= top_p) break;
        }
        cut = cut || keep < n_keep || cum >= top_p;
        n_keep = keep;
    }
    if (min_p > 0.0f) {
        size_t keep = 1;
        while (keep < n_keep && probs[keep] >= min_p * probs[0]) ++keep;
        cut = cut || (keep < n_keep && x[order[keep]] != kNegInf);  // it removed a token that could be drawn
        n_keep = keep;
    }
    double kept = total;
    if (cut) {
        kept = 0.0;
        for (size_t i = 0; i < n_keep; ++i) kept += probs[i];
    }
    const double target = u * kept;
    double cum = 0.0;
    for (size_t i = 0; i < n_keep; ++i) {
        cum += probs[i];
        if (target < cum) return order[i];
    }
    // Rounding left the target past the end: the last kept token with a nonzero weight.
    size_t last = n_keep - 1;
    while (last > 0 && probs[last] == 0.0) --last;
    return order[last];
}

// dominant_over_tail: one token 14 above a flat tail of the rest, which at temperature 1 still holds a few percent of
// the mass (32000 tokens): a draw with u near 1 must widen the first window (12 below the max) to reach the tail.
enum class Shape { peaked, flat, tied_and_masked, dominant_over_tail };

std::vector<float> make_logits(Shape shape, int32_t vocab, std::mt19937_64& rng) {
    std::normal_distribution<float> normal(0.0f, shape == Shape::peaked ? 4.0f : 0.5f);
    std::vector<float> x(static_cast<size_t>(vocab));
    for (float& v : x) v = normal(rng);
    if (shape == Shape::peaked) {
        std::uniform_int_distribution<int32_t> id(0, vocab - 1);
        for (int i = 0; i < 5; ++i) x[size_t(id(rng))] += 12.0f + 3.0f * float(i);  // a few dominant tokens
    }
    if (shape == Shape::dominant_over_tail) x[size_t(vocab / 2)] = 14.0f;
    if (shape == Shape::tied_and_masked) {
        for (int32_t i = 0; i < vocab; i += 5) x[size_t(i)] = x[size_t(i / 3)];  // ties
        for (int32_t i = 1; i < vocab; i += 11) x[size_t(i)] = kNegInf;          // masked ids
    }
    return x;
}

}  // namespace

TEST_CASE("choose_token draws what a full sort of the vocabulary draws", "[token_choice]") {
    std::mt19937_64 rng(20261125);
    std::uniform_real_distribution<double> uniform(0.0, 1.0);
    TokenChoiceScratch scratch;
    const std::vector<int32_t> top_ks{0, 1, 40, 5000};
    const std::vector<float> top_ps{1.0f, 0.95f, 0.5f, 0.05f};
    const std::vector<float> min_ps{0.0f, 0.01f, 0.3f};
    const std::vector<float> temperatures{0.3f, 1.0f, 2.5f};
    int compared = 0, beyond_first = 0;
    for (Shape shape : {Shape::peaked, Shape::flat, Shape::tied_and_masked, Shape::dominant_over_tail}) {
        for (int32_t vocab : {7, 512, 32000}) {
            const auto logits = make_logits(shape, vocab, rng);
            for (float t : temperatures) {
                std::vector<float> x(logits);
                for (float& v : x) v /= t;
                for (int32_t k : top_ks)
                    for (float tp : top_ps)
                        for (float mp : min_ps)
                            for (double u : {0.0, uniform(rng), uniform(rng), 0.999999}) {
                                INFO("shape " << int(shape) << " vocab " << vocab << " temperature " << t << " top_k "
                                              << k << " top_p " << tp << " min_p " << mp << " u " << u);
                                const int32_t got = choose_token(x.data(), vocab, k, tp, mp, u, scratch);
                                REQUIRE(got == reference_choice(x, k, tp, mp, u));
                                REQUIRE(x[size_t(got)] != kNegInf);
                                ++compared;
                                beyond_first += got != int32_t(std::max_element(x.begin(), x.end()) - x.begin());
                            }
            }
        }
    }
    CHECK(compared == 4 * 3 * 3 * 4 * 4 * 3 * 4);
    CHECK(beyond_first > compared / 8);  // the draws reach past the best token (about a quarter of them)
}

TEST_CASE("choose_token: every token masked gives id 0; one finite token is always drawn", "[token_choice]") {
    TokenChoiceScratch scratch;
    std::vector<float> x(100, kNegInf);
    CHECK(choose_token(x.data(), 100, 0, 1.0f, 0.0f, 0.5, scratch) == 0);
    CHECK(choose_token(x.data(), 100, 10, 0.9f, 0.1f, 0.5, scratch) == 0);
    x[57] = -3.0f;
    for (double u : {0.0, 0.5, 0.999999}) {
        CHECK(choose_token(x.data(), 100, 0, 1.0f, 0.0f, u, scratch) == 57);
        CHECK(choose_token(x.data(), 100, 5, 0.5f, 0.2f, u, scratch) == 57);
    }
}
