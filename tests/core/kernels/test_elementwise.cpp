// tests/core/kernels/test_elementwise.cpp — embedding, RMSNorm, RoPE, SiLU·mul, add and softmax at every ISA level
// and thread count, against the naive reference.
#include <iterator>

#include "kernels/cpu/cpu_weight.h"
#include "reference_kernels.h"
#include "test_support.h"

using namespace llmatc;
using namespace llmatc::test;

namespace {
const int kThreadCounts[] = {1, 2, 3};
}

TEST_CASE("embedding returns the table rows as F32", "[elementwise]") {
    std::mt19937 rng(7);
    for (cpu::Isa isa : available_isas())
        for (int threads : kThreadCounts) {
            TestBackend b(threads, isa);
            for (llmatc_dtype dtype : {LLMATC_DTYPE_F32, LLMATC_DTYPE_F16, LLMATC_DTYPE_BF16, LLMATC_DTYPE_Q8_0}) {
                INFO(b.label << " " << cpu::dtype_name(dtype));
                const int64_t vocab = 53, dim = 64;
                const EncodedTensor t =
                    encode(random_vector(rng, size_t(vocab * dim)), dtype == LLMATC_DTYPE_Q8_0 ? LLMATC_DTYPE_F32
                                                                                                : dtype);
                const llmatc_tensor_view view = make_view(t, {vocab, dim});
                llmatc_weight* table = nullptr;
                LLMATC_REQUIRE_OK(b.k->weight_create(b.ctx, &view, dtype, &table));
                const std::vector<float> values = weight_values(table);
                const std::vector<int32_t> ids = {0, 52, 7, 7, 31, 1, 0, 19, 44};
                std::vector<float> out = poisoned(ids.size() * size_t(dim));
                LLMATC_REQUIRE_OK(b.k->embedding(b.ctx, table, ids.data(), int64_t(ids.size()), out.data()));
                std::vector<float> expected;
                for (int32_t id : ids)
                    expected.insert(expected.end(), values.begin() + id * dim, values.begin() + (id + 1) * dim);
                require_close(out, expected, 0, 0);
                b.k->weight_destroy(b.ctx, table);
            }
        }
}

TEST_CASE("rmsnorm normalises each row and scales by the weight", "[elementwise]") {
    std::mt19937 rng(8);
    for (cpu::Isa isa : available_isas())
        for (int threads : kThreadCounts) {
            TestBackend b(threads, isa);
            for (int64_t dim : {1, 7, 64, 771}) {
                for (int64_t n : {1, 5}) {
                    INFO(b.label << " dim " << dim << " n " << n);
                    const EncodedTensor wt = encode(random_vector(rng, size_t(dim), 0.5f, 1.5f), LLMATC_DTYPE_BF16);
                    const llmatc_tensor_view view = make_view(wt, {dim});
                    llmatc_weight* w = nullptr;
                    LLMATC_REQUIRE_OK(b.k->weight_create(b.ctx, &view, LLMATC_DTYPE_BF16, &w));
                    REQUIRE(w->dtype == LLMATC_DTYPE_F32);  // 1-D weights are always F32
                    const std::vector<float> x = random_vector(rng, size_t(n * dim), -3, 3);
                    std::vector<float> out = poisoned(x.size());
                    LLMATC_REQUIRE_OK(b.k->rmsnorm(b.ctx, x.data(), w, n, dim, 1e-5f, out.data()));
                    const std::vector<float> expected = ref_rmsnorm(x, wt.decoded, n, dim, 1e-5f);
                    require_close(out, expected, 1e-6, 1e-5);
                    // In place (out == x) gives the same result.
                    std::vector<float> in_place = x;
                    LLMATC_REQUIRE_OK(b.k->rmsnorm(b.ctx, in_place.data(), w, n, dim, 1e-5f, in_place.data()));
                    require_close(in_place, out, 0, 0);
                    b.k->weight_destroy(b.ctx, w);
                }
            }
        }
}

TEST_CASE("rope rotates pairs (i, i + head_dim/2) by position-dependent angles", "[elementwise]") {
    std::mt19937 rng(9);
    for (cpu::Isa isa : available_isas())
        for (int threads : kThreadCounts) {
            TestBackend b(threads, isa);
            for (int32_t head_dim : {2, 8, 64, 128}) {
                for (float pos_scale : {1.0f, 4.0f}) {
                    INFO(b.label << " head_dim " << head_dim << " pos_scale " << pos_scale);
                    const int64_t n = 11;
                    const int32_t n_heads = 3;
                    std::vector<int32_t> positions;
                    for (int64_t t = 0; t < n; ++t) positions.push_back(int32_t(std::uniform_int_distribution<>(0, 300)(rng)));
                    const std::vector<float> x = random_vector(rng, size_t(n * n_heads * head_dim));
                    std::vector<float> out = x;
                    LLMATC_REQUIRE_OK(
                        b.k->rope(b.ctx, out.data(), positions.data(), n, n_heads, head_dim, 10000.0f, pos_scale));
                    // Angles are F32 as in Hugging Face: |error| grows with position * 2^-24 (positions <= 300).
                    require_close(out, ref_rope(x, positions, n, n_heads, head_dim, 10000.0f, pos_scale), 1e-4, 0);
                }
            }
        }
}

TEST_CASE("silu_mul, add and softmax match the reference", "[elementwise]") {
    std::mt19937 rng(10);
    for (cpu::Isa isa : available_isas())
        for (int threads : kThreadCounts) {
            TestBackend b(threads, isa);
            for (int64_t n : {1, 17, 40000}) {
                INFO(b.label << " n " << n);
                std::vector<float> gate = random_vector(rng, size_t(n), -8, 8);
                // Past exp's range both ways (SiLU -> gate, -> -0), and its edges.
                const float extremes[] = {-1e30f, -200.0f, -88.5f, -87.0f, 87.0f, 88.5f, 200.0f, 1e30f, 0.0f};
                for (size_t e = 0; e < std::size(extremes) && e < gate.size(); ++e) gate[gate.size() - 1 - e] = extremes[e];
                const std::vector<float> up = random_vector(rng, size_t(n), -2, 2);
                std::vector<float> out = poisoned(size_t(n));
                LLMATC_REQUIRE_OK(b.k->silu_mul(b.ctx, gate.data(), up.data(), n, out.data()));
                require_close(out, ref_silu_mul(gate, up), 1e-6, 1e-5);

                std::vector<float> sum = gate;
                LLMATC_REQUIRE_OK(b.k->add(b.ctx, sum.data(), up.data(), n));
                std::vector<float> expected(static_cast<size_t>(n));
                for (size_t i = 0; i < expected.size(); ++i) expected[i] = gate[i] + up[i];
                require_close(sum, expected, 0, 0);
            }
            for (int64_t dim : {1, 5, 1000}) {
                const int64_t rows = 6;
                INFO(b.label << " softmax dim " << dim);
                const std::vector<float> x = random_vector(rng, size_t(rows * dim), -20, 20);
                std::vector<float> out = x;
                LLMATC_REQUIRE_OK(b.k->softmax(b.ctx, out.data(), rows, dim));
                require_close(out, ref_softmax(x, rows, dim), 1e-7, 1e-5);
            }
        }
}
