// tests/core/kernels/test_q4_k.cpp — Q4_K weights: quantize-at-load fidelity, zero-copy GGUF blocks, shape errors,
// and matmul at every ISA level and thread count against the reference on the quantized operands.
#include <cmath>
#include <cstring>

#include "kernels/cpu/cpu_weight.h"
#include "kernels/cpu/isa_kernels.h"
#include "kernels/cpu/quant_q4_k.h"
#include "kernels/cpu/quant_q4_k_packed.h"
#include "reference_kernels.h"
#include "test_support.h"

using namespace llmatc;
using namespace llmatc::test;

namespace {

struct Shape {
    int64_t rows, cols, n;
};

// Rows not a multiple of 8 or 16 exercise the row-range tails; n covers the GEMV path and every activation tile
// remainder (1..4) and crosses a 4-row tile several times.
const Shape kShapes[] = {{1, 256, 1}, {7, 256, 2}, {13, 512, 3}, {37, 768, 1}, {9, 256, 4},
                         {21, 1024, 5}, {3, 512, 17}, {70, 256, 7}, {5, 2048, 9}};

// x as the Q4_K kernels see it: quantized per 256 to BlockQ8K and read back in element order. The element order of
// BlockQ8K::qs is the one documented in quant_q4_k.h.
std::vector<float> q8k_roundtrip(const std::vector<float>& x, int64_t cols) {
    std::vector<float> out(x.size());
    std::vector<cpu::BlockQ8K> blocks(size_t(cols / cpu::kQ4KBlock));
    for (size_t row = 0; row < x.size() / size_t(cols); ++row) {
        cpu::quantize_row_q8k(x.data() + row * size_t(cols), blocks.data(), cols);
        for (size_t b = 0; b < blocks.size(); ++b) {
            float* o = out.data() + row * size_t(cols) + b * 256;
            const cpu::BlockQ8K& q = blocks[b];
            int sums[8] = {0, 0, 0, 0, 0, 0, 0, 0};
            for (int h = 0; h < 2; ++h)
                for (int byte = 0; byte < 64; ++byte) {
                    const int element = 64 * (2 * h + byte / 32) + byte % 32;
                    o[element] = q.d * float(q.qs[128 * h + byte]);
                    o[element + 32] = q.d * float(q.qs[128 * h + 64 + byte]);
                    sums[element / 32] += q.qs[128 * h + byte];
                    sums[(element + 32) / 32] += q.qs[128 * h + 64 + byte];
                }
            for (int s = 0; s < 8; ++s) REQUIRE(sums[s] == q.sums[s]);
        }
    }
    return out;
}

// Bytes a Q4_K weight takes on a backend: repacked into 16-row groups where the ISA's kernels read that layout.
uint64_t expected_q4_k_bytes(cpu::Isa isa, int64_t rows, int64_t cols) {
    return cpu::isa_kernels(isa).packs_quantized ? cpu::packed_q4_k_weight_bytes(rows, cols)
                                                 : uint64_t(rows) * uint64_t(cols / 256) * 144;
}

double rms(const std::vector<float>& a, const std::vector<float>& b) {
    double sum = 0;
    for (size_t i = 0; i < a.size(); ++i) sum += (double(a[i]) - b[i]) * (double(a[i]) - b[i]);
    return std::sqrt(sum / double(a.size()));
}

}  // namespace

