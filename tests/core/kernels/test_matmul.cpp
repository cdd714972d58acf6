// tests/core/kernels/test_matmul.cpp — weight_create and matmul at every ISA level and thread count, for F32, F16,
// BF16 and block-quantized weights, against the naive reference.
#include <algorithm>
#include <cmath>
#include <iterator>

#include "kernels/cpu/cpu_weight.h"
#include "kernels/cpu/quant_blocks.h"
#include "kernels/cpu/float_packed.h"
#include "kernels/cpu/isa_kernels.h"
#include "kernels/cpu/quant_packed.h"
#include "reference_kernels.h"
#include "test_support.h"

using namespace llmatc;
using namespace llmatc::test;

namespace {

struct Shape {
    int64_t rows, cols, n;
};

// Odd sizes exercise every tail path; n > 64 crosses an x block; n == 1 is the GEMV path; [40, 2048] x 72 takes the
// packed GEMM's chunk-by-chunk order for its first 64 rows (the rest of the shapes its run-by-run order).
const Shape kFloatShapes[] = {{1, 1, 1},   {7, 13, 1},   {37, 67, 3},  {64, 128, 5},  {130, 257, 1},
                              {33, 96, 70}, {256, 512, 9}, {19, 2048, 1}, {9, 31, 4},   {48, 33, 13},
                              {17, 64, 137}, {40, 2048, 72}};
const Shape kBlockShapes[] = {{1, 32, 1},   {9, 64, 3},   {37, 160, 1}, {70, 256, 7},
                              {16, 96, 66}, {130, 512, 1}, {48, 64, 4},  {33, 2048, 1}};

std::vector<float> run_matmul(const TestBackend& b, const llmatc_weight* w, const std::vector<float>& x, int64_t n) {
    std::vector<float> y = poisoned(size_t(n * w->rows));
    LLMATC_REQUIRE_OK(b.k->matmul(b.ctx, w, x.data(), n, y.data()));
    return y;
}

// x rounded through Q8_0 as the kernels quantize activations.
std::vector<float> q8_roundtrip(const std::vector<float>& x) {
    std::vector<float> out(x.size());
    for (size_t b = 0; b < x.size() / 32; ++b) {
        cpu::BlockQ8_0 block;
        cpu::quantize_block_q8_0(x.data() + b * 32, &block);
        cpu::dequantize_block_q8_0(&block, out.data() + b * 32);
    }
    return out;
}

// rms(a - b) / rms(scale): the error relative to the size of the terms summed (robust to outputs near zero).
double relative_rms_error(const std::vector<float>& a, const std::vector<float>& b, const std::vector<float>& scale) {
    double num = 0, den = 0;
    for (size_t i = 0; i < a.size(); ++i) {
        num += (double(a[i]) - b[i]) * (double(a[i]) - b[i]);
        den += double(scale[i]) * scale[i];
    }
    return std::sqrt(num / den);
}

}  // namespace

TEST_CASE("matmul with F32, F16 and BF16 weights matches the reference", "[matmul]") {
    std::mt19937 rng(1234);
    for (cpu::Isa isa : available_isas()) {
        for (int threads : {1, 2, 3}) {
            TestBackend b(threads, isa);
            for (llmatc_dtype src : {LLMATC_DTYPE_F32, LLMATC_DTYPE_F16, LLMATC_DTYPE_BF16}) {
                for (llmatc_dtype storage : {src, LLMATC_DTYPE_F32, LLMATC_DTYPE_BF16}) {
                    for (const Shape& s : kFloatShapes) {
                        INFO(b.label << " src " << cpu::dtype_name(src) << " storage " << cpu::dtype_name(storage)
                                     << " shape [" << s.rows << ", " << s.cols << "] n " << s.n);
                        const EncodedTensor t = encode(random_vector(rng, size_t(s.rows * s.cols)), src);
                        const llmatc_tensor_view view = make_view(t, {s.rows, s.cols});
                        llmatc_weight* w = nullptr;
                        LLMATC_REQUIRE_OK(b.k->weight_create(b.ctx, &view, storage, &w));
                        const bool packable = storage == LLMATC_DTYPE_F16 || storage == LLMATC_DTYPE_BF16;
                        REQUIRE(w->packed == (packable && cpu::isa_kernels(isa).packs_floats));
                        REQUIRE(b.k->weight_bytes(b.ctx, w) ==
                                (w->packed ? cpu::float_packed_weight_bytes(storage, s.rows, s.cols)
                                           : cpu::dtype_bytes(storage, s.rows * s.cols)));
                        if (storage == src && !w->packed) REQUIRE(w->data == view.data);  // zero-copy
                        const std::vector<float> wv = weight_values(w);
                        const std::vector<float> x = random_vector(rng, size_t(s.n * s.cols));
                        const std::vector<float> y = run_matmul(b, w, x, s.n);
                        // Weights decode exactly to F32; the only error is F32 accumulation.
                        require_close(y, ref_matmul(wv, s.rows, s.cols, x, s.n), 1e-6, 1e-5,
                                      ref_matmul_magnitude(wv, s.rows, s.cols, x, s.n));
                        b.k->weight_destroy(b.ctx, w);
                    }
                }
            }
        }
    }
}

