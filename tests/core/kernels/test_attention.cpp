// tests/core/kernels/test_attention.cpp — kv_write and attention over a paged cache with shuffled block tables,
// several sequences (prefill and decode in one batch) and grouped-query heads, against dense causal attention.
#include <algorithm>
#include <numeric>

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

// Runs kv_write + attention for a batch built from `specs` (history written in earlier steps first) and compares
// every row with the dense reference computed from the (dtype-rounded) keys and values.
void check_attention(const TestBackend& b, llmatc_dtype cache_dtype, int32_t n_heads, int32_t n_kv_heads,
                     int32_t head_dim, int32_t block_size, const std::vector<SeqSpec>& specs, std::mt19937& rng) {
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
        if (cache_dtype == LLMATC_DTYPE_F16)
            for (auto& x : v) x = cpu::fp16_to_f32(cpu::f32_to_fp16(x));
        return v;
    };
    std::vector<std::vector<float>> keys, values;
    for (const auto& s : specs) {
        keys.push_back(round(random_vector(rng, size_t(s.n_past + s.n_new) * size_t(kv_row))));
        values.push_back(round(random_vector(rng, size_t(s.n_past + s.n_new) * size_t(kv_row))));
    }

    auto make_batch = [&](std::vector<llmatc_batch_seq>& seqs, int32_t n_tokens) {
        llmatc_batch batch{};
        batch.struct_size = sizeof(batch);
        batch.abi_version = LLMATC_ABI_VERSION;
        batch.n_tokens = n_tokens;
        batch.n_seqs = int32_t(seqs.size());
        batch.seqs = seqs.data();
        return batch;
    };

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
            const llmatc_batch batch = make_batch(seqs, rows);
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
        queries.push_back(random_vector(rng, size_t(specs[s].n_new) * size_t(n_heads) * size_t(head_dim)));
        q.insert(q.end(), queries.back().begin(), queries.back().end());
        rows += specs[s].n_new;
    }
    const llmatc_batch batch = make_batch(seqs, rows);
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
    require_close(out, expected, 2e-6, 1e-5);

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
