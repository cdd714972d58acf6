// tests/core/kernels/test_k_quants.cpp — Q6_K and Q5_K weights (read from GGUF, never quantized at load): blocks kept
// zero-copy or repacked byte for byte, decoding, matmul at every ISA level and thread count against the reference on
// the quantized operands, ISA agreement with the scalar kernel and among the packing ISAs, and the errors for bad
// shapes, sizes and requests.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <iterator>
#include <string>
#include <type_traits>

#include "kernels/cpu/cpu_weight.h"
#include "kernels/cpu/fp16.h"
#include "kernels/cpu/quant_q5_k.h"
#include "kernels/cpu/quant_q5_k_packed.h"
#include "kernels/cpu/quant_q6_k.h"
#include "kernels/cpu/quant_q6_k_packed.h"
#include "reference_kernels.h"
#include "test_support.h"

using namespace llmatc;
using namespace llmatc::test;

namespace {

struct Shape {
    int64_t rows, cols, n;
};

// Rows not a multiple of 16 exercise the row-range tails; n covers GEMV and every activation tile remainder of the
// tiles of 4 (AVX2) and 8 (AVX-512), up to 17 (two whole tiles of 8 and one row).
const Shape kShapes[] = {{1, 256, 1},  {7, 256, 2},  {13, 512, 3},   {37, 768, 1},  {9, 256, 4},  {21, 1024, 5},
                         {3, 512, 17}, {70, 256, 7}, {5, 2048, 9},   {19, 256, 16}, {33, 512, 6}, {11, 768, 11},
                         {2, 256, 13}, {17, 512, 8}, {23, 256, 10},  {6, 512, 12},  {4, 256, 14}, {29, 256, 15}};

// Random bytes for every level and scale field; the half-precision scales small positive or negative values, as a
// quantizer writes them (|d| ~ max|w| / 32 / 127 for Q6_K), so products stay far from F32 overflow.
template <class Block>
std::vector<Block> random_blocks(std::mt19937& rng, size_t count) {
    std::vector<Block> blocks(count);
    std::uniform_int_distribution<int> byte(0, 255);
    std::uniform_real_distribution<float> scale(-2e-3f, 2e-3f);
    for (Block& b : blocks) {
        auto* raw = reinterpret_cast<uint8_t*>(&b);
        for (size_t i = 0; i < sizeof(Block); ++i) raw[i] = uint8_t(byte(rng));
        b.d = cpu::f32_to_fp16(scale(rng));
        if constexpr (std::is_same_v<Block, cpu::BlockQ5_K>) b.dmin = cpu::f32_to_fp16(std::fabs(scale(rng)));
    }
    return blocks;
}

template <class Block>
llmatc_tensor_view block_view(const std::vector<Block>& blocks, llmatc_dtype dtype, int64_t rows, int64_t cols) {
    llmatc_tensor_view view{};
    view.struct_size = sizeof view;
    view.abi_version = LLMATC_ABI_VERSION;
    view.dtype = dtype;
    view.n_dims = 2;
    view.shape[0] = rows;
    view.shape[1] = cols;
    view.data = blocks.data();
    view.nbytes = blocks.size() * sizeof(Block);
    return view;
}

// x as the Q5_K kernels see it: quantized per 256 to BlockQ8K and read back in element order (quant_q4_k.h).
std::vector<float> q8k_roundtrip(const std::vector<float>& x, int64_t cols) {
    std::vector<float> out(x.size());
    std::vector<cpu::BlockQ8K> blocks(size_t(cols / 256));
    for (size_t row = 0; row < x.size() / size_t(cols); ++row) {
        cpu::quantize_row_q8k(x.data() + row * size_t(cols), blocks.data(), cols);
        for (size_t b = 0; b < blocks.size(); ++b) {
            float* o = out.data() + row * size_t(cols) + b * 256;
            for (int h = 0; h < 2; ++h)
                for (int byte = 0; byte < 64; ++byte) {
                    const int element = 64 * (2 * h + byte / 32) + byte % 32;
                    o[element] = blocks[b].d * float(blocks[b].qs[128 * h + byte]);
                    o[element + 32] = blocks[b].d * float(blocks[b].qs[128 * h + 64 + byte]);
                }
        }
    }
    return out;
}

// x as the Q6_K kernels see it (BlockQ8K16, element order); also checks the per-16 sums the kernels rely on.
std::vector<float> q8k16_roundtrip(const std::vector<float>& x, int64_t cols) {
    std::vector<float> out(x.size());
    std::vector<cpu::BlockQ8K16> blocks(size_t(cols / 256));
    for (size_t row = 0; row < x.size() / size_t(cols); ++row) {
        cpu::quantize_row_q8k16(x.data() + row * size_t(cols), blocks.data(), cols);
        for (size_t b = 0; b < blocks.size(); ++b) {
            float* o = out.data() + row * size_t(cols) + b * 256;
            const cpu::BlockQ8K16& q = blocks[b];
            for (int j = 0; j < 16; ++j) {
                int sum = 0;
                for (int e = 16 * j; e < 16 * j + 16; ++e) {
                    o[e] = q.d * float(q.qs[e]);
                    sum += q.qs[e];
                }
                REQUIRE(sum == q.sums[j]);
            }
        }
    }
    return out;
}

struct KQuant {
    llmatc_dtype dtype;
    const char* name;
    uint64_t block_bytes;
};
const KQuant kKQuants[] = {{LLMATC_DTYPE_Q6_K, "Q6_K", 210}, {LLMATC_DTYPE_Q5_K, "Q5_K", 176}};

// Random blocks of the type, as raw bytes (the view points into them).
std::vector<uint8_t> random_weight_bytes(std::mt19937& rng, llmatc_dtype dtype, int64_t rows, int64_t cols) {
    const size_t count = size_t(rows * cols / 256);
    std::vector<uint8_t> bytes;
    if (dtype == LLMATC_DTYPE_Q6_K) {
        const auto blocks = random_blocks<cpu::BlockQ6_K>(rng, count);
        bytes.assign(reinterpret_cast<const uint8_t*>(blocks.data()),
                     reinterpret_cast<const uint8_t*>(blocks.data() + count));
    } else {
        const auto blocks = random_blocks<cpu::BlockQ5_K>(rng, count);
        bytes.assign(reinterpret_cast<const uint8_t*>(blocks.data()),
                     reinterpret_cast<const uint8_t*>(blocks.data() + count));
    }
    return bytes;
}

llmatc_tensor_view bytes_view(const std::vector<uint8_t>& bytes, llmatc_dtype dtype, int64_t rows, int64_t cols) {
    llmatc_tensor_view view{};
    view.struct_size = sizeof view;
    view.abi_version = LLMATC_ABI_VERSION;
    view.dtype = dtype;
    view.n_dims = 2;
    view.shape[0] = rows;
    view.shape[1] = cols;
    view.data = bytes.data();
    view.nbytes = bytes.size();
    return view;
}

}  // namespace

