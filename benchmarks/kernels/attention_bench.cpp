// benchmarks/kernels/attention_bench.cpp — micro-benchmark of paged attention on the CPU: decode (one query token
// per sequence over a long context) and prefill, with F32 and F16 KV caches, printed as JSON (medians of rounds).
//
// Usage: llmatc-attention-bench [--threads N] [--rounds R] [--isa scalar|avx2|avx2-vnni|avx512-novnni|avx512]
//                               [--heads H] [--kv-heads G] [--head-dim D] [--block-size B] [--cold]
// Defaults are TinyLlama's attention shape (32 heads, 4 KV heads, head_dim 64) and 16-token blocks. Each figure is
// one layer's attention call; "kv_gbps" is the KV cache bytes the call must read divided by its time.
// --cold reads 1 GiB between calls, so that every call finds the cache in memory, not in the last-level cache (as in
// a model's decode, where the other layers' caches and the weights pass in between); without it a cache that fits
// the last-level cache (a few MiB here, hundreds on big Xeons) is read from there.
// Not run by the tests: timings on a shared machine are noise for CI.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "kernels/cpu/cpu_backend.h"

using namespace llmatc;
using Clock = std::chrono::steady_clock;

namespace {

struct Shape {
    int32_t n_heads = 32, n_kv_heads = 4, head_dim = 64, block_size = 16;
};

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const size_t n = v.size();
    return n == 0 ? 0.0 : (n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]));
}

void check(llmatc_status status, const char* what) {
    if (status != LLMATC_OK) {
        std::fprintf(stderr, "attention_bench: %s failed (status %d)\n", what, int(status));
        std::exit(1);
    }
}

// One scenario: n_seqs sequences, each with `context` tokens of history after the step (n_new of them new), in a
// one-layer cache whose blocks are handed out in shuffled order (as a long-running server's would be).
struct Scenario {
    const char* name;
    int32_t n_seqs, context, n_new;
};

// Reads every line of `buffer` (to push other data out of the caches).
void read_through(const std::vector<uint64_t>& buffer) {
    uint64_t sum = 0;
    for (size_t i = 0; i < buffer.size(); i += 8) sum += buffer[i];
    if (sum == 42) std::fprintf(stderr, " ");  // keeps the reads observable
}

// Median seconds of one attention call over `rounds` calls (after one warm-up call); `evict` non-empty: read through
// it before each call.
double time_attention(const llmatc_kernels* k, const Shape& shape, llmatc_dtype dtype, const Scenario& sc, int rounds,
                      std::mt19937& rng, const std::vector<uint64_t>& evict) {
    const int64_t kv_row = int64_t(shape.n_kv_heads) * shape.head_dim;
    const int32_t blocks_per_seq = (sc.context + shape.block_size - 1) / shape.block_size;
    const int32_t n_blocks = blocks_per_seq * sc.n_seqs;
    const size_t elem = dtype == LLMATC_DTYPE_F16 ? 2 : 4;
    const size_t layer_bytes = size_t(n_blocks) * size_t(shape.block_size) * size_t(kv_row) * elem;
    void* k_layer = k->alloc(k->ctx, layer_bytes);
    void* v_layer = k->alloc(k->ctx, layer_bytes);
    if (!k_layer || !v_layer) {
        std::fprintf(stderr, "attention_bench: cannot allocate %zu bytes of KV cache\n", layer_bytes);
        std::exit(1);
    }
    llmatc_kv_cache cache{sizeof(llmatc_kv_cache), LLMATC_ABI_VERSION, dtype, 1, shape.n_kv_heads, shape.head_dim,
                          shape.block_size, n_blocks, &k_layer, &v_layer};

    std::vector<int32_t> pool(static_cast<size_t>(n_blocks));
    std::iota(pool.begin(), pool.end(), 0);
    std::shuffle(pool.begin(), pool.end(), rng);
    std::uniform_real_distribution<float> dist(-1.0f, 1.0f);

    // Fill every sequence's whole context with one kv_write (n_past 0, n_new = context).
    std::vector<llmatc_batch_seq> seqs(size_t(sc.n_seqs));
    {
        std::vector<float> keys(size_t(sc.n_seqs) * size_t(sc.context) * size_t(kv_row));
        std::vector<float> values(keys.size());
        for (auto& x : keys) x = dist(rng);
        for (auto& x : values) x = dist(rng);
        for (int32_t s = 0; s < sc.n_seqs; ++s)
            seqs[size_t(s)] = {pool.data() + size_t(s) * size_t(blocks_per_seq), blocks_per_seq, 0, sc.context,
                               s * sc.context};
        llmatc_batch fill{};
        fill.struct_size = sizeof(fill);
        fill.abi_version = LLMATC_ABI_VERSION;
        fill.n_tokens = sc.n_seqs * sc.context;
        fill.n_seqs = sc.n_seqs;
        fill.seqs = seqs.data();
        check(k->kv_write(k->ctx, &cache, 0, &fill, keys.data(), values.data()), "kv_write");
    }

    // The measured step: each sequence's last n_new tokens are the queries.
    for (int32_t s = 0; s < sc.n_seqs; ++s) {
        seqs[size_t(s)].n_past = sc.context - sc.n_new;
        seqs[size_t(s)].n_new = sc.n_new;
        seqs[size_t(s)].first_row = s * sc.n_new;
    }
    llmatc_batch batch{};
    batch.struct_size = sizeof(batch);
    batch.abi_version = LLMATC_ABI_VERSION;
    batch.n_tokens = sc.n_seqs * sc.n_new;
    batch.n_seqs = sc.n_seqs;
    batch.seqs = seqs.data();
    std::vector<float> q(size_t(batch.n_tokens) * size_t(shape.n_heads) * size_t(shape.head_dim));
    for (auto& x : q) x = dist(rng);
    std::vector<float> out(q.size());
    const float scale = 1.0f / std::sqrt(float(shape.head_dim));

    std::vector<double> times;
    for (int round = 0; round <= rounds; ++round) {
        if (!evict.empty()) read_through(evict);
        const auto start = Clock::now();
        check(k->attention(k->ctx, &cache, 0, &batch, q.data(), shape.n_heads, scale, out.data()), "attention");
        const double t = std::chrono::duration<double>(Clock::now() - start).count();
        if (round > 0) times.push_back(t);  // round 0 warms caches and scratch buffers
    }
    k->free(k->ctx, k_layer);
    k->free(k->ctx, v_layer);
    return median(times);
}

}  // namespace

