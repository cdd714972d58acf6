// core/kernels/cuda/cuda_attention.cu — the paged KV cache on the GPU: writing a batch's keys/values into their
// slots, decode attention (one query row per block, split along the keys, partials combined by a second kernel) and
// prefill attention (a tile of a sequence's query rows shares each K/V tile loaded into shared memory). Both read
// the block tables directly; grouped-query heads map head h to kv head h / (n_heads / n_kv_heads).
#include <algorithm>
#include <string>

#include "cuda/cuda_dtype.cuh"
#include "cuda/cuda_error.h"
#include "cuda/cuda_kernels.h"

namespace llmatc::cuda {

namespace {

constexpr int kElemsPerLane = kMaxAttentionHeadDim / 32;  // head_dim split across a warp's lanes
constexpr int kAttentionWarps = 4;
constexpr int kQueriesPerWarp = kPrefillTileRows / kAttentionWarps;

// What every kernel needs to find a row's sequence, position and cache slots.
struct PlanView {
    const int32_t* data;
    int32_t row_seq, seq_n_past, seq_first_row, seq_table;

    __device__ int32_t seq_of(int32_t row) const { return data[row_seq + row]; }
    __device__ int64_t position_of(int32_t row, int32_t s) const {
        return int64_t(data[seq_n_past + s]) + (row - data[seq_first_row + s]);
    }
    __device__ const int32_t* table_of(int32_t s) const { return data + data[seq_table + s]; }
};

PlanView view_of(const DeviceBatchPlan& plan) {
    return {plan.data, plan.row_seq, plan.seq_n_past, plan.seq_first_row, plan.seq_table};
}

__device__ __forceinline__ int64_t slot_of(const int32_t* table, int32_t block_size, int64_t position) {
    return int64_t(table[position / block_size]) * block_size + position % block_size;
}

template <typename KV>
__global__ void kv_write_kernel(PlanView plan, KV* k_cache, KV* v_cache, int64_t kv_row, int32_t block_size,
                                const float* k, const float* v) {
    const int32_t row = blockIdx.x;
    const int32_t s = plan.seq_of(row);
    const int64_t slot = slot_of(plan.table_of(s), block_size, plan.position_of(row, s));
    KV* kd = k_cache + slot * kv_row;
    KV* vd = v_cache + slot * kv_row;
    const float* ks = k + int64_t(row) * kv_row;
    const float* vs = v + int64_t(row) * kv_row;
    for (int64_t c = threadIdx.x; c < kv_row; c += blockDim.x) {
        kd[c] = from_f32<KV>(ks[c]);
        vd[c] = from_f32<KV>(vs[c]);
    }
}

// Online-softmax state of one query row in one warp; lane holds elements lane + 32 * j of the head.
struct SoftmaxState {
    float m = -INFINITY;
    float l = 0.0f;
    float acc[kElemsPerLane];