TEST_CASE("Q6_K and Q5_K blocks are kept in place or repacked, decode per element, and convert to F32", "[k_quants]") {
    std::mt19937 rng(17);
    TestBackend b(2, cpu::best_isa());
    const int64_t rows = 5, cols = 512;
    const auto q6 = random_blocks<cpu::BlockQ6_K>(rng, size_t(rows * cols / 256));
    const auto q5 = random_blocks<cpu::BlockQ5_K>(rng, size_t(rows * cols / 256));
    for (const KQuant& kq : kKQuants) {
        INFO(kq.name);
        const llmatc_tensor_view view = kq.dtype == LLMATC_DTYPE_Q6_K ? block_view(q6, kq.dtype, rows, cols)
                                                                       : block_view(q5, kq.dtype, rows, cols);
        llmatc_weight *kept = nullptr, *as_f32 = nullptr;
        LLMATC_REQUIRE_OK(b.k->weight_create(b.ctx, &view, kq.dtype, &kept));
        // Repacked at load where the kernel table has a packed kernel for the type; otherwise used in place.
        const bool repacked = cpu::isa_kernels(cpu::best_isa()).packs_quantized;
        REQUIRE(kept->packed == repacked);
        if (repacked) {
            REQUIRE(b.k->weight_bytes(b.ctx, kept) == (kq.dtype == LLMATC_DTYPE_Q5_K
                                                            ? cpu::packed_q5_k_weight_bytes(rows, cols)
                                                            : cpu::packed_q6_k_weight_bytes(rows, cols)));
        } else {
            REQUIRE(kept->data == view.data);  // zero-copy from the mapping
            REQUIRE(b.k->weight_bytes(b.ctx, kept) == uint64_t(rows * cols / 256) * kq.block_bytes);
        }
        LLMATC_REQUIRE_OK(b.k->weight_create(b.ctx, &view, LLMATC_DTYPE_F32, &as_f32));
        const std::vector<float> values = weight_values(kept);
        REQUIRE(values == weight_values(as_f32));
        // A transient view (a copy its source frees after the load) is copied byte for byte, never kept; a repacked
        // weight holds every byte of every row too (quant_q5_k_packed.h, quant_q6_k_packed.h), in its own places.
        llmatc_tensor_view transient_view = view;
        transient_view.flags = LLMATC_TENSOR_TRANSIENT;
        llmatc_weight* copied = nullptr;
        LLMATC_REQUIRE_OK(b.k->weight_create(b.ctx, &transient_view, kq.dtype, &copied));
        REQUIRE(copied->data != view.data);
        if (repacked && kq.dtype == LLMATC_DTYPE_Q5_K) {
            std::vector<cpu::BlockQ5_K> row_blocks(size_t(cols / 256));
            for (int64_t r = 0; r < rows; ++r) {
                cpu::unpack_q5_k_row(copied->data, cols, r, row_blocks.data());
                REQUIRE(std::memcmp(row_blocks.data(), q5.data() + r * (cols / 256),
                                    row_blocks.size() * sizeof(cpu::BlockQ5_K)) == 0);
            }
        } else if (repacked) {
            std::vector<cpu::BlockQ6_K> row_blocks(size_t(cols / 256));
            for (int64_t r = 0; r < rows; ++r) {
                cpu::unpack_q6_k_row(copied->data, cols, r, row_blocks.data());
                REQUIRE(std::memcmp(row_blocks.data(), q6.data() + r * (cols / 256),
                                    row_blocks.size() * sizeof(cpu::BlockQ6_K)) == 0);
            }
        } else {
            REQUIRE(std::memcmp(copied->data, view.data, size_t(view.nbytes)) == 0);
        }
        b.k->weight_destroy(b.ctx, copied);

        // Each value from its own fields, written out per the layout comments of quant_q6_k.h / quant_q5_k.h
        // (gguf-py's bit-exact agreement is checked by compare_k_quants_with_gguf.py).
        for (size_t blk = 0; blk < size_t(rows * cols / 256); ++blk) {
            for (int e = 0; e < 256; ++e) {
                float expected, magnitude;
                if (kq.dtype == LLMATC_DTYPE_Q6_K) {
                    const cpu::BlockQ6_K& q = q6[blk];
                    const int h = e / 128, k = e % 128;
                    const int low = k < 64 ? q.ql[64 * h + k] & 0x0f : q.ql[64 * h + k - 64] >> 4;
                    const int t = k / 32, high = (q.qh[32 * h + k % 32] >> (2 * t)) & 3;
                    expected = (cpu::fp16_to_f32(q.d) * float(q.scales[e / 16])) * float((low | high << 4) - 32);
                    magnitude = std::fabs(expected);
                } else {
                    const cpu::BlockQ5_K& q = q5[blk];
                    uint8_t sc[8], m[8];
                    cpu::unpack_q4_k_scales(q.scales, sc, m);
                    const int s = e / 32, c = s / 2, l = e % 32;
                    const int low = s % 2 == 0 ? q.qs[32 * c + l] & 0x0f : q.qs[32 * c + l] >> 4;
                    const int level = low | (((q.qh[l] >> s) & 1) << 4);
                    const float scaled = cpu::fp16_to_f32(q.d) * float(sc[s]) * float(level);
                    const float offset = cpu::fp16_to_f32(q.dmin) * float(m[s]);
                    expected = scaled - offset;
                    magnitude = std::fabs(scaled) + std::fabs(offset);
                }
                const float actual = values[blk * 256 + size_t(e)];
                // Exact but for a fused multiply-add the compiler may make of this test's own expression.
                REQUIRE(std::fabs(actual - expected) <= 1e-6f * magnitude);
            }
        }
        // Embedding rows decode the same way.
        const int32_t ids[2] = {3, 0};
        std::vector<float> rows_out(2 * size_t(cols));
        LLMATC_REQUIRE_OK(b.k->embedding(b.ctx, kept, ids, 2, rows_out.data()));
        REQUIRE(std::memcmp(rows_out.data(), values.data() + 3 * cols, size_t(cols) * 4) == 0);
        REQUIRE(std::memcmp(rows_out.data() + cols, values.data(), size_t(cols) * 4) == 0);
        b.k->weight_destroy(b.ctx, kept);
        b.k->weight_destroy(b.ctx, as_f32);
    }
}