int main(int argc, char** argv) {
    int threads = 0, rounds = 21;
    Shape shape;
    bool cold = false;
    cpu::Isa isa = cpu::best_isa();
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        const bool has_value = i + 1 < argc;
        if (arg == "--threads" && has_value) {
            threads = std::atoi(argv[++i]);
        } else if (arg == "--rounds" && has_value) {
            rounds = std::max(1, std::atoi(argv[++i]));
        } else if (arg == "--heads" && has_value) {
            shape.n_heads = std::atoi(argv[++i]);
        } else if (arg == "--kv-heads" && has_value) {
            shape.n_kv_heads = std::atoi(argv[++i]);
        } else if (arg == "--head-dim" && has_value) {
            shape.head_dim = std::atoi(argv[++i]);
        } else if (arg == "--block-size" && has_value) {
            shape.block_size = std::atoi(argv[++i]);
        } else if (arg == "--cold") {
            cold = true;
        } else if (arg == "--isa" && has_value) {
            const std::string name = argv[++i];
            if (!cpu::isa_from_name(name, &isa)) {
                std::fprintf(stderr, "%s: --isa %s: not one of %s\n", argv[0], name.c_str(),
                             cpu::isa_level_names().c_str());
                return 2;
            }
        } else {
            std::fprintf(stderr,
                         "usage: %s [--threads N] [--rounds R] [--isa scalar|avx2|avx2-vnni|avx512-novnni|avx512] "
                         "[--heads H] [--kv-heads G] [--head-dim D] [--block-size B] [--cold]\n",
                         argv[0]);
            return 2;
        }
    }
    if (shape.n_heads <= 0 || shape.n_kv_heads <= 0 || shape.head_dim <= 0 || shape.block_size <= 0 ||
        shape.n_heads % shape.n_kv_heads != 0) {
        std::fprintf(stderr, "attention_bench: --heads must be a positive multiple of --kv-heads, and --head-dim, "
                             "--block-size positive\n");
        return 2;
    }
    std::unique_ptr<KernelBackend> backend;
    try {
        backend = cpu::create_cpu_backend_for_isa(threads, isa);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "attention_bench: %s\n", e.what());
        return 1;
    }
    const llmatc_kernels* k = backend->table();

    const Scenario scenarios[] = {
        {"decode", 1, 512, 1},  {"decode", 1, 2048, 1},   {"decode", 16, 512, 1},
        {"decode", 16, 2048, 1}, {"prefill", 1, 512, 512},
    };
    std::mt19937 rng(7);
    std::vector<uint64_t> evict;
    if (cold) evict.assign(size_t(1) << 27, 1);  // 1 GiB
    std::printf("{\n  \"isa\": \"%s\",\n  \"threads\": %d,\n  \"rounds\": %d,\n  \"cold\": %s,\n",
                cpu::isa_name(isa), threads > 0 ? threads : -1, rounds, cold ? "true" : "false");
    std::printf("  \"shape\": {\"heads\": %d, \"kv_heads\": %d, \"head_dim\": %d, \"block_size\": %d},\n",
                shape.n_heads, shape.n_kv_heads, shape.head_dim, shape.block_size);
    std::printf("  \"attention\": [\n");
    bool first = true;
    for (const Scenario& sc : scenarios)
        for (llmatc_dtype dtype : {LLMATC_DTYPE_F32, LLMATC_DTYPE_F16}) {
            const double t = time_attention(k, shape, dtype, sc, rounds, rng, evict);
            const double elem = dtype == LLMATC_DTYPE_F16 ? 2.0 : 4.0;
            // Bytes of K and V the call reads (each sequence's whole context, once per KV head).
            const double kv_bytes =
                2.0 * double(sc.n_seqs) * double(sc.context) * shape.n_kv_heads * shape.head_dim * elem;
            // Multiply-adds: Q.K and P.V over each query's causal prefix.
            double pairs = 0.0;
            for (int32_t i = 0; i < sc.n_new; ++i) pairs += double(sc.context - sc.n_new + i + 1);
            const double flops = 4.0 * double(sc.n_seqs) * pairs * shape.n_heads * shape.head_dim;
            std::printf("%s    {\"mode\": \"%s\", \"kv_dtype\": \"%s\", \"seqs\": %d, \"context\": %d, \"new_tokens\": "
                        "%d, \"us\": %.1f, \"kv_gbps\": %.2f, \"gflops\": %.2f}",
                        first ? "" : ",\n", sc.name, dtype == LLMATC_DTYPE_F16 ? "F16" : "F32", sc.n_seqs, sc.context,
                        sc.n_new, t * 1e6, kv_bytes / t / 1e9, flops / t / 1e9);
            first = false;
        }
    std::printf("\n  ]\n}\n");
    return 0;
}
