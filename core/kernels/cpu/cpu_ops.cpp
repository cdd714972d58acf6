// core/kernels/cpu/cpu_ops.cpp — the CPU backend's matrix product and element-wise kernels (embedding, RMSNorm,
// RoPE, SiLU·mul, add, softmax), split over the thread pool.
#include "kernels/cpu/cpu_ops.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

#include "kernels/cpu/cpu_weight.h"
#include "kernels/cpu/float_packed.h"
#include "kernels/cpu/isa_amx_bf16.h"
#include "kernels/cpu/isa_amx_int8.h"
#include "kernels/cpu/quant_blocks.h"
#include "kernels/cpu/quant_packed.h"
#include "kernels/cpu/quant_q4_k.h"
#include "kernels/cpu/quant_q6_k.h"
#include "util/error.h"

namespace llmatc::cpu {

namespace {

// Element-wise work is split in pieces of this many floats: large enough to amortise a chunk hand-out.
constexpr int64_t kElementChunk = 16384;
// A matmul chunk holds at least this many multiply-adds (a few microseconds on one core): below it, handing work
// to other threads costs more than it saves, so e.g. a 64x64 GEMV runs inline on the caller.
constexpr double kMinMatmulChunkWork = 32768.0;

// Throws Error(status, "kernel: what()") when `ok` is false. The message is built only then: the checks run on
// every kernel call of every token, which must not allocate.
template <class Message>
void require(bool ok, llmatc_status status, const char* kernel, Message&& what) {
    if (!ok) [[unlikely]]
        throw Error(status, std::string(kernel) + ": " + std::string(what()));
}

void require_pointer(const void* p, const char* kernel, const char* name) {
    require(p != nullptr, LLMATC_ERR_INVALID_ARGUMENT, kernel, [&] { return std::string(name) + " is NULL"; });
}

}  // namespace

void* ScratchBuffer::reserve(size_t bytes) {
    if (bytes <= capacity_ && data_) return data_.get();
    void* p = aligned_alloc_bytes(bytes);
    if (!p) throw Error(LLMATC_ERR_OUT_OF_MEMORY, "cpu backend: cannot allocate " + std::to_string(bytes) +
                                                      " bytes of scratch memory");
    data_ = std::unique_ptr<uint8_t[], void (*)(void*)>(static_cast<uint8_t*>(p), aligned_free);
    capacity_ = bytes;
    return p;
}

void op_matmul(CpuContext& ctx, const llmatc_weight* w, const float* x, int64_t n, float* y) {
    require_pointer(w, "matmul", "weight");
    require(w->n_dims == 2, LLMATC_ERR_INVALID_ARGUMENT, "matmul",
            [] { return "the weight is 1-D; matmul needs [out, in]"; });
    require(n >= 0, LLMATC_ERR_INVALID_ARGUMENT, "matmul", [&] { return "negative row count " + std::to_string(n); });
    if (n == 0) return;
    require_pointer(x, "matmul", "x");
    require_pointer(y, "matmul", "y");

    MatmulProblem p{w->dtype, w->data, w->rows, w->cols, x, nullptr, n, y, w->packed, nullptr, nullptr};
    const IsaKernels& k = *ctx.kernels;
    // BF16 dot products need the packed layout, which every table with has_bf16_dot also uses. They round the
    // activations of every matmul, decode's included: a token's result must not depend on the batch it is in.
    const bool bf16_dot = w->dtype == LLMATC_DTYPE_BF16 && w->packed && ctx.options.bf16_activations &&
                          k.has_bf16_dot;
    const bool packed_float = w->packed && (w->dtype == LLMATC_DTYPE_F16 || w->dtype == LLMATC_DTYPE_BF16);
    if (bf16_dot && ctx.options.amx && k.has_amx_bf16) {
        // AMX tiles read x as BF16 rows (isa_amx_bf16.h), for every n.
        const int64_t rows = amx_activation_rows(n);
        auto* out = static_cast<uint16_t*>(ctx.activations_bf16.reserve(
            size_t(rows * amx_activation_stride(w->cols)) * sizeof(uint16_t)));
        ctx.pool.parallel_for(rows, ctx.pool.chunk_for(rows, 1, 1), [&](int64_t begin, int64_t end, int) {
            k.amx_bf16_activations(x, n, w->cols, begin, end, out);
        });
        p.x_amx_bf16 = out;
    } else if (packed_float && (n > 1 || bf16_dot)) {
        // The packed GEMM reads x in 8-row tiles (F32, or BF16 pairs for the BF16 dot product); the GEMV reads x
        // itself, or its BF16 pairs.
        const int64_t tiles = n == 1 ? 1 : act_tiles(n);
        const int64_t tile_rows = n == 1 ? 1 : kActTileRows;
        const int64_t per_tile = tile_rows * (bf16_dot ? (w->cols + 1) / 2 : w->cols);
        void* out = ctx.activations_bf16.reserve(size_t(tiles * per_tile) * sizeof(float));
        if (n == 1) {
            bf16_pairs_row(x, w->cols, static_cast<uint32_t*>(out));
        } else {
            ctx.pool.parallel_for(tiles, 1, [&](int64_t begin, int64_t end, int) {
                if (bf16_dot)
                    tile_activations_bf16(x, n, w->cols, begin, end, static_cast<uint32_t*>(out));
                else
                    tile_activations_f32(x, n, w->cols, begin, end, static_cast<float*>(out));
            });
        }
        if (bf16_dot)
            p.x_tiles_bf16 = static_cast<const uint32_t*>(out);
        else
            p.x_tiles = static_cast<const float*>(out);
    }
    if (w->packed && (w->dtype == LLMATC_DTYPE_Q8_0 || w->dtype == LLMATC_DTYPE_Q4_0)) {
        // AMX tiles (prefill-sized batches) read 16 rows at a time: the rows past n are zeros. Their results are
        // the VNNI kernel's bits, so which one runs never changes a token.
        p.amx_int8 = ctx.options.amx && k.has_amx_int8 && n >= kAmxInt8MinRows;
        const int64_t rows = p.amx_int8 ? amx_int8_activation_rows(n) : n;
        const int64_t row_bytes = packed_act_row_bytes(w->cols);
        auto* xq = static_cast<uint8_t*>(ctx.activations_q8.reserve(size_t(row_bytes * rows)));
        std::memset(xq + n * row_bytes, 0, size_t((rows - n) * row_bytes));
        const auto quantize = k.quantize_act_row ? k.quantize_act_row : quantize_act_row_ref;
        ctx.pool.parallel_for(n, ctx.pool.chunk_for(n, 1, 1), [&](int64_t begin, int64_t end, int) {
            for (int64_t i = begin; i < end; ++i) quantize(x + i * w->cols, xq + i * row_bytes, w->cols);
        });
        p.x_q8 = xq;
    } else if (w->dtype == LLMATC_DTYPE_Q8_0 || w->dtype == LLMATC_DTYPE_Q4_0) {
        const int64_t row_bytes = (w->cols / kQuantBlock) * int64_t(sizeof(BlockQ8_0));
        auto* xq = static_cast<uint8_t*>(ctx.activations_q8.reserve(size_t(row_bytes * n)));
        ctx.pool.parallel_for(n, ctx.pool.chunk_for(n, 1, 1), [&](int64_t begin, int64_t end, int) {
            for (int64_t i = begin; i < end; ++i) k.quantize_row_q8_0(x + i * w->cols, xq + i * row_bytes, w->cols);
        });
        p.x_q8 = xq;
    } else if (w->dtype == LLMATC_DTYPE_Q4_K || w->dtype == LLMATC_DTYPE_Q5_K) {
        // Q4_K reads activations per super-block of 256 (BlockQ8K: int8 values in its nibble order + sub-block sums);
        // packed, on AMX tiles as for Q8_0 (zero rows up to a multiple of 16).
        p.amx_int8 = w->packed && ctx.options.amx && k.has_amx_int8 && n >= kAmxInt8MinRows;
        const int64_t rows = p.amx_int8 ? amx_int8_activation_rows(n) : n;
        const int64_t row_bytes = q8k_row_bytes(w->cols);
        auto* xq = static_cast<uint8_t*>(ctx.activations_q8.reserve(size_t(row_bytes * rows)));
        std::memset(xq + n * row_bytes, 0, size_t((rows - n) * row_bytes));
        const auto quantize = k.quantize_row_q8k ? k.quantize_row_q8k : quantize_row_q8k;
        ctx.pool.parallel_for(n, ctx.pool.chunk_for(n, 1, 1), [&](int64_t begin, int64_t end, int) {
            for (int64_t i = begin; i < end; ++i) quantize(x + i * w->cols, xq + i * row_bytes, w->cols);
        });
        p.x_q8 = xq;
    } else if (w->dtype == LLMATC_DTYPE_Q6_K) {
        // Q6_K reads them in element order with sums per 16 (BlockQ8K16), for its per-16 scales.
        const int64_t row_bytes = q8k16_row_bytes(w->cols);
        auto* xq = static_cast<uint8_t*>(ctx.activations_q8.reserve(size_t(row_bytes * n)));
        const auto quantize = k.quantize_row_q8k16 ? k.quantize_row_q8k16 : quantize_row_q8k16;
        ctx.pool.parallel_for(n, ctx.pool.chunk_for(n, 1, 1), [&](int64_t begin, int64_t end, int) {
            for (int64_t i = begin; i < end; ++i) quantize(x + i * w->cols, xq + i * row_bytes, w->cols);
        });
        p.x_q8 = xq;
    }
    // Split over output features: each thread streams its own slice of the weight once per x block. Packed F16
    // slices are whole bands (float_packed.h), so a thread's GEMV reads one stream, never half of another's band.
    const int64_t multiple = w->packed && w->dtype == LLMATC_DTYPE_F16 ? kF16BandGroups * kFloatPackRows
                                                                       : kMatmulRowMultiple;
    const int64_t chunk = ctx.pool.chunk_for_work(w->rows, multiple, double(w->cols) * double(n),
                                                  kMinMatmulChunkWork, n == 1 ? 4 : 2);
    ctx.pool.parallel_for(w->rows, chunk, [&](int64_t begin, int64_t end, int) { k.matmul_rows(p, begin, end); });
}

void op_embedding(CpuContext& ctx, const llmatc_weight* table, const int32_t* ids, int64_t n, float* out) {
    require_pointer(table, "embedding", "table");
    require(table->n_dims == 2, LLMATC_ERR_INVALID_ARGUMENT, "embedding",
            [] { return "the table is 1-D; it must be [vocab, dim]"; });
    require(n >= 0, LLMATC_ERR_INVALID_ARGUMENT, "embedding",
            [&] { return "negative token count " + std::to_string(n); });
    if (n == 0) return;
    require_pointer(ids, "embedding", "ids");
    require_pointer(out, "embedding", "out");
    for (int64_t i = 0; i < n; ++i)
        require(ids[i] >= 0 && ids[i] < table->rows, LLMATC_ERR_INVALID_ARGUMENT, "embedding", [&] {
            return "token id " + std::to_string(ids[i]) + " at index " + std::to_string(i) + " is outside [0, " +
                   std::to_string(table->rows) + ")";
        });
    ctx.pool.parallel_for(n, ctx.pool.chunk_for(n, 1, 1), [&](int64_t begin, int64_t end, int) {
        for (int64_t i = begin; i < end; ++i) weight_row_to_f32(*table, ids[i], out + i * table->cols);
    });
}

void op_rmsnorm(CpuContext& ctx, const float* x, const llmatc_weight* w, int64_t n, int64_t dim, float eps,
                float* out) {
    require_pointer(w, "rmsnorm", "weight");
    require(w->dtype == LLMATC_DTYPE_F32 && w->rows == 1 && w->cols == dim, LLMATC_ERR_INVALID_ARGUMENT, "rmsnorm",
            [&] {
                return "the weight has " + std::to_string(w->rows * w->cols) + " elements, dim is " +
                       std::to_string(dim);
            });
    require(n >= 0 && dim > 0, LLMATC_ERR_INVALID_ARGUMENT, "rmsnorm",
            [&] { return "bad shape n=" + std::to_string(n) + " dim=" + std::to_string(dim); });
    if (n == 0) return;
    require_pointer(x, "rmsnorm", "x");
    require_pointer(out, "rmsnorm", "out");
    const auto* weight = static_cast<const float*>(w->data);
    ctx.pool.parallel_for(n, ctx.pool.chunk_for(n, 1, 1), [&](int64_t begin, int64_t end, int) {
        for (int64_t i = begin; i < end; ++i) {
            const float* xi = x + i * dim;
            float* oi = out + i * dim;
            // Mean of squares in F32 as the reference implementations do, with partial sums for vectorisation.
            float partial[8] = {0, 0, 0, 0, 0, 0, 0, 0};
            int64_t k = 0;
            for (; k + 8 <= dim; k += 8)
                for (int j = 0; j < 8; ++j) partial[j] += xi[k + j] * xi[k + j];
            float sum = 0.0f;
            for (int j = 0; j < 8; ++j) sum += partial[j];
            for (; k < dim; ++k) sum += xi[k] * xi[k];
            const float inv_rms = 1.0f / std::sqrt(sum / float(dim) + eps);
            for (int64_t c = 0; c < dim; ++c) oi[c] = weight[c] * (xi[c] * inv_rms);
        }
    });
}

void op_rope(CpuContext& ctx, float* x, const int32_t* positions, int64_t n, int32_t n_heads, int32_t head_dim,
             float theta, float pos_scale) {
    require(n >= 0 && n_heads > 0, LLMATC_ERR_INVALID_ARGUMENT, "rope",
            [&] { return "bad shape n=" + std::to_string(n) + " n_heads=" + std::to_string(n_heads); });
    require(head_dim > 0 && head_dim % 2 == 0 && head_dim <= kMaxHeadDim, LLMATC_ERR_INVALID_ARGUMENT, "rope", [&] {
        return "head_dim " + std::to_string(head_dim) + " must be even and at most " + std::to_string(kMaxHeadDim);
    });
    require(theta > 0.0f && pos_scale > 0.0f, LLMATC_ERR_INVALID_ARGUMENT, "rope",
            [] { return "theta and pos_scale must be positive"; });
    if (n == 0) return;
    require_pointer(x, "rope", "x");
    require_pointer(positions, "rope", "positions");
    const int32_t half = head_dim / 2;
    // inv_freq as Hugging Face computes it (F32), with linear scaling folded in.
    float inv_freq[kMaxHeadDim / 2];
    for (int32_t i = 0; i < half; ++i)
        inv_freq[i] = (1.0f / std::pow(theta, float(2 * i) / float(head_dim))) / pos_scale;
    ctx.pool.parallel_for(n, ctx.pool.chunk_for(n, 1, 1), [&](int64_t begin, int64_t end, int) {
        float cos_table[kMaxHeadDim / 2];
        float sin_table[kMaxHeadDim / 2];
        for (int64_t t = begin; t < end; ++t) {
            const float pos = float(positions[t]);
            for (int32_t i = 0; i < half; ++i) {
                const float angle = pos * inv_freq[i];
                cos_table[i] = std::cos(angle);
                sin_table[i] = std::sin(angle);
            }
            for (int32_t h = 0; h < n_heads; ++h) {
                float* v = x + (t * n_heads + h) * head_dim;
                for (int32_t i = 0; i < half; ++i) {
                    const float a = v[i], b = v[i + half];
                    v[i] = a * cos_table[i] - b * sin_table[i];
                    v[i + half] = b * cos_table[i] + a * sin_table[i];
                }
            }
        }
    });
}

void op_silu_mul(CpuContext& ctx, const float* gate, const float* up, int64_t n, float* out) {
    require(n >= 0, LLMATC_ERR_INVALID_ARGUMENT, "silu_mul", [&] { return "negative length " + std::to_string(n); });
    if (n == 0) return;
    require_pointer(gate, "silu_mul", "gate");
    require_pointer(up, "silu_mul", "up");
    require_pointer(out, "silu_mul", "out");
    const auto& k = *ctx.kernels;
    ctx.pool.parallel_for(n, kElementChunk, [&](int64_t begin, int64_t end, int) {
        k.silu_mul(gate + begin, up + begin, end - begin, out + begin);
    });
}

void op_add(CpuContext& ctx, float* x, const float* y, int64_t n) {
    require(n >= 0, LLMATC_ERR_INVALID_ARGUMENT, "add", [&] { return "negative length " + std::to_string(n); });
    if (n == 0) return;
    require_pointer(x, "add", "x");
    require_pointer(y, "add", "y");
    ctx.pool.parallel_for(n, kElementChunk, [&](int64_t begin, int64_t end, int) {
        for (int64_t i = begin; i < end; ++i) x[i] += y[i];
    });
}

void op_softmax(CpuContext& ctx, float* x, int64_t n, int64_t dim) {
    require(n >= 0 && dim > 0, LLMATC_ERR_INVALID_ARGUMENT, "softmax",
            [&] { return "bad shape n=" + std::to_string(n) + " dim=" + std::to_string(dim); });
    if (n == 0) return;
    require_pointer(x, "softmax", "x");
    ctx.pool.parallel_for(n, ctx.pool.chunk_for(n, 1, 1), [&](int64_t begin, int64_t end, int) {
        for (int64_t i = begin; i < end; ++i) {
            float* row = x + i * dim;
            float max_value = row[0];
            for (int64_t c = 1; c < dim; ++c) max_value = std::max(max_value, row[c]);
            float sum = 0.0f;
            for (int64_t c = 0; c < dim; ++c) {
                row[c] = std::exp(row[c] - max_value);
                sum += row[c];
            }
            const float inv_sum = 1.0f / sum;
            for (int64_t c = 0; c < dim; ++c) row[c] *= inv_sum;
        }
    });
}

}  // namespace llmatc::cpu