TEST_CASE("Q4_K quantize at load keeps rows close to the source", "[q4_k]") {
    std::mt19937 rng(7);
    TestBackend b(2, cpu::Isa::scalar);
    // Uniform data in [-1, 1): a 4-bit grid over the sub-block's range has step ~2/15, so the rounding error's RMS
    // is about step / sqrt(12) ~ 0.04; the least-squares fit must not be worse than that plain min/max grid.
    const EncodedTensor t = encode(random_vector(rng, 64 * 512), LLMATC_DTYPE_F32);
    const llmatc_tensor_view view = make_view(t, {64, 512});
    llmatc_weight* w = nullptr;
    LLMATC_REQUIRE_OK(b.k->weight_create(b.ctx, &view, LLMATC_DTYPE_Q4_K, &w));
    REQUIRE(w->dtype == LLMATC_DTYPE_Q4_K);
    REQUIRE(b.k->weight_bytes(b.ctx, w) == uint64_t(64 * 2 * 144));
    const double error = rms(weight_values(w), t.decoded);
    INFO("RMS error " << error);
    CHECK(error < (2.0 / 15.0) / std::sqrt(12.0));
    CHECK(error > 0.0);
    b.k->weight_destroy(b.ctx, w);

    // A constant row and an all-zero row are represented exactly enough (no NaN from a zero range).
    std::vector<float> flat(2 * 256, 0.0f);
    for (int i = 0; i < 256; ++i) flat[size_t(i)] = 0.25f;
    const EncodedTensor f = encode(flat, LLMATC_DTYPE_F32);
    const llmatc_tensor_view flat_view = make_view(f, {2, 256});
    LLMATC_REQUIRE_OK(b.k->weight_create(b.ctx, &flat_view, LLMATC_DTYPE_Q4_K, &w));
    const std::vector<float> values = weight_values(w);
    for (int i = 0; i < 256; ++i) REQUIRE(std::fabs(values[size_t(i)] - 0.25f) < 0.25f / 63.0f + 1e-3f);
    for (int i = 256; i < 512; ++i) REQUIRE(values[size_t(i)] == 0.0f);
    b.k->weight_destroy(b.ctx, w);
}

TEST_CASE("matmul with Q4_K weights matches the reference on the quantized values", "[q4_k]") {
    std::mt19937 rng(4242);
    for (cpu::Isa isa : available_isas()) {
        for (int threads : {1, 2, 3}) {
            TestBackend b(threads, isa);
            for (llmatc_dtype src : {LLMATC_DTYPE_F32, LLMATC_DTYPE_BF16}) {
                for (const Shape& s : kShapes) {
                    INFO(b.label << " src " << cpu::dtype_name(src) << " shape [" << s.rows << ", " << s.cols
                                 << "] n " << s.n);
                    const EncodedTensor t = encode(random_vector(rng, size_t(s.rows * s.cols)), src);
                    const llmatc_tensor_view view = make_view(t, {s.rows, s.cols});
                    llmatc_weight* w = nullptr;
                    LLMATC_REQUIRE_OK(b.k->weight_create(b.ctx, &view, LLMATC_DTYPE_Q4_K, &w));
                    REQUIRE(w->packed == cpu::isa_kernels(isa).packs_quantized);
                    REQUIRE(b.k->weight_bytes(b.ctx, w) == expected_q4_k_bytes(isa, s.rows, s.cols));
                    const std::vector<float> wv = weight_values(w);
                    const std::vector<float> x = random_vector(rng, size_t(s.n * s.cols));
                    std::vector<float> y = poisoned(size_t(s.n * s.rows));
                    LLMATC_REQUIRE_OK(b.k->matmul(b.ctx, w, x.data(), s.n, y.data()));
                    // Same quantized operands as the reference: integer products are exact; the per-super-block
                    // scaling and the sums over super-blocks are F32 (and a 24-bit mantissa for the int sums).
                    require_close(y, ref_matmul(wv, s.rows, s.cols, q8k_roundtrip(x, s.cols), s.n), 1e-6, 2e-5,
                                  ref_matmul_magnitude(wv, s.rows, s.cols, x, s.n));
                    // Faithful to the unquantized product: uniform data gives ~2% of sum |x w| at K = 256.
                    const std::vector<float> exact = ref_matmul(t.decoded, s.rows, s.cols, x, s.n);
                    const std::vector<float> magnitude = ref_matmul_magnitude(t.decoded, s.rows, s.cols, x, s.n);
                    double num = 0, den = 0;
                    for (size_t i = 0; i < y.size(); ++i) {
                        num += (double(y[i]) - exact[i]) * (double(y[i]) - exact[i]);
                        den += double(magnitude[i]) * magnitude[i];
                    }
                    CHECK(std::sqrt(num / den) < 0.05);
                    b.k->weight_destroy(b.ctx, w);
                }
            }
        }
    }
}

