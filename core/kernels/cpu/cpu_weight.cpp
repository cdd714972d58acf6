// core/kernels/cpu/cpu_weight.cpp — preparing checkpoint tensors as CPU weights: validation, zero-copy, conversion
// between F32/F16/BF16, and Q8_0/Q4_0 quantization at load.
#include "kernels/cpu/cpu_weight.h"

#include <algorithm>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include "kernels/cpu/fp16.h"
#include "kernels/cpu/quant_blocks.h"
#include "checkpoint/dtype.h"
#include "kernels/cpu/float_packed.h"
#include "kernels/cpu/quant_packed.h"
#include "kernels/cpu/quant_q4_k_packed.h"
#include "kernels/cpu/quant_q4_k.h"
#include "kernels/cpu/quant_q5_k_packed.h"
#include "kernels/cpu/quant_q5_k.h"
#include "kernels/cpu/quant_q6_k_packed.h"
#include "kernels/cpu/quant_q6_k.h"
#include "kernels/cpu/thread_pool.h"
#include "util/error.h"

namespace llmatc::cpu {

namespace {

bool is_float_type(llmatc_dtype t) {
    return t == LLMATC_DTYPE_F32 || t == LLMATC_DTYPE_F16 || t == LLMATC_DTYPE_BF16;
}
bool is_k_quant(llmatc_dtype t) {
    return t == LLMATC_DTYPE_Q4_K || t == LLMATC_DTYPE_Q6_K || t == LLMATC_DTYPE_Q5_K;
}
bool is_block_type(llmatc_dtype t) {
    return t == LLMATC_DTYPE_Q8_0 || t == LLMATC_DTYPE_Q4_0 || is_k_quant(t);
}
// Elements per block along a row: 256 for the K-quants' super-blocks, 32 for Q8_0 / Q4_0.
int64_t block_elements(llmatc_dtype t) { return is_k_quant(t) ? kQ4KBlock : kQuantBlock; }
// Types read from GGUF files only: there is no quantizer for them at load.
bool is_read_only_type(llmatc_dtype t) { return t == LLMATC_DTYPE_Q6_K || t == LLMATC_DTYPE_Q5_K; }

std::string shape_string(const llmatc_tensor_view& v) {
    std::string s = "[";
    for (int d = 0; d < v.n_dims && d < LLMATC_MAX_DIMS; ++d) {
        if (d) s += ", ";
        s += std::to_string(v.shape[d]);
    }
    return s + "]";
}

// Reads element `index` of a float-typed buffer as F32.
float load_element(llmatc_dtype t, const void* data, int64_t index) {
    switch (t) {
        case LLMATC_DTYPE_F16: return fp16_to_f32(static_cast<const uint16_t*>(data)[index]);
        case LLMATC_DTYPE_BF16: return bf16_to_f32(static_cast<const uint16_t*>(data)[index]);
        default: return static_cast<const float*>(data)[index];
    }
}

// Row `row` of a [rows, cols] tensor of any supported type, as F32.
void row_to_f32(llmatc_dtype t, const void* data, int64_t cols, int64_t row, float* out) {
    if (t == LLMATC_DTYPE_Q8_0) {
        const auto* blocks = static_cast<const BlockQ8_0*>(data) + row * (cols / kQuantBlock);
        for (int64_t b = 0; b < cols / kQuantBlock; ++b) dequantize_block_q8_0(blocks + b, out + b * kQuantBlock);
    } else if (t == LLMATC_DTYPE_Q4_0) {
        const auto* blocks = static_cast<const BlockQ4_0*>(data) + row * (cols / kQuantBlock);
        for (int64_t b = 0; b < cols / kQuantBlock; ++b) dequantize_block_q4_0(blocks + b, out + b * kQuantBlock);
    } else if (t == LLMATC_DTYPE_Q4_K) {
        const auto* blocks = static_cast<const BlockQ4_K*>(data) + row * (cols / kQ4KBlock);
        for (int64_t b = 0; b < cols / kQ4KBlock; ++b) dequantize_block_q4_k(blocks + b, out + b * kQ4KBlock);
    } else if (t == LLMATC_DTYPE_Q6_K) {
        const auto* blocks = static_cast<const BlockQ6_K*>(data) + row * (cols / kQ6KBlock);
        for (int64_t b = 0; b < cols / kQ6KBlock; ++b) dequantize_block_q6_k(blocks + b, out + b * kQ6KBlock);
    } else if (t == LLMATC_DTYPE_Q5_K) {
        const auto* blocks = static_cast<const BlockQ5_K*>(data) + row * (cols / kQ5KBlock);
        for (int64_t b = 0; b < cols / kQ5KBlock; ++b) dequantize_block_q5_k(blocks + b, out + b * kQ5KBlock);
    } else if (t == LLMATC_DTYPE_F32) {
        std::memcpy(out, static_cast<const float*>(data) + row * cols, size_t(cols) * sizeof(float));
    } else {
        for (int64_t k = 0; k < cols; ++k) out[k] = load_element(t, data, row * cols + k);
    }
}

// Writes F32 values of one row into the storage type (cols a multiple of 32 for the block types).
void row_from_f32(llmatc_dtype t, const float* in, int64_t cols, int64_t row, void* data) {
    switch (t) {
        case LLMATC_DTYPE_F32:
            std::memcpy(static_cast<float*>(data) + row * cols, in, size_t(cols) * sizeof(float));
            return;
        case LLMATC_DTYPE_F16: {
            auto* out = static_cast<uint16_t*>(data) + row * cols;
            for (int64_t k = 0; k < cols; ++k) out[k] = f32_to_fp16(in[k]);
            return;
        }
        case LLMATC_DTYPE_BF16: {
            auto* out = static_cast<uint16_t*>(data) + row * cols;
            for (int64_t k = 0; k < cols; ++k) out[k] = f32_to_bf16(in[k]);
            return;
        }
        case LLMATC_DTYPE_Q8_0: {
            auto* out = static_cast<BlockQ8_0*>(data) + row * (cols / kQuantBlock);
            for (int64_t b = 0; b < cols / kQuantBlock; ++b) quantize_block_q8_0(in + b * kQuantBlock, out + b);
            return;
        }
        case LLMATC_DTYPE_Q4_0: {
            auto* out = static_cast<BlockQ4_0*>(data) + row * (cols / kQuantBlock);
            for (int64_t b = 0; b < cols / kQuantBlock; ++b) quantize_block_q4_0(in + b * kQuantBlock, out + b);
            return;
        }
        case LLMATC_DTYPE_Q4_K: {
            auto* out = static_cast<BlockQ4_K*>(data) + row * (cols / kQ4KBlock);
            for (int64_t b = 0; b < cols / kQ4KBlock; ++b) quantize_block_q4_k(in + b * kQ4KBlock, out + b);
            return;
        }
        default: return;
    }
}

}  // namespace

uint64_t dtype_bytes(llmatc_dtype dtype, int64_t count) {
    switch (dtype) {
        case LLMATC_DTYPE_F32:
        case LLMATC_DTYPE_I32: return uint64_t(count) * 4;
        case LLMATC_DTYPE_F16:
        case LLMATC_DTYPE_BF16: return uint64_t(count) * 2;
        case LLMATC_DTYPE_I64: return uint64_t(count) * 8;
        case LLMATC_DTYPE_Q8_0: return uint64_t(count / kQuantBlock) * sizeof(BlockQ8_0);
        case LLMATC_DTYPE_Q4_0: return uint64_t(count / kQuantBlock) * sizeof(BlockQ4_0);
        case LLMATC_DTYPE_Q4_K: return uint64_t(count / kQ4KBlock) * sizeof(BlockQ4_K);
        case LLMATC_DTYPE_Q6_K: return uint64_t(count / kQ6KBlock) * sizeof(BlockQ6_K);
        case LLMATC_DTYPE_Q5_K: return uint64_t(count / kQ5KBlock) * sizeof(BlockQ5_K);
        default: return 0;
    }
}

const char* dtype_name(llmatc_dtype dtype) { return llmatc::dtype_name(dtype); }

void* aligned_alloc_bytes(size_t bytes) {
    const size_t rounded = (bytes + 63) / 64 * 64;
    // Buffers of weights and KV cache are streamed end to end every step: back them with transparent huge pages
    // (where the system allows them on request) so the stream does not walk a page table every 4 KiB. Only the
    // whole 2 MiB pages are advised: a huge page over the tail would be resident beyond the buffer's bytes.
    constexpr size_t kHugePage = size_t(2) << 20;
    if (rounded >= 2 * kHugePage) {
        void* p = nullptr;
        if (::posix_memalign(&p, kHugePage, rounded) != 0) return nullptr;
        ::madvise(p, rounded / kHugePage * kHugePage, MADV_HUGEPAGE);  // advice only: else ordinary pages
        return p;
    }
    return std::aligned_alloc(64, rounded == 0 ? 64 : rounded);
}

void aligned_free(void* ptr) { std::free(ptr); }

// Asks the kernel to reclaim the source's pages once the weight holds its own copy: a memory-mapped checkpoint's
// pages would otherwise stay resident beside the copy (twice the weights' memory). MADV_PAGEOUT never changes the
// contents (clean file pages are re-read if touched again; anonymous memory without swap stays), so it is safe for
// any caller-owned buffer; failure (an old kernel) only costs memory.
void release_source_pages(const void* data, uint64_t bytes) {
#ifdef MADV_PAGEOUT
    const auto page = uint64_t(::sysconf(_SC_PAGESIZE));
    const auto begin = (reinterpret_cast<uint64_t>(data) + page - 1) / page * page;
    const auto end = (reinterpret_cast<uint64_t>(data) + bytes) / page * page;
    if (end > begin) ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_PAGEOUT);
#else
    (void)data;
    (void)bytes;
#endif
}