TEST_CASE("matmul with Q6_K and Q5_K weights matches the reference on the quantized values", "[k_quants]") {
    std::mt19937 rng(2718);
    for (cpu::Isa isa : available_isas()) {
        for (int threads : {1, 2, 3}) {
            TestBackend b(threads, isa);
            for (const KQuant& kq : kKQuants) {
                for (const Shape& s : kShapes) {
                    INFO(b.label << " " << kq.name << " shape [" << s.rows << ", " << s.cols << "] n " << s.n);
                    const std::vector<uint8_t> bytes = random_weight_bytes(rng, kq.dtype, s.rows, s.cols);
                    const llmatc_tensor_view view = bytes_view(bytes, kq.dtype, s.rows, s.cols);
                    llmatc_weight* w = nullptr;
                    LLMATC_REQUIRE_OK(b.k->weight_create(b.ctx, &view, kq.dtype, &w));
                    const std::vector<float> wv = weight_values(w);
                    const std::vector<float> x = random_vector(rng, size_t(s.n * s.cols), -2.0f, 2.0f);
                    std::vector<float> y = poisoned(size_t(s.n * s.rows));
                    LLMATC_REQUIRE_OK(b.k->matmul(b.ctx, w, x.data(), s.n, y.data()));
                    const std::vector<float> xq = kq.dtype == LLMATC_DTYPE_Q6_K ? q8k16_roundtrip(x, s.cols)
                                                                                : q8k_roundtrip(x, s.cols);
                    // Same quantized operands as the (double) reference: the integer products are exact; what
                    // differs is F32 rounding of the per-super-block scaling and of the sum over super-blocks
                    // (a few ulps of sum |x w| per block), hence 2e-5 of the magnitude.
                    require_close(y, ref_matmul(wv, s.rows, s.cols, xq, s.n), 1e-6, 2e-5,
                                  ref_matmul_magnitude(wv, s.rows, s.cols, x, s.n));
                    b.k->weight_destroy(b.ctx, w);
                }
            }
        }
    }
}

