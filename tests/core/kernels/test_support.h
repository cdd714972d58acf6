// tests/core/kernels/test_support.h — shared helpers for the CPU kernel tests: random data, storage conversion,
// backends at every ISA level and thread count, poisoned buffers and tolerance checks.
#pragma once

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "kernels/backend.h"
#include "kernels/cpu/cpu_backend.h"
#include "kernels/cpu/isa_amx_int8.h"
#include "llmatc/kernels.h"
#include "util/error.h"

namespace llmatc::test {

inline std::vector<float> random_vector(std::mt19937& rng, size_t n, float lo = -1.0f, float hi = 1.0f) {
    std::uniform_real_distribution<float> dist(lo, hi);
    std::vector<float> v(n);
    for (auto& x : v) x = dist(rng);
    return v;
}

inline std::vector<float> poisoned(size_t n) { return std::vector<float>(n, std::numeric_limits<float>::quiet_NaN()); }

// Every ISA level this CPU can run (scalar first).
std::vector<cpu::Isa> available_isas();

// A backend plus shorthand for its table; fails the test with the backend's message on a non-OK status.
struct TestBackend {
    TestBackend(int n_threads, cpu::Isa isa);
    std::unique_ptr<KernelBackend> owner;
    const llmatc_kernels* k;
    void* ctx;
    std::string label;  // "avx512 x3 threads", for failure messages
};

#define LLMATC_REQUIRE_OK(expr)                                                                \
    do {                                                                                       \
        const llmatc_status status_ = (expr);                                                  \
        INFO("status " << int(status_) << ": " << ::llmatc::thread_error());                   \
        REQUIRE(status_ == LLMATC_OK);                                                         \
    } while (0)

// A tensor in a checkpoint dtype (F32, F16, BF16) encoded from F32 values, and the F32 values it decodes to.
struct EncodedTensor {
    llmatc_dtype dtype;
    std::vector<uint8_t> bytes;
    std::vector<float> decoded;
};
EncodedTensor encode(const std::vector<float>& values, llmatc_dtype dtype);

llmatc_tensor_view make_view(const EncodedTensor& t, std::vector<int64_t> shape);

// The F32 values of every row of a weight (dequantized for block types), via the backend's own decoder.
std::vector<float> weight_values(const llmatc_weight* w);

// y = x W^T for the n rows of x, with the weight made from `view` as `storage` on table k (and destroyed after).
std::vector<float> matmul_with_weight(const llmatc_kernels* k, const llmatc_tensor_view& view, llmatc_dtype storage,
                                      const std::vector<float>& x, int64_t n);

// Backends of the avx512 level with and without AMX tiles (CpuBackendOptions::amx), for comparing their bits.
struct AmxPair {
    explicit AmxPair(int n_threads);
    std::unique_ptr<KernelBackend> vnni, amx;
};

// Requires |actual[i] - expected[i]| <= atol + rtol * scale[i] (scale empty: |expected[i]|) and no NaN.
void require_close(const std::vector<float>& actual, const std::vector<float>& expected, double atol, double rtol,
                   const std::vector<float>& scale = {});

}  // namespace llmatc::test
