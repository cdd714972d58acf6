// tests/core/kernels/test_attention.cpp — kv_write and attention over a paged cache with shuffled block tables,
// several sequences (prefill and decode in one batch) and grouped-query heads, against dense causal attention.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "kernels/cpu/attention_tiles.h"
#include "kernels/cpu/fp16.h"
#include "reference_kernels.h"
#include "test_support.h"

using namespace llmatc;
using namespace llmatc::test;

namespace {

struct SeqSpec {
    int32_t n_past;
    int32_t n_new;
};

// A batch of n_seqs sequences (seqs) and n_tokens rows.
llmatc_batch make_batch(llmatc_batch_seq* seqs, int32_t n_seqs, int32_t n_tokens) {
    llmatc_batch batch{};
    batch.struct_size = sizeof(batch);
    batch.abi_version = LLMATC_ABI_VERSION;
    batch.n_tokens = n_tokens;
    batch.n_seqs = n_seqs;
    batch.seqs = seqs;
    return batch;
}

// How check_attention's reference sees the keys and values, and how close the kernel must come to it.
struct Reference {
    bool rounded_history = true;  // the reference uses keys/values rounded to the cache dtype (else the F32 ones)
    float query_scale = 1.0f;     // queries are uniform in [-query_scale, query_scale]: larger = sharper softmax
    double atol = 2e-6, rtol = 1e-5;
};

// Runs kv_write + attention for a batch built from `specs` (history written in earlier steps first) and compares
// every row with the dense reference computed from the keys and values (rounded to the cache dtype by default).
void check_attention(const TestBackend& b, llmatc_dtype cache_dtype, int32_t n_heads, int32_t n_kv_heads,
                     int32_t head_dim, int32_t block_size, const std::vector<SeqSpec>& specs, std::mt19937& rng,
                     const Reference& reference = {}) {
    INFO(b.label << " cache " << (cache_dtype == LLMATC_DTYPE_F16 ? "F16" : "F32") << " heads " << n_heads << "/"
                 << n_kv_heads << " head_dim " << head_dim << " block " << block_size);
    const int32_t n_layers = 2, layer = 1;
    const int64_t kv_row = int64_t(n_kv_heads) * head_dim;

    // Blocks: each sequence gets enough, assigned from a shuffled pool so tables are not in memory order.
    std::vector<std::vector<int32_t>> tables;
    int32_t total_blocks = 0;
    for (const auto& s : specs) {
        const int32_t need = (s.n_past + s.n_new + block_size - 1) / block_size;
        tables.emplace_back(size_t(need));
        total_blocks += need;
    }
    total_blocks += 3;  // spare blocks nobody uses
    std::vector<int32_t> pool(static_cast<size_t>(total_blocks));
    std::iota(pool.begin(), pool.end(), 0);
    std::shuffle(pool.begin(), pool.end(), rng);
    size_t next = 0;
    for (auto& t : tables)
        for (auto& id : t) id = pool[next++];

    const size_t elem = cache_dtype == LLMATC_DTYPE_F16 ? 2 : 4;
    const size_t layer_bytes = size_t(total_blocks) * size_t(block_size) * size_t(kv_row) * elem;
    std::vector<void*> k_layers(n_layers), v_layers(n_layers);
    for (int32_t l = 0; l < n_layers; ++l) {
        k_layers[size_t(l)] = b.k->alloc(b.ctx, layer_bytes);
        v_layers[size_t(l)] = b.k->alloc(b.ctx, layer_bytes);
        REQUIRE(k_layers[size_t(l)]);
        REQUIRE(v_layers[size_t(l)]);
    }
    llmatc_kv_cache cache{sizeof(llmatc_kv_cache), LLMATC_ABI_VERSION, cache_dtype, n_layers, n_kv_heads,
                          head_dim, block_size, total_blocks, k_layers.data(), v_layers.data()};

    // Full histories (dense, token order), rounded to the cache's dtype.
    auto round = [&](std::vector<float> v) {
        if (cache_dtype == LLMATC_DTYPE_F16 && reference.rounded_history)
            for (auto& x : v) x = cpu::fp16_to_f32(cpu::f32_to_fp16(x));
        return v;
    };
    std::vector<std::vector<float>> keys, values;
    for (const auto& s : specs) {
        keys.push_back(round(random_vector(rng, size_t(s.n_past + s.n_new) * size_t(kv_row))));
        values.push_back(round(random_vector(rng, size_t(s.n_past + s.n_new) * size_t(kv_row))));
    }

    // Step 1: write each sequence's history (n_past tokens) as one prefill batch.
    {
        std::vector<llmatc_batch_seq> seqs;
        std::vector<float> k, v;
        int32_t rows = 0;
        for (size_t s = 0; s < specs.size(); ++s) {
            if (specs[s].n_past == 0) continue;
            seqs.push_back({tables[s].data(), int32_t(tables[s].size()), 0, specs[s].n_past, rows});
            k.insert(k.end(), keys[s].begin(), keys[s].begin() + specs[s].n_past * kv_row);
            v.insert(v.end(), values[s].begin(), values[s].begin() + specs[s].n_past * kv_row);
            rows += specs[s].n_past;
        }
        if (rows > 0) {
            const llmatc_batch batch = make_batch(seqs.data(), int32_t(seqs.size()), rows);
            LLMATC_REQUIRE_OK(b.k->kv_write(b.ctx, &cache, layer, &batch, k.data(), v.data()));
        }
    }

    // Step 2: the batch under test: every sequence's new tokens.
    std::vector<llmatc_batch_seq> seqs;
    std::vector<float> k, v, q;
    std::vector<std::vector<float>> queries;
    int32_t rows = 0;
    for (size_t s = 0; s < specs.size(); ++s) {
        seqs.push_back({tables[s].data(), int32_t(tables[s].size()), specs[s].n_past, specs[s].n_new, rows});
        k.insert(k.end(), keys[s].begin() + specs[s].n_past * kv_row, keys[s].end());
        v.insert(v.end(), values[s].begin() + specs[s].n_past * kv_row, values[s].end());
        queries.push_back(random_vector(rng, size_t(specs[s].n_new) * size_t(n_heads) * size_t(head_dim),
                                        -reference.query_scale, reference.query_scale));
        q.insert(q.end(), queries.back().begin(), queries.back().end());
        rows += specs[s].n_new;
    }
    const llmatc_batch batch = make_batch(seqs.data(), int32_t(seqs.size()), rows);
    LLMATC_REQUIRE_OK(b.k->kv_write(b.ctx, &cache, layer, &batch, k.data(), v.data()));
    std::vector<float> out = poisoned(q.size());
    const float scale = 1.0f / std::sqrt(float(head_dim));
    LLMATC_REQUIRE_OK(b.k->attention(b.ctx, &cache, layer, &batch, q.data(), n_heads, scale, out.data()));

    std::vector<float> expected;
    for (size_t s = 0; s < specs.size(); ++s) {
        const auto e = ref_attention(queries[s], keys[s], values[s], specs[s].n_past, specs[s].n_new, n_heads,
                                     n_kv_heads, head_dim, scale);
        expected.insert(expected.end(), e.begin(), e.end());
    }
    // Outputs are convex combinations of values in [-1, 1]; F32 online softmax keeps the error far below 1e-5.
    require_close(out, expected, reference.atol, reference.rtol);

    for (int32_t l = 0; l < n_layers; ++l) {
        b.k->free(b.ctx, k_layers[size_t(l)]);
        b.k->free(b.ctx, v_layers[size_t(l)]);
    }
}

}  // namespace

