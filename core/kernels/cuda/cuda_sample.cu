// core/kernels/cuda/cuda_sample.cu — token choice per logits row on the GPU: keys sorted per row (CUB segmented
// radix sort of value-and-id keys), then one block per row for top-k/top-p/min-p and the inverse-CDF draw.
#include <cub/cub.cuh>

#include <cmath>
#include <cstdint>
#include <string>

#include "cuda/cuda_error.h"
#include "cuda/cuda_sample.h"

namespace llmatc::cuda {

namespace {

constexpr int kBlock = 256;

// A float's bits mapped so that unsigned order is float order (-0 folded into +0, as the host compares them).
__device__ inline uint32_t ordered_bits(float x) {
    if (x == 0.0f) x = 0.0f;
    const uint32_t b = __float_as_uint(x);
    return (b & 0x80000000u) ? ~b : (b ^ 0x80000000u);
}
__device__ inline float value_of_key(uint64_t key) {
    const uint32_t u = static_cast<uint32_t>(key >> 32);
    return __uint_as_float((u & 0x80000000u) ? (u ^ 0x80000000u) : ~u);
}
// Low half: ~id, so a descending sort puts the lowest id first among equal values (the host's tie rule) without
// relying on the sort's stability.
__device__ inline int32_t id_of_key(uint64_t key) { return static_cast<int32_t>(~static_cast<uint32_t>(key)); }

// keys[r, i] = (ordered(logit / temperature), ~i) for the rows of this chunk.
__global__ void make_keys_kernel(const float* logits, const SampleRowParams* params, int64_t first_row,
                                 int32_t vocab, uint64_t* keys) {
    const int64_t r = blockIdx.y;
    const float temperature = params[first_row + r].temperature;
    const float* x = logits + (first_row + r) * int64_t(vocab);
    for (int32_t i = blockIdx.x * blockDim.x + threadIdx.x; i < vocab; i += gridDim.x * blockDim.x) {
        // Greedy rows are not read from the sorted keys; any finite divisor keeps their keys well-formed.
        const float v = temperature > 0.0f ? x[i] / temperature : x[i];
        keys[r * int64_t(vocab) + i] =
            (static_cast<uint64_t>(ordered_bits(v)) << 32) | static_cast<uint32_t>(~static_cast<uint32_t>(i));
    }
}

__global__ void segment_offsets_kernel(int64_t n_rows, int32_t vocab, int32_t* offsets) {
    const int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
    if (i <= n_rows) offsets[i] = static_cast<int32_t>(i * vocab);
}

struct ArgMax {
    float value;
    int32_t id;
};
__device__ inline ArgMax better(ArgMax a, ArgMax b) {
    return (b.value > a.value || (b.value == a.value && b.id < a.id)) ? b : a;
}

using DoubleReduce = cub::BlockReduce<double, kBlock>;
using DoubleScan = cub::BlockScan<double, kBlock>;
using IntReduce = cub::BlockReduce<int32_t, kBlock>;

struct ChooseShared {
    union {
        DoubleReduce::TempStorage reduce;
        DoubleScan::TempStorage scan;
        IntReduce::TempStorage int_reduce;
    } cub;
    ArgMax argmax[kBlock];
    double broadcast_double;
    int32_t broadcast_int;
};

__device__ double block_sum(ChooseShared& sh, double v) {
    const double total = DoubleReduce(sh.cub.reduce).Sum(v);
    if (threadIdx.x == 0) sh.broadcast_double = total;
    __syncthreads();
    const double out = sh.broadcast_double;
    __syncthreads();
    return out;
}

// (cub::Min is gone from CUDA 13's CUB; this works with every version.)
struct MinOf {
    __device__ int32_t operator()(int32_t a, int32_t b) const { return a < b ? a : b; }
};

__device__ int32_t block_min(ChooseShared& sh, int32_t v) {
    const int32_t m = IntReduce(sh.cub.int_reduce).Reduce(v, MinOf());
    if (threadIdx.x == 0) sh.broadcast_int = m;
    __syncthreads();
    const int32_t out = sh.broadcast_int;
    __syncthreads();
    return out;
}

// The first index i < n whose running sum of prob(0..i) satisfies reached(sum), or -1.
template <class Prob, class Reached>
__device__ int32_t first_reaching(ChooseShared& sh, int32_t n, Prob prob, Reached reached) {
    double running = 0.0;
    for (int32_t base = 0; base < n; base += kBlock) {
        const int32_t i = base + int32_t(threadIdx.x);
        const double v = i < n ? prob(i) : 0.0;
        double inclusive, chunk_total;
        DoubleScan(sh.cub.scan).InclusiveSum(v, inclusive, chunk_total);
        __syncthreads();
        const int32_t hit = block_min(sh, (i < n && reached(running + inclusive)) ? i : INT32_MAX);
        if (hit != INT32_MAX) return hit;
        running += chunk_total;
    }
    return -1;
}

// One block per row: greedy argmax or the filtered draw, and the chosen token's log_softmax.
__global__ void choose_kernel(const float* logits, int32_t vocab, const SampleRowParams* params,
                              const uint64_t* sorted_keys, int64_t first_row, int32_t* tokens, float* logprobs) {
    __shared__ ChooseShared sh;
    const int64_t row = first_row + blockIdx.x;
    const float* x = logits + row * int64_t(vocab);
    const SampleRowParams p = params[row];

    ArgMax best{-INFINITY, INT32_MAX};
    for (int32_t i = threadIdx.x; i < vocab; i += kBlock) best = better(best, ArgMax{x[i], i});
    sh.argmax[threadIdx.x] = best;
    __syncthreads();
    for (int stride = kBlock / 2; stride > 0; stride /= 2) {
        if (int(threadIdx.x) < stride)
            sh.argmax[threadIdx.x] = better(sh.argmax[threadIdx.x], sh.argmax[threadIdx.x + stride]);
        __syncthreads();
    }
    // All -inf (or NaN) rows: id 0, as the host's argmax.
    const int32_t argmax = sh.argmax[0].id == INT32_MAX ? 0 : sh.argmax[0].id;
    const float max = sh.argmax[0].value;
    __syncthreads();

    double local = 0.0;
    for (int32_t i = threadIdx.x; i < vocab; i += kBlock) local += exp(double(x[i]) - double(max));
    const double sum_exp = block_sum(sh, local);

    int32_t token = argmax;
    if (p.temperature > 0.0f) {
        const uint64_t* keys = sorted_keys + int64_t(blockIdx.x) * vocab;
        const double top = double(value_of_key(keys[0]));
        auto prob = [&](int32_t i) { return exp(double(value_of_key(keys[i])) - top); };
        int32_t n_keep = (p.top_k > 0 && p.top_k < vocab) ? p.top_k : vocab;
        if (p.top_p < 1.0f) {
            double part = 0.0;
            for (int32_t i = threadIdx.x; i < n_keep; i += kBlock) part += prob(i);
            const double total = block_sum(sh, part);
            const double top_p = p.top_p;
            const int32_t hit = first_reaching(sh, n_keep, prob, [&](double c) { return c / total >= top_p; });
            if (hit >= 0) n_keep = hit + 1;
        }
        if (p.min_p > 0.0f) {
            // prob(0) == 1: the floor is min_p itself; probabilities fall along the sorted keys.
            const double floor = p.min_p;
            int32_t first_below = INT32_MAX;
            for (int32_t i = 1 + threadIdx.x; i < n_keep; i += kBlock)
                if (prob(i) < floor) first_below = min(first_below, i);
            first_below = block_min(sh, first_below);
            if (first_below != INT32_MAX) n_keep = first_below;
        }
        double part = 0.0;
        for (int32_t i = threadIdx.x; i < n_keep; i += kBlock) part += prob(i);
        const double target = p.u * block_sum(sh, part);
        int32_t chosen = first_reaching(sh, n_keep, prob, [&](double c) { return target < c; });
        if (chosen < 0) chosen = n_keep - 1;
        token = value_of_key(keys[chosen]) == -INFINITY ? argmax : id_of_key(keys[chosen]);
    }
    if (threadIdx.x == 0) {
        tokens[row] = token;
        logprobs[row] = static_cast<float>(double(x[token]) - (log(sum_exp) + double(max)));
    }
}

size_t align_up(size_t n) { return (n + 255) / 256 * 256; }

size_t sort_temp_bytes(int64_t rows, int32_t vocab) {
    size_t bytes = 0;
    check_cuda(cub::DeviceSegmentedRadixSort::SortKeysDescending(
                   nullptr, bytes, static_cast<const uint64_t*>(nullptr), static_cast<uint64_t*>(nullptr),
                   int(rows * vocab), int(rows), static_cast<const int32_t*>(nullptr),
                   static_cast<const int32_t*>(nullptr) + 1, 0, 64),
               "cub::DeviceSegmentedRadixSort (size query)");
    return bytes;
}

}  // namespace

size_t sample_scratch_bytes(int64_t n_rows, int32_t vocab, bool any_sampled) {
    if (!any_sampled || n_rows == 0) return 0;
    const int64_t rows = n_rows < kSampleRowsPerSort ? n_rows : kSampleRowsPerSort;
    const size_t keys = align_up(size_t(rows) * size_t(vocab) * sizeof(uint64_t));
    return 2 * keys + align_up(size_t(rows + 1) * sizeof(int32_t)) + align_up(sort_temp_bytes(rows, vocab));
}

void launch_sample(cudaStream_t stream, const float* logits, int64_t n_rows, int32_t vocab,
                   const SampleRowParams* params, bool any_sampled, void* scratch, size_t scratch_bytes,
                   int32_t* tokens, float* logprobs) {
    if (n_rows == 0) return;
    if (int64_t(vocab) * kSampleRowsPerSort > INT32_MAX)
        fail(LLMATC_ERR_INVALID_ARGUMENT, "sample: vocab " + std::to_string(vocab) + " is too large");
    if (!any_sampled) {
        choose_kernel<<<unsigned(n_rows), kBlock, 0, stream>>>(logits, vocab, params, nullptr, 0, tokens, logprobs);
        check_launch("sample (greedy)");
        return;
    }
    if (scratch_bytes < sample_scratch_bytes(n_rows, vocab, true))
        fail(LLMATC_ERR_INTERNAL, "sample: scratch of " + std::to_string(scratch_bytes) + " bytes is too small");
    const int64_t rows_per_sort = n_rows < kSampleRowsPerSort ? n_rows : kSampleRowsPerSort;
    char* base = static_cast<char*>(scratch);
    const size_t keys_bytes = align_up(size_t(rows_per_sort) * size_t(vocab) * sizeof(uint64_t));
    auto* keys_in = reinterpret_cast<uint64_t*>(base);
    auto* keys_out = reinterpret_cast<uint64_t*>(base + keys_bytes);
    auto* offsets = reinterpret_cast<int32_t*>(base + 2 * keys_bytes);
    void* temp = base + 2 * keys_bytes + align_up(size_t(rows_per_sort + 1) * sizeof(int32_t));
    for (int64_t first = 0; first < n_rows; first += rows_per_sort) {
        const int64_t rows = n_rows - first < rows_per_sort ? n_rows - first : rows_per_sort;
        const unsigned key_blocks = unsigned((vocab + kBlock - 1) / kBlock < 1024 ? (vocab + kBlock - 1) / kBlock : 1024);
        make_keys_kernel<<<dim3(key_blocks, unsigned(rows)), kBlock, 0, stream>>>(logits, params, first, vocab,
                                                                                  keys_in);
        check_launch("sample (keys)");
        segment_offsets_kernel<<<unsigned((rows + kBlock) / kBlock), kBlock, 0, stream>>>(rows, vocab, offsets);
        check_launch("sample (offsets)");
        size_t temp_bytes = sort_temp_bytes(rows, vocab);
        check_cuda(cub::DeviceSegmentedRadixSort::SortKeysDescending(temp, temp_bytes, keys_in, keys_out,
                                                                     int(rows * vocab), int(rows), offsets,
                                                                     offsets + 1, 0, 64, stream),
                   "cub::DeviceSegmentedRadixSort");
        choose_kernel<<<unsigned(rows), kBlock, 0, stream>>>(logits, vocab, params, keys_out, first, tokens, logprobs);
        check_launch("sample (choose)");
    }
}

}  // namespace llmatc::cuda
