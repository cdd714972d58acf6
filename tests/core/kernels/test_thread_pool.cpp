// tests/core/kernels/test_thread_pool.cpp — the persistent pool runs every index exactly once, on every thread
// count, across many consecutive jobs.
#include <atomic>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "kernels/cpu/thread_pool.h"

using llmatc::cpu::ThreadPool;

TEST_CASE("parallel_for covers each index exactly once", "[thread_pool]") {
    for (int threads : {1, 2, 3, 5}) {
        ThreadPool pool(threads);
        REQUIRE(pool.size() == threads);
        for (int64_t n : {1, 2, 7, 100, 10007}) {
            for (int64_t chunk : {int64_t(1), int64_t(3), pool.chunk_for(n, 8)}) {
                std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
                std::atomic<int> bad_thread{0};
                pool.parallel_for(n, chunk, [&](int64_t begin, int64_t end, int thread) {
                    if (thread < 0 || thread >= threads) bad_thread.fetch_add(1);
                    for (int64_t i = begin; i < end; ++i) hits[size_t(i)].fetch_add(1);
                });
                INFO("threads " << threads << " n " << n << " chunk " << chunk);
                REQUIRE(bad_thread.load() == 0);
                for (auto& h : hits) REQUIRE(h.load() == 1);
            }
        }
    }
}

TEST_CASE("many back-to-back jobs all complete", "[thread_pool]") {
    ThreadPool pool(3);
    int64_t total = 0;
    for (int job = 0; job < 3000; ++job) {
        std::atomic<int64_t> sum{0};
        pool.parallel_for(64, 4, [&](int64_t begin, int64_t end, int) {
            for (int64_t i = begin; i < end; ++i) sum.fetch_add(i);
        });
        total += sum.load();
    }
    REQUIRE(total == int64_t(3000) * (63 * 64 / 2));
}

TEST_CASE("0 threads means one per core", "[thread_pool]") {
    ThreadPool pool(0);
    REQUIRE(pool.size() >= 1);
}

TEST_CASE("chunk_for_work keeps tiny jobs in one chunk and splits large ones", "[thread_pool]") {
    ThreadPool pool(4);
    // A 64x64 GEMV: 64 rows of 64 multiply-adds, far below the minimum: one chunk, so it runs inline.
    REQUIRE(pool.chunk_for_work(64, 8, 64.0, 32768.0) == 64);
    // Big rows: the plain split (4 threads x 4 chunks) is kept.
    REQUIRE(pool.chunk_for_work(4096, 8, 4096.0, 32768.0) == pool.chunk_for(4096, 8));
    // In between: chunks grow to hold the minimum work, rounded to the multiple.
    const int64_t chunk = pool.chunk_for_work(1024, 8, 1000.0, 32768.0);
    REQUIRE(chunk % 8 == 0);
    REQUIRE(double(chunk) * 1000.0 >= 32768.0);
    REQUIRE(chunk < 1024);
}

TEST_CASE("more threads than cores: every job still completes exactly once", "[thread_pool]") {
    // Oversubscribed on purpose: workers are often descheduled; the caller must not depend on them joining.
    ThreadPool pool(int(std::thread::hardware_concurrency()) * 4 + 1);
    int64_t total = 0;
    for (int job = 0; job < 2000; ++job) {
        std::atomic<int64_t> sum{0};
        pool.parallel_for(256, 8, [&](int64_t begin, int64_t end, int) {
            for (int64_t i = begin; i < end; ++i) sum.fetch_add(i);
        });
        total += sum.load();
    }
    REQUIRE(total == int64_t(2000) * (255 * 256 / 2));
}