TEST_CASE("every ISA's Q4_K matmul agrees with the scalar kernel", "[q4_k]") {
    std::mt19937 rng(31337);
    TestBackend scalar(1, cpu::Isa::scalar);
    for (cpu::Isa isa : available_isas()) {
        TestBackend b(2, isa);
        for (const Shape& s : kShapes) {
            INFO(b.label << " shape [" << s.rows << ", " << s.cols << "] n " << s.n);
            const EncodedTensor t = encode(random_vector(rng, size_t(s.rows * s.cols)), LLMATC_DTYPE_F32);
            const llmatc_tensor_view view = make_view(t, {s.rows, s.cols});
            llmatc_weight *w = nullptr, *w_ref = nullptr;
            LLMATC_REQUIRE_OK(b.k->weight_create(b.ctx, &view, LLMATC_DTYPE_Q4_K, &w));
            LLMATC_REQUIRE_OK(scalar.k->weight_create(scalar.ctx, &view, LLMATC_DTYPE_Q4_K, &w_ref));
            REQUIRE(weight_values(w) == weight_values(w_ref));  // one quantizer for all ISAs, whatever the layout
            const std::vector<float> x = random_vector(rng, size_t(s.n * s.cols), -3.0f, 3.0f);
            std::vector<float> y = poisoned(size_t(s.n * s.rows)), y_ref = poisoned(size_t(s.n * s.rows));
            LLMATC_REQUIRE_OK(b.k->matmul(b.ctx, w, x.data(), s.n, y.data()));
            LLMATC_REQUIRE_OK(scalar.k->matmul(scalar.ctx, w_ref, x.data(), s.n, y_ref.data()));
            const std::vector<float> wv = weight_values(w);
            require_close(y, y_ref, 1e-6, 2e-5, ref_matmul_magnitude(wv, s.rows, s.cols, x, s.n));
            b.k->weight_destroy(b.ctx, w);
            scalar.k->weight_destroy(scalar.ctx, w_ref);
        }
    }
}

TEST_CASE("Q4_K blocks from a checkpoint are used in place or dequantized to F32", "[q4_k]") {
    std::mt19937 rng(5);
    TestBackend b(2, cpu::best_isa());
    // Blocks made by our quantizer stand in for a GGUF file's (their decoding is checked against gguf-py elsewhere).
    const int64_t rows = 6, cols = 512;
    const std::vector<float> values = random_vector(rng, size_t(rows * cols));
    std::vector<cpu::BlockQ4_K> blocks(size_t(rows * cols / 256));
    for (size_t i = 0; i < blocks.size(); ++i) cpu::quantize_block_q4_k(values.data() + i * 256, &blocks[i]);
    llmatc_tensor_view view{};
    view.struct_size = sizeof view;
    view.abi_version = LLMATC_ABI_VERSION;
    view.dtype = LLMATC_DTYPE_Q4_K;
    view.n_dims = 2;
    view.shape[0] = rows;
    view.shape[1] = cols;
    view.data = blocks.data();
    view.nbytes = blocks.size() * sizeof(cpu::BlockQ4_K);

    llmatc_weight *kept = nullptr, *as_f32 = nullptr;
    LLMATC_REQUIRE_OK(b.k->weight_create(b.ctx, &view, LLMATC_DTYPE_Q4_K, &kept));
    REQUIRE((kept->packed || kept->data == view.data));  // zero-copy unless repacked for the kernel
    LLMATC_REQUIRE_OK(b.k->weight_create(b.ctx, &view, LLMATC_DTYPE_F32, &as_f32));
    const std::vector<float> kept_values = weight_values(kept);
    REQUIRE(kept_values == weight_values(as_f32));
    for (size_t i = 0; i < blocks.size(); ++i) {
        float decoded[256];
        cpu::dequantize_block_q4_k(&blocks[i], decoded);
        REQUIRE(std::memcmp(decoded, kept_values.data() + i * 256, sizeof decoded) == 0);
    }
    // Embedding rows of a Q4_K table decode the same way.
    const int32_t ids[2] = {5, 0};
    std::vector<float> rows_out(2 * size_t(cols));
    LLMATC_REQUIRE_OK(b.k->embedding(b.ctx, kept, ids, 2, rows_out.data()));
    REQUIRE(std::memcmp(rows_out.data(), kept_values.data() + 5 * cols, size_t(cols) * 4) == 0);
    b.k->weight_destroy(b.ctx, kept);
    b.k->weight_destroy(b.ctx, as_f32);
}