TEST_CASE("every ISA's Q6_K and Q5_K matmul agrees with the scalar kernel", "[k_quants]") {
    std::mt19937 rng(31337);
    TestBackend scalar(1, cpu::Isa::scalar);
    for (cpu::Isa isa : available_isas()) {
        TestBackend b(2, isa);
        for (const KQuant& kq : kKQuants) {
            for (const Shape& s : kShapes) {
                INFO(b.label << " " << kq.name << " shape [" << s.rows << ", " << s.cols << "] n " << s.n);
                const std::vector<uint8_t> bytes = random_weight_bytes(rng, kq.dtype, s.rows, s.cols);
                const llmatc_tensor_view view = bytes_view(bytes, kq.dtype, s.rows, s.cols);
                llmatc_weight *w = nullptr, *w_ref = nullptr;
                LLMATC_REQUIRE_OK(b.k->weight_create(b.ctx, &view, kq.dtype, &w));
                LLMATC_REQUIRE_OK(scalar.k->weight_create(scalar.ctx, &view, kq.dtype, &w_ref));
                const std::vector<float> x = random_vector(rng, size_t(s.n * s.cols), -3.0f, 3.0f);
                std::vector<float> y = poisoned(size_t(s.n * s.rows)), y_ref = poisoned(size_t(s.n * s.rows));
                LLMATC_REQUIRE_OK(b.k->matmul(b.ctx, w, x.data(), s.n, y.data()));
                LLMATC_REQUIRE_OK(scalar.k->matmul(scalar.ctx, w_ref, x.data(), s.n, y_ref.data()));
                // Identical integers per super-block; only the F32 order of the scaling and summation differs.
                require_close(y, y_ref, 1e-6, 2e-5, ref_matmul_magnitude(weight_values(w), s.rows, s.cols, x, s.n));
                b.k->weight_destroy(b.ctx, w);
                scalar.k->weight_destroy(scalar.ctx, w_ref);
            }
        }
    }
}

