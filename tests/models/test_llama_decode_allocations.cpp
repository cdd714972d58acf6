// tests/models/test_llama_decode_allocations.cpp — a decode step (model forward and every CPU kernel it calls, on
// the thread pool) allocates no heap memory once its buffers have grown to the step's shape.
#include <catch2/catch.hpp>

#include <atomic>
#include <cstdlib>
#include <new>
#include <vector>

#include "checkpoint/dtype.h"
#include "llama_forward_fixture.h"

// Every allocation in this executable is counted: operator new (replaced below, which also covers the llama
// library's std::string and std::vector) and the C allocators called from the code linked in (the kernel and model
// libraries' own buffers), through the linker's --wrap (meson.build).
namespace {
std::atomic<long> g_allocations{0};
}

extern "C" {
void* __real_malloc(size_t n);
void* __real_calloc(size_t count, size_t n);
void* __real_realloc(void* p, size_t n);
void* __real_aligned_alloc(size_t alignment, size_t n);
int __real_posix_memalign(void** out, size_t alignment, size_t n);

void* __wrap_malloc(size_t n) {
    g_allocations.fetch_add(1, std::memory_order_relaxed);
    return __real_malloc(n);
}
void* __wrap_calloc(size_t count, size_t n) {
    g_allocations.fetch_add(1, std::memory_order_relaxed);
    return __real_calloc(count, n);
}
void* __wrap_realloc(void* p, size_t n) {
    g_allocations.fetch_add(1, std::memory_order_relaxed);
    return __real_realloc(p, n);
}
void* __wrap_aligned_alloc(size_t alignment, size_t n) {
    g_allocations.fetch_add(1, std::memory_order_relaxed);
    return __real_aligned_alloc(alignment, n);
}
int __wrap_posix_memalign(void** out, size_t alignment, size_t n) {
    g_allocations.fetch_add(1, std::memory_order_relaxed);
    return __real_posix_memalign(out, alignment, n);
}
}

void* operator new(size_t n) {
    g_allocations.fetch_add(1, std::memory_order_relaxed);
    if (void* p = std::malloc(n ? n : 1)) return p;
    throw std::bad_alloc();
}
void* operator new(size_t n, std::align_val_t alignment) {
    g_allocations.fetch_add(1, std::memory_order_relaxed);
    const size_t a = static_cast<size_t>(alignment);
    if (void* p = std::aligned_alloc(a, (n + a - 1) / a * a)) return p;
    throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, size_t, std::align_val_t) noexcept { std::free(p); }

namespace {

using llama_test::Fixture;
using llama_test::TestCache;

// Decode steps of `n_seqs` sequences (one new token each), with every array of the batch made once: the test's own
// code allocates nothing between the counts.
struct DecodeBatch {
    DecodeBatch(int32_t n_seqs, int32_t vocab)
        : ids(size_t(n_seqs), 403), positions(size_t(n_seqs)), rows(size_t(n_seqs)), seqs(size_t(n_seqs)),
          blocks(size_t(n_seqs) * 2), logits(size_t(n_seqs) * size_t(vocab)) {
        for (int32_t s = 0; s < n_seqs; ++s) {
            rows[size_t(s)] = s;
            blocks[size_t(s) * 2] = 2 * s;
            blocks[size_t(s) * 2 + 1] = 2 * s + 1;
            seqs[size_t(s)] = {blocks.data() + size_t(s) * 2, 2, 0, 1, s};
        }
        batch = {sizeof(llmatc_batch), LLMATC_ABI_VERSION, n_seqs, ids.data(), positions.data(), n_seqs, seqs.data(),
                 n_seqs, rows.data(), logits.data(), nullptr, nullptr};
    }
    // Positions and n_past of step `t` (sequence s sits s tokens ahead of sequence 0, so their lengths differ).
    void at_step(int32_t t) {
        for (size_t s = 0; s < seqs.size(); ++s) {
            positions[s] = t + int32_t(s);
            seqs[s].n_past = t + int32_t(s);
        }
    }
    std::vector<int32_t> ids, positions, rows;
    std::vector<llmatc_batch_seq> seqs;
    std::vector<int32_t> blocks;
    std::vector<float> logits;
    llmatc_batch batch{};
};

// Allocations made by steps [warmup, steps) of a decode over `n_seqs` sequences, after `warmup` steps that let the
// scratch buffers grow.
long allocations_in_steady_decode(llmatc_dtype storage, llmatc_dtype kv_dtype, int32_t n_seqs) {
    Fixture f(2, storage);
    auto model = f.model();
    TestCache cache(*f.backend->table(), model->desc(), 2 * n_seqs, kv_dtype);
    DecodeBatch decode(n_seqs, model->desc().vocab_size);
    constexpr int32_t kWarmup = 2, kSteps = 18;
    long before = 0;
    for (int32_t t = 0; t < kSteps; ++t) {
        if (t == kWarmup) before = g_allocations.load();
        decode.at_step(t);
        model->forward(cache.get(), decode.batch);
    }
    return g_allocations.load() - before;
}

}  // namespace

TEST_CASE("a warm decode step allocates nothing: each weight storage and KV cache dtype, 1 and 4 sequences",
          "[llama][forward][allocations]") {
    // The counter works: a model load allocates.
    const long at_start = g_allocations.load();
    {
        Fixture f(2);
        auto model = f.model();
    }
    REQUIRE(g_allocations.load() > at_start);

    for (const llmatc_dtype storage : {static_cast<llmatc_dtype>(-1), LLMATC_DTYPE_F16, LLMATC_DTYPE_BF16,
                                       LLMATC_DTYPE_Q8_0, LLMATC_DTYPE_Q4_0}) {
        for (const llmatc_dtype kv_dtype : {LLMATC_DTYPE_F32, LLMATC_DTYPE_F16}) {
            for (const int32_t n_seqs : {1, 4}) {
                INFO("weight storage " << (int(storage) < 0 ? "as stored (F32)" : llmatc::dtype_name(storage))
                                       << ", KV cache " << llmatc::dtype_name(kv_dtype) << ", " << n_seqs
                                       << " sequences");
                CHECK(allocations_in_steady_decode(storage, kv_dtype, n_seqs) == 0);
            }
        }
    }
}