TEST_CASE("attention over a paged cache matches dense causal attention", "[attention]") {
    std::mt19937 rng(11);
    for (cpu::Isa isa : available_isas())
        for (int threads : {1, 2, 3}) {
            TestBackend b(threads, isa);
            for (llmatc_dtype dtype : {LLMATC_DTYPE_F32, LLMATC_DTYPE_F16}) {
                // Mixed batch: a fresh prefill, a decode with a long history, a chunked prefill, a 1-token prompt.
                const std::vector<SeqSpec> mixed = {{0, 9}, {37, 1}, {16, 5}, {0, 1}};
                check_attention(b, dtype, 4, 4, 16, 4, mixed, rng);       // multi-head
                check_attention(b, dtype, 8, 2, 64, 16, mixed, rng);      // GQA, group 4
                check_attention(b, dtype, 6, 1, 24, 3, {{5, 3}}, rng);    // MQA, odd head_dim
                check_attention(b, dtype, 2, 2, 8, 1, {{0, 7}, {3, 2}}, rng);  // block_size 1
            }
        }
}

TEST_CASE("attention over an F16 cache stays within F16 rounding of F32 attention", "[attention]") {
    // The cache rounds keys and values to F16 (relative error <= 2^-11); the reference keeps them in F32. Values in
    // [-1, 1] move each output by at most ~5e-4, and key rounding moves each score by about |q| * 2^-11, so with
    // sharp attention (queries in [-3, 3]) an output may be off by a few 1e-4 - never 2e-3. A kernel that misreads
    // the cache (wrong slot, block, tile or head) is off by ~0.1 or more.
    Reference f16_vs_f32;
    f16_vs_f32.rounded_history = false;
    f16_vs_f32.query_scale = 3.0f;
    f16_vs_f32.atol = 2e-3;
    f16_vs_f32.rtol = 0.0;
    std::mt19937 rng(23);
    for (cpu::Isa isa : available_isas())
        for (int threads : {1, 2}) {
            TestBackend b(threads, isa);
            // TinyLlama's heads: decodes at long contexts (crossing many 16-token blocks and 64-token tiles), a
            // prefill that crosses tile boundaries, and a chunked prefill continuing one.
            const std::vector<SeqSpec> tinyllama = {{300, 1}, {0, 70}, {129, 1}, {64, 19}, {1000, 1}};
            check_attention(b, LLMATC_DTYPE_F16, 32, 4, 64, 16, tinyllama, rng, f16_vs_f32);
            // Wider and odd head widths (padded rows), MQA, multi-head with few blocks per tile.
            check_attention(b, LLMATC_DTYPE_F16, 16, 2, 128, 32, {{200, 3}, {0, 33}}, rng, f16_vs_f32);
            check_attention(b, LLMATC_DTYPE_F16, 8, 1, 80, 7, {{150, 2}, {0, 17}, {9, 1}}, rng, f16_vs_f32);
            check_attention(b, LLMATC_DTYPE_F16, 12, 12, 64, 16, {{90, 1}, {0, 40}}, rng, f16_vs_f32);
        }
}