TEST_CASE("every ISA that packs Q5_K / Q6_K weights gives the same bits", "[k_quants]") {
    // As for Q8_0 / Q4_0 / Q4_K (test_matmul.cpp): the AVX2 kernels form the AVX-512 kernels' integers with other
    // instructions and then take the same F32 steps lane for lane, so a model gives the same tokens on either CPU.
    std::mt19937 rng(1618);
    for (const KQuant& kq : kKQuants) {
        std::vector<cpu::Isa> packing;
        for (cpu::Isa isa : available_isas()) {
            if (cpu::isa_kernels(isa).packs_quantized) packing.push_back(isa);
        }
        if (packing.size() < 2) {
            WARN("fewer than two ISAs pack " << kq.name << " on this CPU: nothing to compare");
            continue;
        }
        for (const Shape& s : kShapes) {
            const std::vector<uint8_t> bytes = random_weight_bytes(rng, kq.dtype, s.rows, s.cols);
            const llmatc_tensor_view view = bytes_view(bytes, kq.dtype, s.rows, s.cols);
            const std::vector<float> x = random_vector(rng, size_t(s.n * s.cols), -3.0f, 3.0f);
            std::vector<std::vector<float>> results;
            for (cpu::Isa isa : packing) {
                TestBackend b(2, isa);
                llmatc_weight* w = nullptr;
                LLMATC_REQUIRE_OK(b.k->weight_create(b.ctx, &view, kq.dtype, &w));
                REQUIRE(w->packed);
                std::vector<float> y = poisoned(size_t(s.n * s.rows));
                LLMATC_REQUIRE_OK(b.k->matmul(b.ctx, w, x.data(), s.n, y.data()));
                results.push_back(std::move(y));
                b.k->weight_destroy(b.ctx, w);
            }
            for (size_t i = 1; i < packing.size(); ++i) {
                INFO(kq.name << " shape [" << s.rows << ", " << s.cols << "] n " << s.n << ": "
                             << cpu::isa_name(packing[i]) << " against " << cpu::isa_name(packing[0]));
                CHECK(results[i] == results[0]);
            }
        }
    }
}

namespace {

// The product of `view` (rows x cols blocks of its dtype) with n rows of +1.0 (every activation 127 after
// quantization, at d = 1/127) on the scalar kernel, after checking that every ISA's kernel gives it too.
std::vector<float> product_with_ones_on_every_isa(const llmatc_tensor_view& view, int64_t n) {
    const int64_t rows = view.shape[0], cols = view.shape[1];
    const std::vector<float> x(size_t(n * cols), 1.0f);
    TestBackend scalar(1, cpu::Isa::scalar);
    llmatc_weight* w_ref = nullptr;
    LLMATC_REQUIRE_OK(scalar.k->weight_create(scalar.ctx, &view, view.dtype, &w_ref));
    std::vector<float> y_ref = poisoned(size_t(n * rows));
    LLMATC_REQUIRE_OK(scalar.k->matmul(scalar.ctx, w_ref, x.data(), n, y_ref.data()));
    scalar.k->weight_destroy(scalar.ctx, w_ref);
    for (cpu::Isa isa : available_isas()) {
        TestBackend b(2, isa);
        llmatc_weight* w = nullptr;
        LLMATC_REQUIRE_OK(b.k->weight_create(b.ctx, &view, view.dtype, &w));
        std::vector<float> y = poisoned(size_t(n * rows));
        LLMATC_REQUIRE_OK(b.k->matmul(b.ctx, w, x.data(), n, y.data()));
        INFO(b.label);
        require_close(y, y_ref, 1e-6, 2e-5, std::vector<float>(y.size(), std::fabs(y_ref[0])));
        b.k->weight_destroy(b.ctx, w);
    }
    return y_ref;
}

}  // namespace

TEST_CASE("Q5_K's largest levels and scales times the largest activations stay exact on every ISA", "[k_quants]") {
    // Every level 31, every scale 63, every activation +127 after quantization: the kernels' int16 and int32 sums
    // at their bounds (an int16 sum of more than 4 vpmaddubsw pairs would wrap).
    cpu::BlockQ5_K block{};
    block.d = cpu::f32_to_fp16(0.01f);
    block.dmin = 0;
    for (int i = 0; i < 4; ++i) block.scales[i] = 0xff;      // scales 0-3 = 63, top bits of scales 4-7 = 3
    for (int i = 8; i < 12; ++i) block.scales[i] = 0x0f;     // low bits of scales 4-7 = 15; mins 0
    std::memset(block.qs, 0xff, sizeof(block.qs));
    std::memset(block.qh, 0xff, sizeof(block.qh));
    const std::vector<cpu::BlockQ5_K> blocks(size_t(20 * 512 / 256), block);
    product_with_ones_on_every_isa(block_view(blocks, LLMATC_DTYPE_Q5_K, 20, 512), 3);
}