    __device__ void reset() {
        m = -INFINITY;
        l = 0.0f;
#pragma unroll
        for (int j = 0; j < kElemsPerLane; ++j) acc[j] = 0.0f;
    }
    template <typename V>
    __device__ void add(float score, const V* value, int lane, int32_t head_dim) {
        const float new_m = fmaxf(m, score);
        const float rescale = expf(m - new_m);  // expf(-inf) == 0 on the first key
        const float p = expf(score - new_m);
        l = l * rescale + p;
#pragma unroll
        for (int j = 0; j < kElemsPerLane; ++j) {
            const int d = lane + 32 * j;
            if (d < head_dim) acc[j] = acc[j] * rescale + p * to_f32(value[d]);
        }
        m = new_m;
    }
};

// Grid (decode rows, heads, splits); each block covers keys [split * kDecodeSplitKeys, +kDecodeSplitKeys) of one row
// and head, its warps taking every fourth key, and writes (max, sum, acc[head_dim]) to `partials`.
template <typename KV>
__global__ void __launch_bounds__(kAttentionWarps * 32)
decode_attention_kernel(PlanView plan, const int32_t* decode_rows, const KV* k_cache, const KV* v_cache,
                        int32_t n_kv_heads, int32_t head_dim, int32_t block_size, const float* q, int32_t n_heads,
                        float scale, float* partials) {
    __shared__ float shared_m[kAttentionWarps], shared_l[kAttentionWarps];
    __shared__ float shared_acc[kAttentionWarps][kMaxAttentionHeadDim];
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    const int32_t row = decode_rows[blockIdx.x];
    const int32_t head = blockIdx.y, split = blockIdx.z, n_splits = gridDim.z;
    const int32_t s = plan.seq_of(row);
    const int32_t* table = plan.table_of(s);
    const int64_t n_keys = plan.position_of(row, s) + 1;
    const int64_t key_begin = int64_t(split) * kDecodeSplitKeys;
    const int64_t key_end = min(n_keys, key_begin + kDecodeSplitKeys);
    const int32_t kv_head = head / (n_heads / n_kv_heads);
    const int64_t kv_row = int64_t(n_kv_heads) * head_dim;

    float qv[kElemsPerLane];
    const float* qh = q + (int64_t(row) * n_heads + head) * head_dim;
#pragma unroll
    for (int j = 0; j < kElemsPerLane; ++j) {
        const int d = lane + 32 * j;
        qv[j] = d < head_dim ? qh[d] * scale : 0.0f;
    }
    SoftmaxState st;
    st.reset();
    for (int64_t key = key_begin + warp; key < key_end; key += kAttentionWarps) {
        const int64_t offset = slot_of(table, block_size, key) * kv_row + int64_t(kv_head) * head_dim;
        float dot = 0.0f;
#pragma unroll
        for (int j = 0; j < kElemsPerLane; ++j) {
            const int d = lane + 32 * j;
            if (d < head_dim) dot = fmaf(qv[j], to_f32(k_cache[offset + d]), dot);
        }
        st.add(warp_sum(dot), v_cache + offset, lane, head_dim);
    }
    if (lane == 0) {
        shared_m[warp] = st.m;
        shared_l[warp] = st.l;
    }
#pragma unroll
    for (int j = 0; j < kElemsPerLane; ++j) {
        const int d = lane + 32 * j;
        if (d < head_dim) shared_acc[warp][d] = st.acc[j];
    }
    __syncthreads();
    float m = -INFINITY;
    for (int w = 0; w < kAttentionWarps; ++w) m = fmaxf(m, shared_m[w]);
    float* part = partials + ((int64_t(blockIdx.x) * n_heads + head) * n_splits + split) * (head_dim + 2);
    for (int d = threadIdx.x; d < head_dim; d += blockDim.x) {
        float a = 0.0f;
        if (m != -INFINITY)
            for (int w = 0; w < kAttentionWarps; ++w)
                if (shared_m[w] != -INFINITY) a += shared_acc[w][d] * expf(shared_m[w] - m);
        part[2 + d] = a;
    }
    if (threadIdx.x == 0) {
        float l = 0.0f;
        if (m != -INFINITY)
            for (int w = 0; w < kAttentionWarps; ++w)
                if (shared_m[w] != -INFINITY) l += shared_l[w] * expf(shared_m[w] - m);
        part[0] = m;
        part[1] = l;
    }
}

// Grid (decode rows, heads): merges the splits' partials into the output row.
__global__ void decode_combine_kernel(const int32_t* decode_rows, const float* partials, int32_t n_splits,
                                      int32_t n_heads, int32_t head_dim, float* out) {
    const int32_t row = decode_rows[blockIdx.x];
    const int32_t head = blockIdx.y;
    const float* base = partials + (int64_t(blockIdx.x) * n_heads + head) * n_splits * (head_dim + 2);
    float m = -INFINITY;
    for (int32_t sp = 0; sp < n_splits; ++sp) m = fmaxf(m, base[sp * (head_dim + 2)]);
    float l = 0.0f;
    for (int32_t sp = 0; sp < n_splits; ++sp) {
        const float ms = base[sp * (head_dim + 2)];
        if (ms != -INFINITY) l += base[sp * (head_dim + 2) + 1] * expf(ms - m);
    }
    float* dst = out + (int64_t(row) * n_heads + head) * head_dim;
    for (int d = threadIdx.x; d < head_dim; d += blockDim.x) {
        float a = 0.0f;
        for (int32_t sp = 0; sp < n_splits; ++sp) {
            const float ms = base[sp * (head_dim + 2)];
            if (ms != -INFINITY) a += base[sp * (head_dim + 2) + 2 + d] * expf(ms - m);
        }
        dst[d] = a / l;
    }
}

// Grid (tiles, heads): a tile is up to kPrefillTileRows consecutive rows of one sequence; warp w owns rows
// w * kQueriesPerWarp ... of it. K/V tiles of `key_tile` keys are loaded into shared memory as F32 once for all
// of the tile's queries.
template <typename KV>
__global__ void __launch_bounds__(kAttentionWarps * 32)
prefill_attention_kernel(PlanView plan, const int32_t* tiles, const KV* k_cache, const KV* v_cache, int32_t n_kv_heads,
                         int32_t head_dim, int32_t block_size, const float* q, int32_t n_heads, float scale,
                         int32_t key_tile, float* out) {
    extern __shared__ float shared[];
    float* sk = shared;
    float* sv = shared + int64_t(key_tile) * head_dim;
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    const int32_t s = tiles[3 * blockIdx.x], first = tiles[3 * blockIdx.x + 1], count = tiles[3 * blockIdx.x + 2];
    const int32_t head = blockIdx.y;
    const int32_t* table = plan.table_of(s);
    const int32_t kv_head = head / (n_heads / n_kv_heads);
    const int64_t kv_row = int64_t(n_kv_heads) * head_dim;

    float qv[kQueriesPerWarp][kElemsPerLane];
    int64_t qpos[kQueriesPerWarp];
    SoftmaxState st[kQueriesPerWarp];
#pragma unroll
    for (int i = 0; i < kQueriesPerWarp; ++i) {
        const int32_t local = warp * kQueriesPerWarp + i;
        const int32_t row = first + min(local, count - 1);
        qpos[i] = local < count ? plan.position_of(row, s) : -1;  // -1: no query, attends nothing
        const float* qh = q + (int64_t(row) * n_heads + head) * head_dim;
#pragma unroll
        for (int j = 0; j < kElemsPerLane; ++j) {
            const int d = lane + 32 * j;
            qv[i][j] = d < head_dim ? qh[d] * scale : 0.0f;
        }
        st[i].reset();
    }
    const int64_t last_position = plan.position_of(first + count - 1, s);
    for (int64_t k0 = 0; k0 <= last_position; k0 += key_tile) {
        const int32_t n_keys = int32_t(min(int64_t(key_tile), last_position + 1 - k0));
        __syncthreads();  // the previous tile is no longer read
        for (int32_t idx = threadIdx.x; idx < n_keys * head_dim; idx += blockDim.x) {
            const int32_t key = idx / head_dim, d = idx % head_dim;
            const int64_t offset = slot_of(table, block_size, k0 + key) * kv_row + int64_t(kv_head) * head_dim + d;
            sk[idx] = to_f32(k_cache[offset]);
            sv[idx] = to_f32(v_cache[offset]);
        }
        __syncthreads();
        for (int32_t key = 0; key < n_keys; ++key) {
            const float* kr = sk + int64_t(key) * head_dim;
            const float* vr = sv + int64_t(key) * head_dim;
#pragma unroll
            for (int i = 0; i < kQueriesPerWarp; ++i) {
                if (k0 + key > qpos[i]) continue;  // causal mask; uniform across the warp
                float dot = 0.0f;
#pragma unroll
                for (int j = 0; j < kElemsPerLane; ++j) {
                    const int d = lane + 32 * j;
                    if (d < head_dim) dot = fmaf(qv[i][j], kr[d], dot);
                }
                st[i].add(warp_sum(dot), vr, lane, head_dim);
            }
        }
    }
#pragma unroll
    for (int i = 0; i < kQueriesPerWarp; ++i) {
        const int32_t local = warp * kQueriesPerWarp + i;
        if (local >= count) continue;
        float* dst = out + (int64_t(first + local) * n_heads + head) * head_dim;
        const float inv_l = 1.0f / st[i].l;
#pragma unroll
        for (int j = 0; j < kElemsPerLane; ++j) {
            const int d = lane + 32 * j;
            if (d < head_dim) dst[d] = st[i].acc[j] * inv_l;
        }
    }
}

int32_t decode_splits(const DeviceBatchPlan& plan) {
    return std::max(1, (plan.max_decode_context + kDecodeSplitKeys - 1) / kDecodeSplitKeys);
}

template <typename KV>
void launch_attention_typed(cudaStream_t stream, const KvLayer& kv, const DeviceBatchPlan& plan, const float* q,
                            int32_t n_heads, float scale, float* out, float* scratch) {
    const PlanView view = view_of(plan);
    const KV* k_cache = static_cast<const KV*>(kv.k);
    const KV* v_cache = static_cast<const KV*>(kv.v);
    if (plan.n_decode_rows > 0) {
        const int32_t n_splits = decode_splits(plan);
        const dim3 grid(unsigned(plan.n_decode_rows), unsigned(n_heads), unsigned(n_splits));
        decode_attention_kernel<KV><<<grid, kAttentionWarps * 32, 0, stream>>>(
            view, plan.data + plan.decode_rows, k_cache, v_cache, kv.n_kv_heads, kv.head_dim, kv.block_size, q, n_heads,
            scale, scratch);
        check_launch("decode attention");
        decode_combine_kernel<<<dim3(unsigned(plan.n_decode_rows), unsigned(n_heads)),
                                unsigned(std::max(32, std::min(kv.head_dim, 256))), 0, stream>>>(
            plan.data + plan.decode_rows, scratch, n_splits, n_heads, kv.head_dim, out);
        check_launch("decode attention (combine)");
    }
    if (plan.n_prefill_tiles > 0) {
        const int32_t key_tile = kv.head_dim <= 128 ? 32 : 16;
        const size_t shared_bytes = size_t(2) * key_tile * kv.head_dim * sizeof(float);
        prefill_attention_kernel<KV><<<dim3(unsigned(plan.n_prefill_tiles), unsigned(n_heads)), kAttentionWarps * 32,
                                       shared_bytes, stream>>>(view, plan.data + plan.prefill_tiles, k_cache, v_cache,
                                                               kv.n_kv_heads, kv.head_dim, kv.block_size, q, n_heads,
                                                               scale, key_tile, out);
        check_launch("prefill attention");
    }
}

}  // namespace

void launch_kv_write(cudaStream_t stream, const KvLayer& kv, const DeviceBatchPlan& plan, const float* k,
                     const float* v) {
    if (plan.n_tokens == 0) return;
    const int64_t kv_row = int64_t(kv.n_kv_heads) * kv.head_dim;
    const unsigned threads = unsigned(std::min<int64_t>(std::max<int64_t>(kv_row, 32), 256));
    if (kv.dtype == LLMATC_DTYPE_F16)
        kv_write_kernel<<<unsigned(plan.n_tokens), threads, 0, stream>>>(view_of(plan), static_cast<__half*>(kv.k),
                                                                          static_cast<__half*>(kv.v), kv_row,
                                                                          kv.block_size, k, v);
    else
        kv_write_kernel<<<unsigned(plan.n_tokens), threads, 0, stream>>>(view_of(plan), static_cast<float*>(kv.k),
                                                                          static_cast<float*>(kv.v), kv_row,
                                                                          kv.block_size, k, v);
    check_launch("kv_write");
}

size_t decode_attention_scratch_floats(const DeviceBatchPlan& plan, int32_t n_heads, int32_t head_dim) {
    return size_t(plan.n_decode_rows) * size_t(n_heads) * size_t(decode_splits(plan)) * size_t(head_dim + 2);
}

void launch_attention(cudaStream_t stream, const KvLayer& kv, const DeviceBatchPlan& plan, const float* q,
                      int32_t n_heads, float scale, float* out, float* scratch) {
    if (plan.n_tokens == 0) return;
    if (kv.head_dim > kMaxAttentionHeadDim)
        fail(LLMATC_ERR_UNSUPPORTED, "attention: head_dim " + std::to_string(kv.head_dim) + " is above the " +
                                         std::to_string(kMaxAttentionHeadDim) + " the CUDA kernels handle");
    if (n_heads > 65535) fail(LLMATC_ERR_INVALID_ARGUMENT, "attention: more than 65535 heads");
    if (kv.dtype == LLMATC_DTYPE_F16)
        launch_attention_typed<__half>(stream, kv, plan, q, n_heads, scale, out, scratch);
    else
        launch_attention_typed<float>(stream, kv, plan, q, n_heads, scale, out, scratch);
}

}  // namespace llmatc::cuda