TEST_CASE("matmul with Q8_0 and Q4_0 weights matches the reference on the quantized values", "[matmul][quant]") {
    std::mt19937 rng(99);
    for (cpu::Isa isa : available_isas()) {
        for (int threads : {1, 2, 3}) {
            TestBackend b(threads, isa);
            for (llmatc_dtype storage : {LLMATC_DTYPE_Q8_0, LLMATC_DTYPE_Q4_0}) {
                for (llmatc_dtype src : {LLMATC_DTYPE_F32, LLMATC_DTYPE_BF16}) {
                    for (const Shape& s : kBlockShapes) {
                        INFO(b.label << " src " << cpu::dtype_name(src) << " storage " << cpu::dtype_name(storage)
                                     << " shape [" << s.rows << ", " << s.cols << "] n " << s.n);
                        const EncodedTensor t = encode(random_vector(rng, size_t(s.rows * s.cols)), src);
                        const llmatc_tensor_view view = make_view(t, {s.rows, s.cols});
                        llmatc_weight* w = nullptr;
                        LLMATC_REQUIRE_OK(b.k->weight_create(b.ctx, &view, storage, &w));
                        REQUIRE(w->packed == cpu::isa_kernels(isa).packs_quantized);
                        REQUIRE(b.k->weight_bytes(b.ctx, w) ==
                                (w->packed ? cpu::packed_weight_bytes(storage, s.rows, s.cols)
                                           : cpu::dtype_bytes(storage, s.rows * s.cols)));
                        const std::vector<float> wv = weight_values(w);
                        const std::vector<float> x = random_vector(rng, size_t(s.n * s.cols));
                        const std::vector<float> y = run_matmul(b, w, x, s.n);
                        // Same quantized operands as the reference: integer products are exact, block sums F32.
                        require_close(y, ref_matmul(wv, s.rows, s.cols, q8_roundtrip(x), s.n), 1e-6, 1e-5,
                                      ref_matmul_magnitude(wv, s.rows, s.cols, x, s.n));
                        // And faithful to the unquantized product: relative to sum |x w|, uniform data gives about
                        // 0.1% (Q8_0) and 1.5% (Q4_0) at K = 32, less for longer rows.
                        const double fidelity =
                            relative_rms_error(y, ref_matmul(t.decoded, s.rows, s.cols, x, s.n),
                                               ref_matmul_magnitude(t.decoded, s.rows, s.cols, x, s.n));
                        CHECK(fidelity < (storage == LLMATC_DTYPE_Q8_0 ? 0.01 : 0.1));
                        b.k->weight_destroy(b.ctx, w);
                    }
                }
            }
        }
    }
}