TEST_CASE("Q6_K's extreme levels and scales times the largest activations stay exact on every ISA", "[k_quants]") {
    // Every level 63 (or 0), every scale -128 or 127, every activation +127 after quantization: the kernels' int32
    // sums of sc * (dot - 32 * sums) at their bounds.
    for (const uint8_t bits : {uint8_t(0xff), uint8_t(0x00)}) {
        INFO("levels " << (bits ? 63 : 0));
        cpu::BlockQ6_K block{};
        block.d = cpu::f32_to_fp16(0.01f);
        std::memset(block.ql, bits, sizeof(block.ql));
        std::memset(block.qh, bits, sizeof(block.qh));
        for (int j = 0; j < 16; ++j) block.scales[j] = int8_t(j % 3 == 0 ? 127 : -128);
        const std::vector<cpu::BlockQ6_K> blocks(size_t(20 * 512 / 256), block);
        const std::vector<float> y = product_with_ones_on_every_isa(block_view(blocks, LLMATC_DTYPE_Q6_K, 20, 512), 3);
        // Each row: 2 super-blocks of d * sum_j sc_j * 16 * (level - 32) (127 times the activations' d = 1/127),
        // with sum_j sc_j = 6 * 127 - 10 * 128.
        const float expected = 2.0f * cpu::fp16_to_f32(block.d) * float(6 * 127 - 10 * 128) * 16.0f *
                               float(bits ? 31 : -32);
        CHECK(std::fabs(y[0] - expected) <= 1e-4f * std::fabs(expected));
    }
}

TEST_CASE("a Q6_K / Q5_K row's product does not depend on the other rows in the batch (bitwise)", "[k_quants][batch]") {
    // As the [matmul][batch] case checks for the types that can be made from F32 (these come only from files).
    std::mt19937 rng(405);
    const int64_t rows = 40, cols = 512;
    const int64_t counts[] = {1, 2, 5, 8, 9, 17, 65};  // the largest last: 65 crosses a 64-row activation block
    const int64_t largest = counts[std::size(counts) - 1];
    for (cpu::Isa isa : available_isas()) {
        TestBackend b(3, isa);
        for (const KQuant& kq : kKQuants) {
            const std::vector<uint8_t> bytes = random_weight_bytes(rng, kq.dtype, rows, cols);
            const llmatc_tensor_view view = bytes_view(bytes, kq.dtype, rows, cols);
            llmatc_weight* w = nullptr;
            LLMATC_REQUIRE_OK(b.k->weight_create(b.ctx, &view, kq.dtype, &w));
            const std::vector<float> x = random_vector(rng, size_t(largest * cols), -3.0f, 3.0f);
            std::vector<float> alone = poisoned(size_t(largest * rows));
            for (int64_t i = 0; i < largest; ++i)
                LLMATC_REQUIRE_OK(b.k->matmul(b.ctx, w, x.data() + i * cols, 1, alone.data() + i * rows));
            for (int64_t n : counts) {
                std::vector<float> y = poisoned(size_t(n * rows));
                LLMATC_REQUIRE_OK(b.k->matmul(b.ctx, w, x.data(), n, y.data()));
                INFO(b.label << " " << kq.name << " n " << n);
                CHECK(std::equal(y.begin(), y.end(), alone.begin()));
            }
            b.k->weight_destroy(b.ctx, w);
        }
    }
}