TEST_CASE("attention at long contexts matches dense attention exactly in F32 and F16-rounded", "[attention]") {
    // The shapes above, against the reference over the cache's own (rounded) history, at the F32 tolerance.
    std::mt19937 rng(29);
    for (cpu::Isa isa : available_isas()) {
        TestBackend b(2, isa);
        for (llmatc_dtype dtype : {LLMATC_DTYPE_F32, LLMATC_DTYPE_F16}) {
            check_attention(b, dtype, 32, 4, 64, 16, {{300, 1}, {0, 70}, {64, 19}, {1000, 1}}, rng);
            check_attention(b, dtype, 8, 1, 80, 7, {{150, 2}, {0, 17}}, rng);
            check_attention(b, dtype, 16, 2, 256, 16, {{100, 3}}, rng);  // tiles shrink for wide heads
            check_attention(b, dtype, 12, 4, 64, 16, {{130, 2}, {0, 21}}, rng);  // group 3: pairs and singles
        }
    }
}

TEST_CASE("kv_write stores F16 keys and values rounded to nearest even", "[attention]") {
    // Every ISA's vector conversion must agree bit for bit with the scalar f32_to_fp16 (the engine's batching
    // invariance relies on the cache holding the same bits whatever wrote them), tails and odd widths included.
    std::mt19937 rng(31);
    for (cpu::Isa isa : available_isas()) {
        TestBackend b(2, isa);
        for (int32_t head_dim : {64, 80, 7}) {
            INFO(b.label << " head_dim " << head_dim);
            const int32_t n_kv_heads = 3, block_size = 4, n_blocks = 6, n_tokens = 21;
            const int64_t kv_row = int64_t(n_kv_heads) * head_dim;
            const size_t bytes = size_t(n_blocks) * block_size * size_t(kv_row) * 2;
            void* k_layer = b.k->alloc(b.ctx, bytes);
            void* v_layer = b.k->alloc(b.ctx, bytes);
            REQUIRE(k_layer);
            REQUIRE(v_layer);
            llmatc_kv_cache cache{sizeof(llmatc_kv_cache), LLMATC_ABI_VERSION, LLMATC_DTYPE_F16, 1, n_kv_heads,
                                  head_dim, block_size, n_blocks, &k_layer, &v_layer};
            std::vector<int32_t> table = {5, 0, 3, 1, 4, 2};
            // Values of every magnitude F16 has: normal, subnormal, overflowing, halfway cases.
            std::vector<float> k = random_vector(rng, size_t(n_tokens) * size_t(kv_row), -70000.0f, 70000.0f);
            std::vector<float> v = random_vector(rng, size_t(n_tokens) * size_t(kv_row), -1e-5f, 1e-5f);
            k[0] = 1.0009765625f + 0.00048828125f;  // exactly halfway between two halves: rounds to even
            k[1] = 65519.0f;                        // just below the overflow threshold
            llmatc_batch_seq seq{table.data(), n_blocks, 0, n_tokens, 0};
            const llmatc_batch batch = make_batch(&seq, 1, n_tokens);
            LLMATC_REQUIRE_OK(b.k->kv_write(b.ctx, &cache, 0, &batch, k.data(), v.data()));
            int mismatches = 0;
            for (int32_t t = 0; t < n_tokens; ++t) {
                const int64_t slot = int64_t(table[size_t(t / block_size)]) * block_size + t % block_size;
                for (int64_t c = 0; c < kv_row; ++c) {
                    const size_t src = size_t(t * kv_row + c);
                    mismatches += static_cast<const uint16_t*>(k_layer)[slot * kv_row + c] != cpu::f32_to_fp16(k[src]);
                    mismatches += static_cast<const uint16_t*>(v_layer)[slot * kv_row + c] != cpu::f32_to_fp16(v[src]);
                }
            }
            CHECK(mismatches == 0);
            b.k->free(b.ctx, k_layer);
            b.k->free(b.ctx, v_layer);
        }
    }
}