// Multiplies random weights stored as each of `storages` on every ISA of `isas` (each must pack them) and checks
// that all give the first ISA's bits.
template <size_t kShapes>
void check_isas_give_same_bits(const std::vector<cpu::Isa>& isas, std::initializer_list<llmatc_dtype> storages,
                               const Shape (&shapes)[kShapes], std::mt19937& rng) {
    if (isas.size() < 2) {
        WARN("fewer than two ISAs with these packed kernels on this CPU: nothing to compare");
        return;
    }
    for (llmatc_dtype storage : storages) {
        for (const Shape& s : shapes) {
            const EncodedTensor t = encode(random_vector(rng, size_t(s.rows * s.cols)), LLMATC_DTYPE_F32);
            const llmatc_tensor_view view = make_view(t, {s.rows, s.cols});
            const std::vector<float> x = random_vector(rng, size_t(s.n * s.cols), -3.0f, 3.0f);
            std::vector<std::vector<float>> results;
            for (cpu::Isa isa : isas) {
                TestBackend b(2, isa);
                llmatc_weight* w = nullptr;
                LLMATC_REQUIRE_OK(b.k->weight_create(b.ctx, &view, storage, &w));
                REQUIRE(w->packed);
                results.push_back(run_matmul(b, w, x, s.n));
                b.k->weight_destroy(b.ctx, w);
            }
            for (size_t i = 1; i < isas.size(); ++i) {
                INFO(cpu::dtype_name(storage) << " shape [" << s.rows << ", " << s.cols << "] n " << s.n << ": "
                                              << cpu::isa_name(isas[i]) << " against " << cpu::isa_name(isas[0]));
                CHECK(results[i] == results[0]);
            }
        }
    }
}

TEST_CASE("every ISA that packs quantized weights gives the same bits for Q8_0, Q4_0 and Q4_K", "[matmul][quant]") {
    // The AVX2 kernels form the AVX-512 VNNI kernels' integers with other instructions and then take the same F32
    // steps lane for lane (isa_avx2_quant.cpp): a model gives the same tokens on either CPU.
    std::mt19937 rng(2718);
    std::vector<cpu::Isa> packing;
    for (cpu::Isa isa : available_isas())
        if (cpu::isa_kernels(isa).packs_quantized) packing.push_back(isa);
    const Shape shapes[] = {{1, 256, 1}, {37, 512, 3}, {70, 256, 7}, {16, 768, 66}, {33, 2048, 1}};
    check_isas_give_same_bits(packing, {LLMATC_DTYPE_Q8_0, LLMATC_DTYPE_Q4_0, LLMATC_DTYPE_Q4_K}, shapes, rng);
}

TEST_CASE("every ISA that packs F16 / BF16 weights gives the same bits", "[matmul][packed]") {
    // float_packed_matmul_impl.h: each output row's sum takes its columns in the same order and chunks whatever the
    // register width (AVX2: two ymm per 16-row group; AVX-512: one zmm), with F32 activations.
    std::mt19937 rng(3141);
    std::vector<cpu::Isa> packing;
    for (cpu::Isa isa : available_isas())
        if (cpu::isa_kernels(isa).packs_floats) packing.push_back(isa);
    check_isas_give_same_bits(packing, {LLMATC_DTYPE_F16, LLMATC_DTYPE_BF16}, kFloatShapes, rng);
}

TEST_CASE("Q8_0 and Q4_0 sources are kept zero-copy or dequantized to F32", "[matmul][quant]") {
    std::mt19937 rng(5);
    TestBackend b(2, cpu::best_isa());
    const int64_t rows = 12, cols = 96;
    const std::vector<float> values = random_vector(rng, size_t(rows * cols));
    for (llmatc_dtype qtype : {LLMATC_DTYPE_Q8_0, LLMATC_DTYPE_Q4_0}) {
        // Quantize through the backend, then feed its blocks back (in GGUF order) as a GGUF-style source tensor.
        const EncodedTensor t = encode(values, LLMATC_DTYPE_F32);
        const llmatc_tensor_view f32_view = make_view(t, {rows, cols});
        llmatc_weight* quantized = nullptr;
        LLMATC_REQUIRE_OK(b.k->weight_create(b.ctx, &f32_view, qtype, &quantized));
        EncodedTensor blocks{qtype, {}, {}};
        if (quantized->packed) {
            blocks.bytes.resize(size_t(cpu::dtype_bytes(qtype, rows * cols)));
            const uint64_t row_bytes = cpu::dtype_bytes(qtype, cols);
            for (int64_t r = 0; r < rows; ++r)
                cpu::unpack_quant_row(qtype, quantized->data, cols, r, blocks.bytes.data() + r * row_bytes);
        } else {
            const auto* begin = static_cast<const uint8_t*>(quantized->data);
            blocks.bytes.assign(begin, begin + quantized->bytes);
        }
        const llmatc_tensor_view qview = make_view(blocks, {rows, cols});

        llmatc_weight* same = nullptr;
        LLMATC_REQUIRE_OK(b.k->weight_create(b.ctx, &qview, qtype, &same));
        REQUIRE((same->packed || same->data == qview.data));  // zero-copy unless repacked
        require_close(weight_values(same), weight_values(quantized), 0, 0);
        llmatc_weight* dequantized = nullptr;
        LLMATC_REQUIRE_OK(b.k->weight_create(b.ctx, &qview, LLMATC_DTYPE_F32, &dequantized));
        REQUIRE(dequantized->dtype == LLMATC_DTYPE_F32);
        require_close(weight_values(dequantized), weight_values(quantized), 0, 0);
        for (llmatc_weight* w : {quantized, same, dequantized}) b.k->weight_destroy(b.ctx, w);
    }
}