TEST_CASE("Q6_K and Q5_K refuse bad shapes, sizes and quantization at load, naming the problem",
          "[k_quants][errors]") {
    std::mt19937 rng(11);
    TestBackend b(1, cpu::best_isa());
    for (const KQuant& kq : kKQuants) {
        INFO(kq.name);
        llmatc_weight* w = nullptr;
        // Rows that are not whole super-blocks cannot be stored in the type.
        const EncodedTensor t = encode(random_vector(rng, 4 * 320), LLMATC_DTYPE_F32);
        const llmatc_tensor_view narrow = make_view(t, {4, 320});
        REQUIRE(b.k->weight_create(b.ctx, &narrow, kq.dtype, &w) == LLMATC_ERR_INVALID_ARGUMENT);
        std::string message = thread_error();
        CHECK(message.find("[4, 320]") != std::string::npos);
        CHECK(message.find(kq.name) != std::string::npos);
        REQUIRE(w == nullptr);

        // There is no quantizer to these types: asking for one names the request, not a silent garbage weight.
        const EncodedTensor f = encode(random_vector(rng, 2 * 256), LLMATC_DTYPE_F32);
        const llmatc_tensor_view floats = make_view(f, {2, 256});
        REQUIRE(b.k->weight_create(b.ctx, &floats, kq.dtype, &w) == LLMATC_ERR_UNSUPPORTED);
        message = thread_error();
        CHECK(message.find(kq.name) != std::string::npos);
        CHECK(message.find("GGUF") != std::string::npos);
        REQUIRE(w == nullptr);

        // A source whose byte size does not match its shape is corrupt; the message gives the expected size.
        std::vector<uint8_t> bytes(size_t(kq.block_bytes) - 1, 0);
        const llmatc_tensor_view bad = bytes_view(bytes, kq.dtype, 1, 256);
        REQUIRE(b.k->weight_create(b.ctx, &bad, kq.dtype, &w) == LLMATC_ERR_CORRUPT);
        CHECK(std::string(thread_error()).find(std::to_string(kq.block_bytes)) != std::string::npos);

        // Blocks are kept as they are or decoded to F32; re-quantizing them to another block type is refused.
        std::vector<uint8_t> good = random_weight_bytes(rng, kq.dtype, 1, 256);
        const llmatc_tensor_view ok = bytes_view(good, kq.dtype, 1, 256);
        REQUIRE(b.k->weight_create(b.ctx, &ok, LLMATC_DTYPE_Q8_0, &w) == LLMATC_ERR_UNSUPPORTED);
        CHECK(std::string(thread_error()).find(kq.name) != std::string::npos);
    }
}

TEST_CASE("Q6_K's activations hold the values of Q4_K / Q5_K's, ties rounded to even", "[k_quants]") {
    std::mt19937 rng(99);
    const int64_t cols = 1024;
    std::vector<float> x = random_vector(rng, size_t(cols), -4.0f, 4.0f);
    // First block: max 127 gives d = 1, so halves are exact ties of the rounding (2.5 -> 2, -3.5 -> -4).
    for (int i = 0; i < 256; ++i) x[size_t(i)] = float(i % 2 == 0 ? (i / 2) % 120 : -((i / 2) % 120)) + 0.5f;
    x[0] = 127.0f;
    const std::vector<float> ordered = q8k_roundtrip(x, cols), natural = q8k16_roundtrip(x, cols);
    REQUIRE(ordered == natural);
    CHECK(natural[2] == 2.0f);   // 1.5
    CHECK(natural[4] == 2.0f);   // 2.5
    CHECK(natural[3] == 0.0f);   // -0.5
    CHECK(natural[5] == -2.0f);  // -1.5
}

TEST_CASE("every ISA's K-quant activation quantizers write the reference routines' bytes", "[k_quants]") {
    // The matmul kernels read these blocks; any other byte (a tie rounded the other way, a sum off by one, a value in
    // the wrong place of BlockQ8K's order) would change a model's results between CPUs.
    std::mt19937 rng(404);
    const int64_t cols = 1024;
    std::vector<float> x = random_vector(rng, size_t(cols), -4.0f, 4.0f);
    for (int i = 0; i < 256; ++i) x[size_t(i)] = float(i % 2 == 0 ? (i / 2) % 120 : -((i / 2) % 120)) + 0.5f;
    x[0] = 127.0f;                                                  // block 0: d = 1, every value a tie
    std::fill(x.begin() + 256, x.begin() + 512, 0.0f);              // block 1: all zero (d = 0)
    for (size_t i = 512; i < 768; ++i) x[i] = x[i] * 1e-30f;        // block 2: tiny values
    std::vector<uint8_t> ref_k(size_t(cpu::q8k_row_bytes(cols))), ref_k16(size_t(cpu::q8k16_row_bytes(cols)));
    cpu::quantize_row_q8k(x.data(), ref_k.data(), cols);
    cpu::quantize_row_q8k16(x.data(), ref_k16.data(), cols);
    for (cpu::Isa isa : available_isas()) {
        const cpu::IsaKernels& table = cpu::isa_kernels(isa);
        INFO(cpu::isa_name(isa));
        if (table.quantize_row_q8k) {
            std::vector<uint8_t> out(ref_k.size(), 0xcd);
            table.quantize_row_q8k(x.data(), out.data(), cols);
            CHECK(out == ref_k);
        }
        if (table.quantize_row_q8k16) {
            std::vector<uint8_t> out(ref_k16.size(), 0xcd);
            table.quantize_row_q8k16(x.data(), out.data(), cols);
            CHECK(out == ref_k16);
        }
    }
}

