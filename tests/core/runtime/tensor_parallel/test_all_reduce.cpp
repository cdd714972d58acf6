// tests/core/runtime/tensor_parallel/test_all_reduce.cpp — the in-process all-reduce: sums across thread ranks,
// identical results on every rank, and clean failure (no hang) on mismatched sizes or an abandoning rank.
#include <catch2/catch.hpp>

#include <atomic>
#include <random>
#include <thread>
#include <vector>

#include "runtime/tensor_parallel/all_reduce.h"
#include "util/error.h"

using llmatc::tp::InProcessAllReduce;

TEST_CASE("all-reduce sums every rank's buffer in rank order, on every rank", "[all_reduce]") {
    for (int32_t world : {1, 2, 3, 4}) {
        const size_t count = 1003;  // not a multiple of the world size: uneven slices
        InProcessAllReduce reduce(world);
        std::mt19937 rng(static_cast<uint32_t>(world));
        std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
        for (int repeat = 0; repeat < 3; ++repeat) {  // one communicator serves many calls
            std::vector<std::vector<float>> data(static_cast<size_t>(world), std::vector<float>(count));
            for (auto& d : data)
                for (float& x : d) x = dist(rng);
            std::vector<float> expected(count);
            for (size_t i = 0; i < count; ++i) {
                float total = data[0][i];
                for (int32_t r = 1; r < world; ++r) total += data[size_t(r)][i];
                expected[i] = total;
            }
            std::vector<std::thread> threads;
            for (int32_t r = 0; r < world; ++r)
                threads.emplace_back([&, r] { reduce.sum(r, data[size_t(r)].data(), count); });
            for (auto& t : threads) t.join();
            for (int32_t r = 0; r < world; ++r) REQUIRE(data[size_t(r)] == expected);
        }
    }
}

TEST_CASE("all-reduce with mismatched sizes fails on every rank instead of corrupting memory", "[all_reduce]") {
    InProcessAllReduce reduce(2);
    std::vector<float> a(10, 1.0f), b(12, 1.0f);
    std::atomic<int> failures{0};
    std::thread other([&] {
        try {
            reduce.sum(1, b.data(), b.size());
        } catch (const llmatc::Error& e) {
            CHECK(std::string(e.what()).find("rank 1 sums 12") != std::string::npos);
            ++failures;
        }
    });
    try {
        reduce.sum(0, a.data(), a.size());
    } catch (const llmatc::Error&) {
        ++failures;
    }
    other.join();
    REQUIRE(failures == 2);
    REQUIRE(a == std::vector<float>(10, 1.0f));
}

TEST_CASE("a rank that abandons the step releases the ranks waiting in sum", "[all_reduce]") {
    InProcessAllReduce reduce(3);
    std::vector<std::vector<float>> data(2, std::vector<float>(8, 1.0f));
    std::atomic<int> cancelled{0};
    std::vector<std::thread> waiting;
    for (int32_t r = 0; r < 2; ++r)
        waiting.emplace_back([&, r] {
            try {
                reduce.sum(r, data[size_t(r)].data(), 8);
            } catch (const llmatc::Error& e) {
                if (e.status() == LLMATC_ERR_CANCELLED) ++cancelled;
            }
        });
    reduce.abandon(2);
    for (auto& t : waiting) t.join();
    REQUIRE(cancelled == 2);
}

TEST_CASE("all-reduce rejects a bad world size or rank", "[all_reduce]") {
    REQUIRE_THROWS_AS(InProcessAllReduce(0), llmatc::Error);
    InProcessAllReduce reduce(2);
    float x = 0.0f;
    REQUIRE_THROWS_WITH(reduce.sum(2, &x, 1), Catch::Contains("rank 2 is outside [0, 2)"));
}