TEST_CASE("BF16 weights with BF16 activations (opt-in) match the reference on rounded activations",
          "[matmul][bf16dot]") {
    std::mt19937 rng(21);
    // Odd and even K, K past one AMX step (32) and not a multiple of it, n below, at and past a 16-row tile; the
    // last two shapes take two of the AMX kernel's passes of 128 rows, the last also two of its 2048-column chunks.
    const Shape shapes[] = {{1, 1, 8},    {7, 13, 9},  {37, 67, 12}, {64, 128, 70}, {130, 257, 8},
                            {19, 2048, 16}, {33, 96, 1}, {9, 64, 7},  {48, 33, 13}, {17, 64, 137},
                            {50, 172, 33}, {80, 2047, 31}, {16, 40, 2}, {24, 4001, 137}, {21, 4161, 150}};
    for (cpu::Isa isa : available_isas()) {
      for (bool amx : {false, true}) {
        cpu::CpuBackendOptions options;
        options.bf16_activations = true;
        options.amx = amx;
        if (amx && !cpu::isa_kernels(isa).has_amx_bf16) continue;  // the case above already covers this table
        for (int threads : {1, 3}) {
            auto owner = cpu::create_cpu_backend_for_isa(threads, isa, options);
            const llmatc_kernels* k = owner->table();
            const bool uses_bf16_dot = cpu::isa_kernels(isa).has_bf16_dot;
            for (const Shape& s : shapes) {
                INFO(cpu::isa_name(isa) << " x" << threads << " shape [" << s.rows << ", " << s.cols << "] n "
                                        << s.n << " bf16 dot " << uses_bf16_dot << " amx " << amx);
                const EncodedTensor t = encode(random_vector(rng, size_t(s.rows * s.cols)), LLMATC_DTYPE_BF16);
                const llmatc_tensor_view view = make_view(t, {s.rows, s.cols});
                llmatc_weight* w = nullptr;
                LLMATC_REQUIRE_OK(k->weight_create(k->ctx, &view, LLMATC_DTYPE_BF16, &w));
                const std::vector<float> x = random_vector(rng, size_t(s.n * s.cols));
                std::vector<float> y = poisoned(size_t(s.n * s.rows));
                LLMATC_REQUIRE_OK(k->matmul(k->ctx, w, x.data(), s.n, y.data()));
                const bool rounded = uses_bf16_dot;
                const std::vector<float> x_used = rounded ? encode(x, LLMATC_DTYPE_BF16).decoded : x;
                require_close(y, ref_matmul(t.decoded, s.rows, s.cols, x_used, s.n), 1e-6, 1e-5,
                              ref_matmul_magnitude(t.decoded, s.rows, s.cols, x, s.n));
                k->weight_destroy(k->ctx, w);
            }
        }
      }
    }
}