TEST_CASE("Q4_K and Q5_K on AMX-INT8 tiles give the VNNI kernel's bits", "[k_quants][amx]") {
    // Prefill-sized batches (n >= kAmxInt8MinRows) of packed Q4_K / Q5_K weights run on AMX tiles where the CPU has them; decode
    // stays on VNNI. Both must give the same bits, or a token would depend on the batch it was computed in.
    if (!cpu::isa_supported(cpu::Isa::avx512) || !cpu::isa_kernels(cpu::Isa::avx512).has_amx_int8) {
        WARN("this CPU has no AMX-INT8: nothing to compare");
        return;
    }
    std::mt19937 rng(3141);
    // n at and past the AMX threshold (32), partial 16-row tiles; rows in partial groups; 1 to 16 super-blocks (16
    // are two of the kernel's 8-super-block column chunks); at n = 240 two passes of 224 rows over 9 super-blocks.
    static_assert(cpu::kAmxInt8MinRows == 32, "the shapes below assume AMX from 32 rows");
    const Shape shapes[] = {{16, 256, 32}, {37, 768, 33}, {70, 2048, 48}, {19, 512, 40}, {33, 4096, 100},
                            {17, 2304, 240}};
    // Q5_K at its extremes too: every level 31, every scale 63, every activation +127 after quantization.
    cpu::BlockQ5_K extreme{};
    extreme.d = cpu::f32_to_fp16(0.01f);
    for (int i = 0; i < 4; ++i) extreme.scales[i] = 0xff;
    for (int i = 8; i < 12; ++i) extreme.scales[i] = 0x0f;
    std::memset(extreme.qs, 0xff, sizeof(extreme.qs));
    std::memset(extreme.qh, 0xff, sizeof(extreme.qh));
    for (int threads : {1, 2, 3}) {
        const AmxPair backends(threads);
        for (llmatc_dtype dtype : {LLMATC_DTYPE_Q4_K, LLMATC_DTYPE_Q5_K}) {
            for (size_t shape = 0; shape <= std::size(shapes); ++shape) {
                const bool extremes = shape == std::size(shapes);
                if (extremes && dtype != LLMATC_DTYPE_Q5_K) continue;
                const Shape s = extremes ? Shape{20, 512, 32} : shapes[shape];
                INFO(cpu::dtype_name(dtype) << " shape [" << s.rows << ", " << s.cols << "] n " << s.n << " x"
                                            << threads << " threads" << (extremes ? " (extremes)" : ""));
                // Q4_K quantized at load from F32; Q5_K from random blocks (it is read from GGUF files only).
                const std::vector<float> source = random_vector(rng, size_t(s.rows * s.cols));
                const std::vector<cpu::BlockQ5_K> extreme_blocks(size_t(s.rows * s.cols / 256), extreme);
                const std::vector<uint8_t> bytes =
                    extremes ? std::vector<uint8_t>(reinterpret_cast<const uint8_t*>(extreme_blocks.data()),
                                                    reinterpret_cast<const uint8_t*>(extreme_blocks.data() +
                                                                                     extreme_blocks.size()))
                             : random_weight_bytes(rng, LLMATC_DTYPE_Q5_K, s.rows, s.cols);
                llmatc_tensor_view view = bytes_view(bytes, LLMATC_DTYPE_Q5_K, s.rows, s.cols);
                if (dtype == LLMATC_DTYPE_Q4_K) {
                    view.dtype = LLMATC_DTYPE_F32;
                    view.data = source.data();
                    view.nbytes = source.size() * sizeof(float);
                }
                const std::vector<float> x = extremes ? std::vector<float>(size_t(s.n * s.cols), 1.0f)
                                                      : random_vector(rng, size_t(s.n * s.cols), -3.0f, 3.0f);
                CHECK(matmul_with_weight(backends.amx->table(), view, dtype, x, s.n) ==
                      matmul_with_weight(backends.vnni->table(), view, dtype, x, s.n));
            }
        }
    }
}