std::unique_ptr<llmatc_weight> make_weight(const llmatc_tensor_view& src, llmatc_dtype storage, ThreadPool* pool,
                                           WeightPacking pack) {
    if (src.struct_size < LLMATC_TENSOR_VIEW_MIN_SIZE)
        throw Error(LLMATC_ERR_INVALID_ARGUMENT, "weight_create: tensor view struct_size " +
                                                     std::to_string(src.struct_size) + " is smaller than " +
                                                     std::to_string(LLMATC_TENSOR_VIEW_MIN_SIZE));
    const bool transient = src.struct_size >= offsetof(llmatc_tensor_view, flags) + sizeof(src.flags) &&
                           (src.flags & LLMATC_TENSOR_TRANSIENT) != 0;
    if (src.n_dims != 1 && src.n_dims != 2)
        throw Error(LLMATC_ERR_UNSUPPORTED, "weight_create: only 1-D and 2-D weights are supported, got " +
                                                std::to_string(src.n_dims) + " dims " + shape_string(src));
    for (int d = 0; d < src.n_dims; ++d)
        if (src.shape[d] <= 0)
            throw Error(LLMATC_ERR_INVALID_ARGUMENT, "weight_create: non-positive dimension in shape " +
                                                         shape_string(src));
    if (!is_float_type(src.dtype) && !is_block_type(src.dtype))
        throw Error(LLMATC_ERR_UNSUPPORTED, std::string("weight_create: source dtype ") + dtype_name(src.dtype) +
                                                " is not supported (F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q5_K, Q6_K)");
    if (!is_float_type(storage) && !is_block_type(storage))
        throw Error(LLMATC_ERR_UNSUPPORTED, std::string("weight_create: storage dtype ") + dtype_name(storage) +
                                                " is not supported (F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q5_K, Q6_K)");
    if (src.data == nullptr) throw Error(LLMATC_ERR_INVALID_ARGUMENT, "weight_create: tensor data is NULL");

    const int64_t rows = src.n_dims == 2 ? src.shape[0] : 1;
    const int64_t cols = src.n_dims == 2 ? src.shape[1] : src.shape[0];
    if (is_block_type(src.dtype) && cols % block_elements(src.dtype) != 0)
        throw Error(LLMATC_ERR_CORRUPT, std::string("weight_create: ") + dtype_name(src.dtype) + " tensor of shape " +
                                            shape_string(src) + " has rows not a multiple of " +
                                            std::to_string(block_elements(src.dtype)) + " elements");
    const uint64_t expected = uint64_t(rows) * dtype_bytes(src.dtype, cols);
    if (src.nbytes != expected)
        throw Error(LLMATC_ERR_CORRUPT, std::string("weight_create: ") + dtype_name(src.dtype) + " tensor of shape " +
                                            shape_string(src) + " should have " + std::to_string(expected) +
                                            " bytes, has " + std::to_string(src.nbytes));

    // Norm weights (1-D) are always F32: they are tiny and read by element-wise kernels.
    if (src.n_dims == 1) storage = LLMATC_DTYPE_F32;
    if (is_block_type(storage) && cols % block_elements(storage) != 0)
        throw Error(LLMATC_ERR_INVALID_ARGUMENT, std::string("weight_create: cannot quantize a weight of shape ") +
                                                     shape_string(src) + " to " + dtype_name(storage) +
                                                     ": its rows are not a multiple of " +
                                                     std::to_string(block_elements(storage)) + " elements");
    if (is_block_type(src.dtype) && storage != src.dtype && storage != LLMATC_DTYPE_F32)
        throw Error(LLMATC_ERR_UNSUPPORTED, std::string("weight_create: a ") + dtype_name(src.dtype) +
                                                " weight can be kept as " + dtype_name(src.dtype) +
                                                " or F32, not " + dtype_name(storage));

    if (is_read_only_type(storage) && src.dtype != storage)
        throw Error(LLMATC_ERR_UNSUPPORTED, std::string("weight_create: cannot quantize a ") + dtype_name(src.dtype) +
                                                " weight of shape " + shape_string(src) + " to " +
                                                dtype_name(storage) + " at load; " + dtype_name(storage) +
                                                " weights are only read from GGUF files");

    auto w = std::make_unique<llmatc_weight>();
    w->dtype = storage;
    w->rows = rows;
    w->cols = cols;
    w->n_dims = src.n_dims;
    const bool quantized_packable = is_block_type(storage);
    const bool float_packable = storage == LLMATC_DTYPE_F16 || storage == LLMATC_DTYPE_BF16;
    w->packed = src.n_dims == 2 && ((pack.quantized && quantized_packable) || (pack.floats && float_packable));
    w->bytes = !w->packed                     ? uint64_t(rows) * dtype_bytes(storage, cols)
               : storage == LLMATC_DTYPE_Q4_K ? packed_q4_k_weight_bytes(rows, cols)
               : storage == LLMATC_DTYPE_Q5_K ? packed_q5_k_weight_bytes(rows, cols)
               : storage == LLMATC_DTYPE_Q6_K ? packed_q6_k_weight_bytes(rows, cols)
               : quantized_packable           ? packed_weight_bytes(storage, rows, cols)
                                              : float_packed_weight_bytes(storage, rows, cols);
    if (storage == src.dtype && !w->packed && !transient) {
        w->data = src.data;  // zero-copy: the caller keeps the mapping alive as long as the weight
        return w;
    }
    void* buffer = aligned_alloc_bytes(size_t(w->bytes));
    if (!buffer)
        throw Error(LLMATC_ERR_OUT_OF_MEMORY, "weight_create: cannot allocate " + std::to_string(w->bytes) +
                                                  " bytes for a weight of shape " + shape_string(src));
    w->owned = std::unique_ptr<uint8_t[], void (*)(void*)>(static_cast<uint8_t*>(buffer), aligned_free);
    w->data = buffer;

    const int n_threads = pool ? pool->size() : 1;
    auto run = [&](int64_t items, auto&& body) {
        if (pool && items > 1) {
            pool->parallel_for(items, pool->chunk_for(items, 1), body);
        } else {
            body(int64_t(0), items, 0);
        }
    };
    if (w->packed) {
        // Groups of 16 rows: rows in storage format (the source's own, or converted into per-thread scratch), then
        // interleaved. Scratch is allocated here because parallel bodies must not throw.
        const int64_t group_rows = quantized_packable ? kPackRows : kFloatPackRows;
        static_assert(kQ4KPackRows == kPackRows, "Q4_K groups have as many rows as Q8_0 / Q4_0 groups");
        const int64_t groups = (rows + group_rows - 1) / group_rows;
        const uint64_t group_bytes = w->bytes / uint64_t(groups);
        const uint64_t group_src_bytes = uint64_t(group_rows) * dtype_bytes(storage, cols);
        const bool direct = src.dtype == storage;
        std::unique_ptr<uint8_t[]> converted(direct ? nullptr : new uint8_t[group_src_bytes * size_t(n_threads)]);
        std::unique_ptr<float[]> row_f32(direct ? nullptr : new float[size_t(cols) * size_t(n_threads)]);
        // Packs `count` rows in storage format (the group's rows) as packed group g.
        auto pack_rows = [&](const void* group_rows_data, int64_t count, int64_t g) {
            void* dst = static_cast<uint8_t*>(buffer) + uint64_t(g) * group_bytes;
            if (storage == LLMATC_DTYPE_Q4_K)
                pack_q4_k_group(static_cast<const BlockQ4_K*>(group_rows_data), count, cols, 0, dst);
            else if (storage == LLMATC_DTYPE_Q5_K)
                pack_q5_k_group(static_cast<const BlockQ5_K*>(group_rows_data), count, cols, 0, dst);
            else if (storage == LLMATC_DTYPE_Q6_K)
                pack_q6_k_group(static_cast<const BlockQ6_K*>(group_rows_data), count, cols, 0, dst);
            else if (quantized_packable)
                pack_quant_group(storage, group_rows_data, count, cols, 0, dst);
            else  // F16 groups interleave with their band's (float_packed.h): placed from the weight's start
                pack_float_group(storage, static_cast<const uint16_t*>(group_rows_data), count, rows, cols, g,
                                 buffer);
        };
        run(groups, [&](int64_t begin, int64_t end, int thread) {
            for (int64_t g = begin; g < end; ++g) {
                const int64_t first = g * group_rows, count = std::min(group_rows, rows - first);
                if (direct) {
                    const auto* rows_here = static_cast<const uint8_t*>(src.data) +
                                            uint64_t(first) * dtype_bytes(storage, cols);
                    pack_rows(rows_here, count, g);
                    continue;
                }
                uint8_t* scratch_rows = converted.get() + size_t(thread) * group_src_bytes;
                float* row = row_f32.get() + size_t(thread) * size_t(cols);
                for (int64_t r = 0; r < count; ++r) {
                    row_to_f32(src.dtype, src.data, cols, first + r, row);
                    row_from_f32(storage, row, cols, r, scratch_rows);
                }
                pack_rows(scratch_rows, count, g);
            }
        });
        release_source_pages(src.data, src.nbytes);
        return w;
    }

    if (storage == src.dtype) {  // a transient view in the weight's own dtype: its bytes, exactly
        std::memcpy(buffer, src.data, size_t(w->bytes));
        return w;
    }
    // One F32 row of scratch per thread, allocated here because parallel bodies must not throw.
    std::unique_ptr<float[]> scratch(new float[size_t(cols) * size_t(n_threads)]);
    run(rows, [&](int64_t begin, int64_t end, int thread) {
        float* row = scratch.get() + size_t(thread) * size_t(cols);
        for (int64_t r = begin; r < end; ++r) {
            row_to_f32(src.dtype, src.data, cols, r, row);
            row_from_f32(storage, row, cols, r, buffer);
        }
    });
    release_source_pages(src.data, src.nbytes);
    return w;
}