TEST_CASE("the packed Q8_0 / Q4_0 layout round-trips every row, padding rows included", "[matmul][quant][packed]") {
    std::mt19937 rng(77);
    for (llmatc_dtype qtype : {LLMATC_DTYPE_Q8_0, LLMATC_DTYPE_Q4_0}) {
        for (int64_t rows : {1, 15, 16, 17, 40}) {
            const int64_t cols = 96;
            const std::vector<float> values = random_vector(rng, size_t(rows * cols));
            const uint64_t row_bytes = cpu::dtype_bytes(qtype, cols);
            std::vector<uint8_t> blocks(size_t(row_bytes) * size_t(rows));
            for (int64_t r = 0; r < rows; ++r)
                for (int64_t b = 0; b < cols / 32; ++b) {
                    uint8_t* dst = blocks.data() + r * row_bytes;
                    if (qtype == LLMATC_DTYPE_Q8_0)
                        cpu::quantize_block_q8_0(values.data() + r * cols + b * 32,
                                                 reinterpret_cast<cpu::BlockQ8_0*>(dst) + b);
                    else
                        cpu::quantize_block_q4_0(values.data() + r * cols + b * 32,
                                                 reinterpret_cast<cpu::BlockQ4_0*>(dst) + b);
                }
            std::vector<uint8_t> packed(size_t(cpu::packed_weight_bytes(qtype, rows, cols)), 0xAB);
            for (int64_t g = 0; g < (rows + 15) / 16; ++g)
                cpu::pack_quant_group(qtype, blocks.data(), rows, cols, g, packed.data());
            REQUIRE(packed.size() == size_t((rows + 15) / 16 * 16) * row_bytes);
            std::vector<uint8_t> row(static_cast<size_t>(row_bytes), 0);
            std::vector<float> expected(static_cast<size_t>(cols), 0.0f), actual(static_cast<size_t>(cols), 0.0f);
            for (int64_t r = 0; r < rows; ++r) {
                INFO(cpu::dtype_name(qtype) << " rows " << rows << " row " << r);
                cpu::unpack_quant_row(qtype, packed.data(), cols, r, row.data());
                REQUIRE(std::equal(row.begin(), row.end(), blocks.begin() + r * row_bytes));
                cpu::packed_row_to_f32(qtype, packed.data(), cols, r, actual.data());
                llmatc_weight plain{qtype, rows, cols, 2, blocks.data(), blocks.size()};
                cpu::weight_row_to_f32(plain, r, expected.data());
                REQUIRE(actual == expected);
            }
        }
    }
}

TEST_CASE("the packed F16 / BF16 layout places every element, padding rows zero, F16 groups in bands",
          "[matmul][packed]") {
    std::mt19937 rng(78);
    for (llmatc_dtype dtype : {LLMATC_DTYPE_F16, LLMATC_DTYPE_BF16}) {
        for (int64_t rows : {1, 15, 16, 17, 40, 64, 65, 130}) {
            for (int64_t cols : {1, 7, 64}) {
                INFO(cpu::dtype_name(dtype) << " rows " << rows << " cols " << cols);
                std::vector<uint16_t> src(size_t(rows * cols));
                for (uint16_t& e : src) e = uint16_t(1 + rng() % 0x7bff);  // never zero, so padding is told apart
                // Packed twice, over buffers filled with different bytes: every byte written, the groups tile the
                // weight exactly.
                const size_t bytes = size_t(cpu::float_packed_weight_bytes(dtype, rows, cols));
                std::vector<uint8_t> packed(bytes, 0x00), again(bytes, 0xFF);
                const int64_t groups = (rows + 15) / 16;
                for (int64_t g = 0; g < groups; ++g)
                    for (std::vector<uint8_t>* out : {&packed, &again})
                        cpu::pack_float_group(dtype, src.data() + g * 16 * cols,
                                              std::min<int64_t>(16, rows - g * 16), rows, cols, g, out->data());
                REQUIRE(packed == again);
                for (int64_t r = 0; r < groups * 16; ++r)
                    for (int64_t k = 0; k < cols; ++k)
                        REQUIRE(cpu::packed_float_element(dtype, packed.data(), rows, cols, r, k) ==
                                (r < rows ? src[size_t(r * cols + k)] : 0));
                for (int64_t g = 0; g < groups; ++g) {
                    const cpu::FloatGroupPlace place = cpu::float_packed_group_place(dtype, rows, cols, g);
                    const int64_t unit = cpu::float_packed_unit_bytes(dtype);
                    if (dtype == LLMATC_DTYPE_F16) {  // a band's groups side by side at each column
                        const int64_t band_first = g / 4 * 4, band_groups = std::min<int64_t>(4, groups - band_first);
                        REQUIRE(place.unit_stride == band_groups * unit);
                        REQUIRE(place.offset == band_first * cpu::float_packed_group_bytes(dtype, cols) +
                                                    (g - band_first) * unit);
                    } else {
                        REQUIRE(place.unit_stride == unit);
                        REQUIRE(place.offset == g * cpu::float_packed_group_bytes(dtype, cols));
                    }
                }
            }
        }
    }
}

