// tests/core/kernels/test_logits_reductions.cpp — log_sum_exp and row_argmax at every ISA level this CPU runs, against
// long-double / plain-loop references, over lengths around the vector widths, Llama's vocabulary, -inf and NaN.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "kernels/cpu/logits_reductions.h"
#include "test_support.h"

using namespace llmatc;
using namespace llmatc::test;

namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

long double reference_log_sum_exp(const std::vector<float>& x) {
    float max = kNegInf;
    for (float v : x) max = std::max(max, v);
    long double sum = 0.0L;
    for (float v : x) sum += std::exp(static_cast<long double>(v) - max);
    return std::log(sum) + max;
}

// Single-precision exp (about 1 ulp) summed in double: the sum's relative error is a few 1e-8, so the log's
// absolute error is too; 2e-7 is a few times that and far below anything a float logprob near 0 resolves.
constexpr double kTolerance = 2e-7;

}  // namespace

TEST_CASE("log_sum_exp matches a long-double reference at every level", "[logits_reductions]") {
    std::mt19937 rng(11);
    const int64_t lengths[] = {1, 2, 7, 8, 9, 15, 16, 17, 31, 33, 100, 1000, 32000, 32001};
    for (cpu::Isa isa : available_isas())
        for (int64_t n : lengths)
            for (float scale : {0.5f, 4.0f, 40.0f}) {
                INFO(cpu::isa_name(isa) << " n=" << n << " scale=" << scale);
                std::normal_distribution<float> normal(0.0f, scale);
                std::vector<float> x(static_cast<size_t>(n));
                for (float& v : x) v = normal(rng);
                const double got = cpu::log_sum_exp_at(isa, x.data(), n);
                CHECK(std::abs(got - double(reference_log_sum_exp(x))) <= kTolerance * std::max(1.0, std::abs(got)));
                // The same bits again (no state), and log_sum_exp at the CPU's best level is log_sum_exp_at it.
                CHECK(cpu::log_sum_exp_at(isa, x.data(), n) == got);
                if (isa == cpu::best_isa()) CHECK(cpu::log_sum_exp(x.data(), n) == got);
            }
}

TEST_CASE("log_sum_exp: -inf entries count as 0, far-below terms vanish, NaN and all -inf give NaN",
          "[logits_reductions]") {
    for (cpu::Isa isa : available_isas()) {
        INFO(cpu::isa_name(isa));
        // Masked ids (-inf) next to a few finite ones, in the tail and in full vectors.
        std::vector<float> x(37, kNegInf);
        x[3] = 1.5f;
        x[20] = -2.0f;
        x[36] = 0.25f;
        CHECK(std::abs(cpu::log_sum_exp_at(isa, x.data(), 37) - double(reference_log_sum_exp(x))) <= kTolerance);
        // One term 1000 above the rest: the rest are under exp(-87) of it and the result is that term.
        std::vector<float> peaked(50, -500.0f);
        peaked[17] = 500.0f;
        CHECK(cpu::log_sum_exp_at(isa, peaked.data(), 50) == 500.0);
        // Large equal logits do not overflow: log(n) + v.
        std::vector<float> big(24, 1000.0f);
        CHECK(std::abs(cpu::log_sum_exp_at(isa, big.data(), 24) - (1000.0 + std::log(24.0))) <= 1e-9 * 1000);
        for (size_t at : {size_t(0), size_t(15), size_t(23)}) {
            std::vector<float> with_nan(24, 0.5f);
            with_nan[at] = std::numeric_limits<float>::quiet_NaN();
            CHECK(std::isnan(cpu::log_sum_exp_at(isa, with_nan.data(), 24)));
        }
        std::vector<float> all_masked(19, kNegInf);
        CHECK(std::isnan(cpu::log_sum_exp_at(isa, all_masked.data(), 19)));
    }
}

namespace {
int32_t reference_argmax(const std::vector<float>& x) {
    int32_t best = 0;
    for (int32_t i = 1; i < static_cast<int32_t>(x.size()); ++i)
        if (x[i] > x[best]) best = i;
    return best;
}
}  // namespace

TEST_CASE("row_argmax is the first largest entry at every level, NaN never winning", "[logits_reductions]") {
    std::mt19937 rng(5);
    const float nan = std::numeric_limits<float>::quiet_NaN();
    for (cpu::Isa isa : available_isas())
        for (int64_t n : {1, 2, 7, 8, 9, 15, 16, 17, 31, 33, 100, 32000, 32001}) {
            INFO(cpu::isa_name(isa) << " n=" << n);
            std::uniform_int_distribution<int> level(0, 5);  // few distinct values: many ties
            std::vector<float> x(static_cast<size_t>(n));
            for (float& v : x) v = static_cast<float>(level(rng));
            CHECK(cpu::row_argmax_at(isa, x.data(), n) == reference_argmax(x));
            // The maximum at each place in turn: first, in a full vector, in the tail, last.
            for (int64_t at : {int64_t(0), n / 2, n - 1}) {
                std::vector<float> y = x;
                y[size_t(at)] = 9.0f;
                CHECK(cpu::row_argmax_at(isa, y.data(), n) == at);
                if (n > 1) {
                    y[size_t(n - 1 - at)] = nan;  // a NaN elsewhere does not win
                    CHECK(cpu::row_argmax_at(isa, y.data(), n) == reference_argmax(y));
                }
            }
            std::vector<float> masked(static_cast<size_t>(n), kNegInf);
            CHECK(cpu::row_argmax_at(isa, masked.data(), n) == 0);
            masked[0] = nan;
            if (n > 1) masked[size_t(n - 1)] = 1.0f;
            CHECK(cpu::row_argmax_at(isa, masked.data(), n) == 0);  // a NaN at 0 stays best, as the loop has it
            if (isa == cpu::best_isa()) CHECK(cpu::row_argmax(x.data(), n) == reference_argmax(x));
        }
}