void weight_row_to_f32(const llmatc_weight& w, int64_t row, float* out) {
    if (w.packed && (w.dtype == LLMATC_DTYPE_Q8_0 || w.dtype == LLMATC_DTYPE_Q4_0)) {
        packed_row_to_f32(w.dtype, w.data, w.cols, row, out);
        return;
    }
    if (w.packed && w.dtype == LLMATC_DTYPE_Q4_K) {
        packed_q4_k_row_to_f32(w.data, w.cols, row, out);
        return;
    }
    if (w.packed && w.dtype == LLMATC_DTYPE_Q5_K) {
        packed_q5_k_row_to_f32(w.data, w.cols, row, out);
        return;
    }
    if (w.packed && w.dtype == LLMATC_DTYPE_Q6_K) {
        packed_q6_k_row_to_f32(w.data, w.cols, row, out);
        return;
    }
    if (w.packed) {  // F16 / BF16: gather the row's elements from their interleaved places
        for (int64_t k = 0; k < w.cols; ++k) {
            const uint16_t e = packed_float_element(w.dtype, w.data, w.rows, w.cols, row, k);
            out[k] = w.dtype == LLMATC_DTYPE_F16 ? fp16_to_f32(e) : bf16_to_f32(e);
        }
        return;
    }
    row_to_f32(w.dtype, w.data, w.cols, row, out);
}

}  // namespace llmatc::cpu