TEST_CASE("packed F16 / BF16 matmul over any 16-row-aligned ranges gives one range's bits", "[matmul][packed]") {
    // The backend hands a thread whole F16 bands, but a kernel must be right for any range it is given.
    std::mt19937 rng(79);
    const int64_t rows = 150, cols = 96;
    for (cpu::Isa isa : available_isas()) {
        if (!cpu::isa_kernels(isa).packs_floats) continue;
        TestBackend b(1, isa);
        for (llmatc_dtype storage : {LLMATC_DTYPE_F16, LLMATC_DTYPE_BF16}) {
            const EncodedTensor t = encode(random_vector(rng, size_t(rows * cols)), LLMATC_DTYPE_F32);
            const llmatc_tensor_view view = make_view(t, {rows, cols});
            llmatc_weight* w = nullptr;
            LLMATC_REQUIRE_OK(b.k->weight_create(b.ctx, &view, storage, &w));
            REQUIRE(w->packed);
            for (int64_t n : {1, 3}) {  // the GEMV, and the GEMM on F32 activation tiles
                const std::vector<float> x = random_vector(rng, size_t(n * cols));
                std::vector<float> tiles(size_t(cpu::act_tiles(n) * cpu::kActTileRows * cols));
                cpu::tile_activations_f32(x.data(), n, cols, 0, cpu::act_tiles(n), tiles.data());
                auto product = [&](std::initializer_list<int64_t> bounds) {
                    std::vector<float> y = poisoned(size_t(n * rows));
                    cpu::MatmulProblem p{storage, w->data, rows,   cols, x.data(), nullptr,
                                         n,       y.data(), true,  n > 1 ? tiles.data() : nullptr, nullptr};
                    const std::vector<int64_t> cuts(bounds);
                    for (size_t i = 0; i + 1 < cuts.size(); ++i)
                        cpu::isa_kernels(isa).matmul_rows(p, cuts[i], cuts[i + 1]);
                    return y;
                };
                const std::vector<float> whole = product({0, rows});
                for (int64_t split : {16, 32, 48, 80, 112, 144}) {
                    INFO(cpu::isa_name(isa) << " " << cpu::dtype_name(storage) << " n " << n << " split at row "
                                            << split);
                    CHECK(product({0, split, rows}) == whole);
                }
            }
            b.k->weight_destroy(b.ctx, w);
        }
    }
}

TEST_CASE("every ISA's packed activation quantizer gives the reference bytes", "[matmul][quant][packed]") {
    std::mt19937 rng(78);
    for (cpu::Isa isa : available_isas()) {
        const auto quantize = cpu::isa_kernels(isa).quantize_act_row;
        if (!quantize) continue;
        for (int64_t cols : {32, 96, 2048}) {
            INFO(cpu::isa_name(isa) << " cols " << cols);
            std::vector<float> x = random_vector(rng, size_t(cols));
            x[5] = 0.0f;
            std::fill(x.begin(), x.begin() + 32, 0.0f);  // an all-zero block: scale 0
            std::vector<uint8_t> expected(size_t(cpu::packed_act_row_bytes(cols))), actual(expected.size(), 0xCD);
            cpu::quantize_act_row_ref(x.data(), expected.data(), cols);
            quantize(x.data(), actual.data(), cols);
            REQUIRE(actual == expected);
        }
    }
}