TEST_CASE("paired attention tiles compute exactly what single ones do", "[attention]") {
    // cpu_attention pairs query vectors of one row to share key/value loads; batching invariance needs a vector's
    // result not to depend on whether it was paired, so pairs must be bit-identical to singles.
    std::mt19937 rng(37);
    for (cpu::Isa isa : available_isas()) {
        const cpu::AttentionTileKernels& tiles = cpu::attention_tile_kernels(isa);
        for (int32_t d_pad : {16, 64, 144, 256}) {
            for (int32_t n_rows : {1, 8, 13, 64}) {
                INFO(cpu::isa_name(isa) << " d_pad " << d_pad << " rows " << n_rows);
                const int32_t scored = (n_rows + 7) / 8 * 8;
                const auto q0 = random_vector(rng, size_t(d_pad)), q1 = random_vector(rng, size_t(d_pad));
                const auto k = random_vector(rng, size_t(scored) * size_t(d_pad));
                const auto v = random_vector(rng, size_t(n_rows) * size_t(d_pad));
                const size_t n_scores = static_cast<size_t>(scored);
                std::vector<float> s0(n_scores), s1(n_scores), p0(n_scores), p1(n_scores);
                tiles.dot_rows(q0.data(), k.data(), d_pad, n_rows, s0.data());
                tiles.dot_rows(q1.data(), k.data(), d_pad, n_rows, s1.data());
                tiles.dot_rows2(q0.data(), q1.data(), k.data(), d_pad, n_rows, p0.data(), p1.data());
                CHECK(std::equal(s0.begin(), s0.begin() + n_rows, p0.begin()));
                CHECK(std::equal(s1.begin(), s1.begin() + n_rows, p1.begin()));
                auto o0 = random_vector(rng, size_t(d_pad)), o1 = random_vector(rng, size_t(d_pad));
                auto paired0 = o0, paired1 = o1;
                tiles.accumulate(o0.data(), 0.5f, s0.data(), v.data(), n_rows, d_pad);
                tiles.accumulate(o1.data(), 0.25f, s1.data(), v.data(), n_rows, d_pad);
                tiles.accumulate2(paired0.data(), paired1.data(), 0.5f, 0.25f, s0.data(), s1.data(), v.data(), n_rows,
                                  d_pad);
                CHECK(o0 == paired0);
                CHECK(o1 == paired1);
            }
        }
    }
}

