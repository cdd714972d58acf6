// core/kernels/cpu/stream_prefetch.h — software prefetch for kernels that stream a weight from memory once.
//
// Why: a GEMV reads every weight byte once, so its speed is the memory read rate, and on some machines the hardware
// prefetcher alone does not keep enough reads in flight (seen on a virtualised Xeon: packed Q4_0 GEMV at ~15 GB/s,
// ~21 GB/s with this prefetch, 2 threads). Kernels call prefetch_stream on the bytes they are about to read: the
// lines kStreamPrefetchDistance bytes further along the same stream are requested now. Prefetches are hints and
// never fault, so reading past the end of a weight is harmless.
//
// Callers must have it inlined (prefetch_stream is always_inline; so must be any lambda that calls it): GCC takes
// __builtin_prefetch for free of side effects, marks a function whose only work is prefetching as const, and deletes
// every call to it. That happened to the F16 / BF16 GEMV (float_packed_matmul_impl.h): its prefetch lambda was
// compiled away at -O1 and above, and its F16 GEMV read ~19.5 GB/s instead of ~24.5 (kernels-bench, 2 threads, a
// virtualised Xeon). tests/core/kernels/check_prefetch_emitted.py checks the kernels' objects hold the prefetches.
#pragma once

#include <cstdint>

namespace llmatc::cpu {

constexpr int64_t kStreamPrefetchDistance = 4096;  // bytes ahead; 2-8 KiB measured alike

// Requests the cache lines of [p + distance, p + distance + bytes) into L1.
[[gnu::always_inline]] inline void prefetch_stream(const void* p, int64_t bytes) {
    const char* ahead = static_cast<const char*>(p) + kStreamPrefetchDistance;
    for (int64_t line = 0; line < bytes; line += 64) __builtin_prefetch(ahead + line, 0, 3);
}

}  // namespace llmatc::cpu
