// core/kernels/cpu/cpu_context.h — the CPU backend's state behind the C table's ctx pointer: its threads, the
// chosen instruction-set kernels and grow-only scratch memory (so steady-state calls allocate nothing).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "kernels/cpu/isa_kernels.h"
#include "kernels/cpu/thread_pool.h"

namespace llmatc::cpu {

// A 64-byte-aligned buffer that only grows; its contents are not kept when it grows.
class ScratchBuffer {
public:
    // Returns at least `bytes` bytes; throws llmatc::Error (out of memory) when it cannot grow.
    void* reserve(size_t bytes);

private:
    std::unique_ptr<uint8_t[], void (*)(void*)> data_{nullptr, nullptr};
    size_t capacity_ = 0;
};

// Choices that trade exactness for speed.
struct CpuBackendOptions {
    // Matmuls with BF16 weights round the activations to BF16 and use BF16 dot instructions (vdpbf16ps where the
    // CPU has AVX512-BF16), as transformers' BF16 arithmetic and llama.cpp do; decode too, so that a token's
    // result is the same in a batch of any size. create_cpu_backend turns it on unless
    // LLMATC_BF16_ACTIVATIONS=0; off, results are the exact F32 upcast of the BF16 weights.
    bool bf16_activations = false;
    // With bf16_activations, BF16 matmuls run on AMX tiles where the CPU and OS allow it (every n, so batching
    // changes nothing; results differ from the vdpbf16ps kernels' in F32 rounding only). create_cpu_backend turns
    // it on unless LLMATC_AMX=0. It also lets packed Q8_0 / Q4_0 / Q4_K / Q5_K matmuls of 32 rows or more run on
    // AMX-INT8 tiles (isa_amx_int8.h: the VNNI kernels' bits).
    bool amx = false;
};

struct CpuContext {
    CpuContext(int n_threads, Isa isa, const CpuBackendOptions& opts)
        : pool(n_threads), kernels(&isa_kernels(isa)), options(opts) {}

    ThreadPool pool;
    const IsaKernels* kernels;
    CpuBackendOptions options;
    ScratchBuffer activations_q8;  // matmul inputs quantized to Q8_0 for block-quantized weights
    ScratchBuffer activations_bf16;  // matmul inputs rounded to BF16, or tiled for the packed F16 / BF16 GEMM
    ScratchBuffer thread_scratch;  // attention accumulators, pool.size() slices
    ScratchBuffer row_to_seq;      // attention: batch row -> sequence index
};

}  // namespace llmatc::cpu