TEST_CASE("a sequence's attention has the same bits alone and batched, whatever heads its tasks share", "[attention]") {
    // Tasks take ranges of adjacent KV heads, sized by the batch (a lone decode keeps one head per task so every
    // thread has work; a big batch groups heads). A query vector's arithmetic must not depend on its task's range.
    std::mt19937 rng(41);
    for (cpu::Isa isa : available_isas())
        for (int threads : {1, 2}) {
            TestBackend b(threads, isa);
            for (llmatc_dtype dtype : {LLMATC_DTYPE_F32, LLMATC_DTYPE_F16}) {
                for (int32_t group : {1, 4}) {
                    const int32_t n_kv_heads = 8, head_dim = 64, block_size = 16, n_heads = n_kv_heads * group;
                    INFO(b.label << " group " << group << (dtype == LLMATC_DTYPE_F16 ? " F16" : " F32"));
                    const int64_t kv_row = int64_t(n_kv_heads) * head_dim, q_row = int64_t(n_heads) * head_dim;
                    // Twelve decodes at different depths and a prefill; every sequence owns its blocks.
                    std::vector<SeqSpec> specs;
                    for (int32_t s = 0; s < 12; ++s) specs.push_back({40 + 23 * s, 1});
                    specs.push_back({0, 9});
                    std::vector<std::vector<int32_t>> tables;
                    int32_t n_blocks = 0;
                    for (const auto& s : specs) {
                        const int32_t need = (s.n_past + s.n_new + block_size - 1) / block_size;
                        tables.emplace_back(size_t(need));
                        for (auto& id : tables.back()) id = n_blocks++;
                    }
                    const size_t elem = dtype == LLMATC_DTYPE_F16 ? 2 : 4;
                    const size_t bytes = size_t(n_blocks) * block_size * size_t(kv_row) * elem;
                    void* k_layer = b.k->alloc(b.ctx, bytes);
                    void* v_layer = b.k->alloc(b.ctx, bytes);
                    REQUIRE(k_layer);
                    REQUIRE(v_layer);
                    llmatc_kv_cache cache{sizeof(llmatc_kv_cache), LLMATC_ABI_VERSION, dtype, 1, n_kv_heads,
                                          head_dim, block_size, n_blocks, &k_layer, &v_layer};
                    // Every sequence's whole history and new tokens written at once; then attention for the new.
                    std::vector<llmatc_batch_seq> writes, steps;
                    int32_t written = 0, rows = 0;
                    for (size_t s = 0; s < specs.size(); ++s) {
                        const int32_t total = specs[s].n_past + specs[s].n_new;
                        writes.push_back({tables[s].data(), int32_t(tables[s].size()), 0, total, written});
                        steps.push_back({tables[s].data(), int32_t(tables[s].size()), specs[s].n_past,
                                         specs[s].n_new, rows});
                        written += total;
                        rows += specs[s].n_new;
                    }
                    const auto k = random_vector(rng, size_t(written) * size_t(kv_row));
                    const auto v = random_vector(rng, size_t(written) * size_t(kv_row));
                    const llmatc_batch write_batch = make_batch(writes.data(), int32_t(writes.size()), written);
                    LLMATC_REQUIRE_OK(b.k->kv_write(b.ctx, &cache, 0, &write_batch, k.data(), v.data()));
                    const auto q = random_vector(rng, size_t(rows) * size_t(q_row), -3.0f, 3.0f);
                    const float scale = 1.0f / std::sqrt(float(head_dim));
                    std::vector<float> batched = poisoned(q.size());
                    const llmatc_batch all = make_batch(steps.data(), int32_t(steps.size()), rows);
                    LLMATC_REQUIRE_OK(b.k->attention(b.ctx, &cache, 0, &all, q.data(), n_heads, scale,
                                                     batched.data()));
                    for (size_t s = 0; s < specs.size(); ++s) {
                        INFO("sequence " << s);
                        llmatc_batch_seq lone = steps[s];
                        lone.first_row = 0;
                        const llmatc_batch one = make_batch(&lone, 1, lone.n_new);
                        const size_t first = size_t(steps[s].first_row) * size_t(q_row);
                        const size_t count = size_t(lone.n_new) * size_t(q_row);
                        std::vector<float> alone = poisoned(count);
                        LLMATC_REQUIRE_OK(b.k->attention(b.ctx, &cache, 0, &one, q.data() + first, n_heads, scale,
                                                         alone.data()));
                        CHECK(std::equal(alone.begin(), alone.end(), batched.begin() + std::ptrdiff_t(first)));
                    }
                    b.k->free(b.ctx, k_layer);
                    b.k->free(b.ctx, v_layer);
                }
            }
        }
}