TEST_CASE("Q8_0 and Q4_0 on AMX-INT8 tiles give the VNNI kernel's bits", "[matmul][quant][amx]") {
    // Prefill-sized batches (n >= kAmxInt8MinRows) of packed Q8_0 / Q4_0 weights run on AMX tiles where the CPU has them; decode
    // stays on VNNI. Both must give the same bits, or a token would depend on the batch it was computed in.
    if (!cpu::isa_supported(cpu::Isa::avx512) || !cpu::isa_kernels(cpu::Isa::avx512).has_amx_int8) {
        WARN("this CPU has no AMX-INT8: nothing to compare");
        return;
    }
    std::mt19937 rng(1618);
    // n at and past the AMX threshold (32), partial 16-row tiles; rows in partial groups; K of 1 block, 7 (a group
    // of 4 and a remainder), 128 (two of the kernel's 64-block column chunks); n = 272 (two passes of 256 rows), and
    // both at once with a remainder (K = 132 blocks, n = 300).
    static_assert(cpu::kAmxInt8MinRows == 32, "the shapes below assume AMX from 32 rows");
    const Shape shapes[] = {{40, 512, 32}, {37, 2048, 33}, {16, 4096, 47}, {33, 224, 40}, {16, 32, 32},
                            {70, 2048, 272}, {20, 4224, 300}};
    for (int threads : {1, 2, 3}) {
        const AmxPair backends(threads);
        for (llmatc_dtype storage : {LLMATC_DTYPE_Q8_0, LLMATC_DTYPE_Q4_0}) {
            for (const Shape& s : shapes) {
                INFO(cpu::dtype_name(storage) << " shape [" << s.rows << ", " << s.cols << "] n " << s.n << " x"
                                              << threads << " threads");
                const EncodedTensor t = encode(random_vector(rng, size_t(s.rows * s.cols)), LLMATC_DTYPE_F32);
                const llmatc_tensor_view view = make_view(t, {s.rows, s.cols});
                const std::vector<float> x = random_vector(rng, size_t(s.n * s.cols), -3.0f, 3.0f);
                CHECK(matmul_with_weight(backends.amx->table(), view, storage, x, s.n) ==
                      matmul_with_weight(backends.vnni->table(), view, storage, x, s.n));
            }
        }
    }
}

TEST_CASE("a row's product does not depend on the other rows in the batch (bitwise)", "[matmul][batch]") {
    // The serving engine batches one request's tokens with others'; greedy decoding must give the same tokens
    // either way, so every kernel computes row i of y the same way whatever n is.
    std::mt19937 rng(404);
    // 2048 columns and 65 rows: the packed F16 / BF16 GEMM takes its first block of 8 activation tiles chunk by
    // chunk and the last, small one run by run (isa_avx512_float_packed.cpp).
    const int64_t rows = 40;
    const int64_t counts[] = {1, 2, 5, 8, 9, 16, 17, 33, 65};  // the largest last
    const int64_t largest = counts[std::size(counts) - 1];
    for (cpu::Isa isa : available_isas()) {
        for (int mode : {0, 1, 2}) {  // F32 activations; BF16 ones; BF16 ones on AMX (where the CPU has it)
            const bool bf16_activations = mode > 0;
            if (mode == 2 && !cpu::isa_kernels(isa).has_amx_bf16) continue;
            cpu::CpuBackendOptions options;
            options.bf16_activations = bf16_activations;
            options.amx = mode == 2;
            auto owner = cpu::create_cpu_backend_for_isa(3, isa, options);
            const llmatc_kernels* k = owner->table();
            for (int64_t cols : {512, 2048}) {
                for (llmatc_dtype storage : {LLMATC_DTYPE_F32, LLMATC_DTYPE_F16, LLMATC_DTYPE_BF16,
                                             LLMATC_DTYPE_Q8_0, LLMATC_DTYPE_Q4_0, LLMATC_DTYPE_Q4_K}) {
                    const EncodedTensor t = encode(random_vector(rng, size_t(rows * cols)), LLMATC_DTYPE_F32);
                    const llmatc_tensor_view view = make_view(t, {rows, cols});
                    llmatc_weight* w = nullptr;
                    LLMATC_REQUIRE_OK(k->weight_create(k->ctx, &view, storage, &w));
                    const std::vector<float> x = random_vector(rng, size_t(largest * cols));
                    std::vector<std::vector<float>> alone;
                    for (int64_t i = 0; i < largest; ++i) {
                        std::vector<float> y = poisoned(size_t(rows));
                        LLMATC_REQUIRE_OK(k->matmul(k->ctx, w, x.data() + i * cols, 1, y.data()));
                        alone.push_back(y);
                    }
                    for (int64_t n : counts) {
                        std::vector<float> y = poisoned(size_t(n * rows));
                        LLMATC_REQUIRE_OK(k->matmul(k->ctx, w, x.data(), n, y.data()));
                        for (int64_t i = 0; i < n; ++i) {
                            INFO(cpu::isa_name(isa) << " activations mode " << mode << " "
                                                    << cpu::dtype_name(storage) << " cols " << cols << " n " << n
                                                    << " row " << i);
                            const std::vector<float> row(y.begin() + i * rows, y.begin() + (i + 1) * rows);
                            CHECK(row == alone[size_t(i)]);
                        }
                    }
                    k->weight_destroy(k->ctx, w);
                }
            }
        }
    }
}