TEST_CASE("the packed Q4_K layout round-trips every row, padding rows included", "[q4_k][packed]") {
    std::mt19937 rng(79);
    for (int64_t rows : {1, 15, 16, 17, 40}) {
        const int64_t cols = 512, per_row = cols / 256;
        const std::vector<float> values = random_vector(rng, size_t(rows * cols));
        std::vector<cpu::BlockQ4_K> blocks(size_t(rows * per_row));
        for (size_t i = 0; i < blocks.size(); ++i) cpu::quantize_block_q4_k(values.data() + i * 256, &blocks[i]);
        std::vector<uint8_t> packed(size_t(cpu::packed_q4_k_weight_bytes(rows, cols)), 0xAB);
        REQUIRE(packed.size() == size_t((rows + 15) / 16 * 16 * per_row) * sizeof(cpu::BlockQ4_K));
        for (int64_t g = 0; g < (rows + 15) / 16; ++g)
            cpu::pack_q4_k_group(blocks.data(), rows, cols, g, packed.data());
        std::vector<cpu::BlockQ4_K> row(static_cast<size_t>(per_row));
        std::vector<float> expected(static_cast<size_t>(cols)), actual(static_cast<size_t>(cols));
        for (int64_t r = 0; r < (rows + 15) / 16 * 16; ++r) {
            INFO("rows " << rows << " row " << r);
            cpu::unpack_q4_k_row(packed.data(), cols, r, row.data());
            if (r < rows) {
                REQUIRE(std::memcmp(row.data(), blocks.data() + r * per_row, row.size() * sizeof row[0]) == 0);
                for (int64_t b = 0; b < per_row; ++b)
                    cpu::dequantize_block_q4_k(&row[size_t(b)], &expected[size_t(b * 256)]);
            } else {
                std::fill(expected.begin(), expected.end(), 0.0f);  // padding rows: d = dmin = 0
            }
            cpu::packed_q4_k_row_to_f32(packed.data(), cols, r, actual.data());
            REQUIRE(actual == expected);
        }
    }
}

TEST_CASE("Q4_K refuses rows that are not whole super-blocks, naming the shape", "[q4_k][errors]") {
    std::mt19937 rng(11);
    TestBackend b(1, cpu::best_isa());
    const EncodedTensor t = encode(random_vector(rng, 4 * 320), LLMATC_DTYPE_F32);
    const llmatc_tensor_view view = make_view(t, {4, 320});
    llmatc_weight* w = nullptr;
    REQUIRE(b.k->weight_create(b.ctx, &view, LLMATC_DTYPE_Q4_K, &w) == LLMATC_ERR_INVALID_ARGUMENT);
    const std::string message = thread_error();
    INFO(message);
    CHECK(message.find("[4, 320]") != std::string::npos);
    CHECK(message.find("Q4_K") != std::string::npos);
    CHECK(message.find("256") != std::string::npos);
    REQUIRE(w == nullptr);

    // A Q4_K source whose byte size does not match its shape is corrupt.
    std::vector<uint8_t> bytes(143, 0);
    llmatc_tensor_view bad{};
    bad.struct_size = sizeof bad;
    bad.abi_version = LLMATC_ABI_VERSION;
    bad.dtype = LLMATC_DTYPE_Q4_K;
    bad.n_dims = 2;
    bad.shape[0] = 1;
    bad.shape[1] = 256;
    bad.data = bytes.data();
    bad.nbytes = bytes.size();
    REQUIRE(b.k->weight_create(b.ctx, &bad, LLMATC_DTYPE_Q4_K, &w) == LLMATC_ERR_CORRUPT);
    CHECK(std::string(thread_error()).find("144") != std::string::npos);
}
