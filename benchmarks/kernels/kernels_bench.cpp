// benchmarks/kernels/kernels_bench.cpp — micro-benchmark of the CPU kernels: GEMV bandwidth per weight dtype and
// GEMM throughput, next to this machine's measured memory read bandwidth (interleaved rounds, medians), and the
// sample op's time per logits row, as JSON.
//
// Usage: llmatc-kernels-bench [--threads N] [--rounds R] [--isa scalar|avx2|avx2-vnni|avx512-novnni|avx512]
//                             [--dtypes F16,Q4_0,...]
//                             [--stream-mib M] [--in-cache] [--bandwidth-only]
// --bandwidth-only measures just the memory read bandwidth (for benchmarks/llamacpp, between its rounds).
// --stream-mib sets how many MiB of copies of each weight one GEMV pass streams (default 256; make it larger than
// the last-level cache). --in-cache runs GEMV over one copy of each weight again and again, so it is read from the caches: the kernel's
// compute ceiling (a kernel whose in-cache figure is near its DRAM figure is compute-bound, not memory-bound).
// Not run by the tests: timings on a shared machine are noise for CI, and the run takes about a minute.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <list>
#include <random>
#include <string>
#include <vector>

#include "kernels/cpu/cpu_backend.h"
#include "kernels/cpu/cpu_weight.h"
#include "kernels/cpu/quant_q4_k.h"
#include "kernels/cpu/quant_q5_k.h"
#include "kernels/cpu/quant_q6_k.h"
#include "kernels/cpu/stream_prefetch.h"
#include "kernels/cpu/thread_pool.h"

#if defined(__x86_64__)
#include <immintrin.h>
#if defined(__GNUC__) && !defined(__clang__)
// GCC 12's own AVX-512 headers trip these when inlined here (_mm512_undefined_* is uninitialised by design).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#endif

using namespace llmatc;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

// A K-quant weight as a GGUF file holds it, for `values` (rows x cols, cols a multiple of 256): Q4_K from our
// quantizer; Q5_K and Q6_K (which we only read) as random levels and sub-block scales under a fixed block scale,
// which the kernels read at the same speed as real ones.
std::vector<uint8_t> gguf_blocks(llmatc_dtype dtype, const std::vector<float>& values, std::mt19937& rng) {
    const size_t n_blocks = values.size() / size_t(cpu::kQ4KBlock);
    std::uniform_int_distribution<int> byte(0, 255);
    std::vector<uint8_t> out;
    if (dtype == LLMATC_DTYPE_Q4_K) {
        out.resize(n_blocks * sizeof(cpu::BlockQ4_K));
        auto* blocks = reinterpret_cast<cpu::BlockQ4_K*>(out.data());
        for (size_t i = 0; i < n_blocks; ++i)
            cpu::quantize_block_q4_k(values.data() + i * size_t(cpu::kQ4KBlock), &blocks[i]);
        return out;
    }
    const size_t block_bytes = dtype == LLMATC_DTYPE_Q5_K ? sizeof(cpu::BlockQ5_K) : sizeof(cpu::BlockQ6_K);
    out.resize(n_blocks * block_bytes);
    for (auto& b : out) b = uint8_t(byte(rng));
    constexpr uint16_t kHalfScale = 0x1400;  // 2^-10 as an IEEE half
    for (size_t i = 0; i < n_blocks; ++i) {
        if (dtype == LLMATC_DTYPE_Q5_K) {
            auto& block = reinterpret_cast<cpu::BlockQ5_K*>(out.data())[i];
            block.d = block.dmin = kHalfScale;
        } else {
            reinterpret_cast<cpu::BlockQ6_K*>(out.data())[i].d = kHalfScale;
        }
    }
    return out;
}

bool is_gguf_only(llmatc_dtype dtype) {
    return dtype == LLMATC_DTYPE_Q4_K || dtype == LLMATC_DTYPE_Q5_K || dtype == LLMATC_DTYPE_Q6_K;
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const size_t n = v.size();
    return n == 0 ? 0.0 : (n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]));
}

// One thread's streaming read of [begin, end) (uint64 indices, a multiple of 16 apart), with the kernels' software
// prefetch (without it some machines' hardware prefetchers alone read slower than the kernels do). The loads are as
// wide as the CPU allows: with 8-byte loads a core issues too many to keep up with memory (a Xeon VM: ~16 GB/s
// against ~26 GB/s with 64-byte loads, 2 threads), and the bound would understate what the memory gives.
#if defined(__x86_64__)
__attribute__((target("avx512f"))) uint64_t read_avx512(const uint64_t* p, int64_t begin, int64_t end) {
    __m512i a = _mm512_setzero_si512(), b = a;
    for (int64_t i = begin; i + 16 <= end; i += 16) {
        cpu::prefetch_stream(p + i, 128);
        a = _mm512_add_epi64(a, _mm512_loadu_si512(p + i));
        b = _mm512_add_epi64(b, _mm512_loadu_si512(p + i + 8));
    }
    return uint64_t(_mm512_reduce_add_epi64(_mm512_add_epi64(a, b)));
}

__attribute__((target("avx2"))) uint64_t read_avx2(const uint64_t* p, int64_t begin, int64_t end) {
    __m256i a = _mm256_setzero_si256(), b = a;
    for (int64_t i = begin; i + 16 <= end; i += 16) {
        cpu::prefetch_stream(p + i, 128);
        for (int j = 0; j < 16; j += 8) {
            a = _mm256_add_epi64(a, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i + j)));
            b = _mm256_add_epi64(b, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i + j + 4)));
        }
    }
    const __m256i s = _mm256_add_epi64(a, b);
    return uint64_t(_mm256_extract_epi64(s, 0) + _mm256_extract_epi64(s, 1) + _mm256_extract_epi64(s, 2) +
                    _mm256_extract_epi64(s, 3));
}
#endif

uint64_t read_scalar(const uint64_t* p, int64_t begin, int64_t end) {
    uint64_t acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    for (int64_t i = begin; i + 8 <= end; i += 8) {
        cpu::prefetch_stream(p + i, 64);
        for (int j = 0; j < 8; ++j) acc[j] += p[i + j];
    }
    uint64_t sum = 0;
    for (uint64_t v : acc) sum += v;
    return sum;
}

// Streaming read of a buffer far larger than the last-level cache, split over the pool's threads; GB/s.
double measure_read_bandwidth(cpu::ThreadPool& pool, const std::vector<uint64_t>& buffer) {
    uint64_t (*read)(const uint64_t*, int64_t, int64_t) = read_scalar;
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) read = read_avx512;
    else if (__builtin_cpu_supports("avx2")) read = read_avx2;
#endif
    std::vector<uint64_t> partial(size_t(pool.size()) * 8, 0);
    const int64_t n = int64_t(buffer.size());
    const auto start = Clock::now();
    pool.parallel_for(n, pool.chunk_for(n, 4096, 1), [&](int64_t begin, int64_t end, int thread) {
        partial[size_t(thread) * 8] += read(buffer.data(), begin, end);
    });
    const double t = seconds_since(start);
    uint64_t sink = 0;
    for (uint64_t v : partial) sink += v;
    if (sink == 42) std::fprintf(stderr, " ");  // keeps the reads observable
    return double(buffer.size() * sizeof(uint64_t)) / t / 1e9;
}

struct Case {
    llmatc_dtype dtype;
    int64_t rows, cols;
    std::vector<llmatc_weight*> copies;  // enough copies that one pass streams from DRAM, not the L3
    std::vector<double> gemv_gbps;
    std::vector<double> gemm_gflops;
    // BF16 weights only: with BF16-rounded activations (vdpbf16ps), and on AMX tiles where the CPU has them (the
    // GEMM also for Q8_0 / Q4_0 / Q4_K / Q5_K, on AMX-INT8).
    std::vector<double> gemv_gbps_bf16_activations, gemm_gflops_bf16_activations;
    std::vector<double> gemv_gbps_amx, gemm_gflops_amx;
};

}  // namespace

int main(int argc, char** argv) {
    int threads = 0, rounds = 7, stream_mib = 256;
    bool bandwidth_only = false, in_cache = false;
    std::string only;  // --dtypes: names of the dtypes to run (default all)
    cpu::Isa isa = cpu::best_isa();
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--threads" && i + 1 < argc) {
            threads = std::atoi(argv[++i]);
        } else if (arg == "--rounds" && i + 1 < argc) {
            rounds = std::max(1, std::atoi(argv[++i]));
        } else if (arg == "--dtypes" && i + 1 < argc) {
            only = argv[++i];
        } else if (arg == "--stream-mib" && i + 1 < argc) {
            stream_mib = std::max(1, std::atoi(argv[++i]));
        } else if (arg == "--in-cache") {
            in_cache = true;
        } else if (arg == "--bandwidth-only") {
            bandwidth_only = true;
        } else if (arg == "--isa" && i + 1 < argc) {
            const std::string name = argv[++i];
            if (!cpu::isa_from_name(name, &isa)) {
                std::fprintf(stderr, "%s: --isa %s: not one of %s\n", argv[0], name.c_str(),
                             cpu::isa_level_names().c_str());
                return 2;
            }
        } else {
            std::fprintf(stderr, "usage: %s [--threads N] [--rounds R] "
                         "[--isa scalar|avx2|avx2-vnni|avx512-novnni|avx512] [--dtypes F16,Q4_0,...] "
                         "[--stream-mib M] [--in-cache] [--bandwidth-only]\n",
                         argv[0]);
            return 2;
        }
    }
    std::unique_ptr<KernelBackend> backend;
    try {
        backend = cpu::create_cpu_backend_for_isa(threads, isa);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "kernels_bench: %s\n", e.what());
        return 1;
    }
    const llmatc_kernels* k = backend->table();
    // The same kernels with BF16-rounded activations for prefill (CpuBackendOptions::bf16_activations).
    cpu::CpuBackendOptions bf16_options;
    bf16_options.bf16_activations = true;
    const auto bf16_backend = cpu::create_cpu_backend_for_isa(threads, isa, bf16_options);
    const llmatc_kernels* kb = bf16_backend->table();
    // And on AMX tiles (CpuBackendOptions::amx), where this CPU and OS allow them.
    cpu::CpuBackendOptions amx_options = bf16_options;
    amx_options.amx = true;
    const bool has_amx = cpu::isa_kernels(isa).has_amx_bf16;
    const bool has_amx_int8 = cpu::isa_kernels(isa).has_amx_int8;
    const auto amx_backend = cpu::create_cpu_backend_for_isa(threads, isa, amx_options);
    const llmatc_kernels* ka = amx_backend->table();
    cpu::ThreadPool bandwidth_pool(threads);

    std::vector<uint64_t> big(size_t(1) << 27, 1);  // 1 GiB, touched so pages are resident
    for (size_t i = 0; i < big.size(); i += 512) big[i] = i;
    if (bandwidth_only) {
        std::vector<double> gbps;
        for (int round = 0; round < rounds; ++round) gbps.push_back(measure_read_bandwidth(bandwidth_pool, big));
        std::printf("{\"threads\": %d, \"rounds\": %d, \"memory_read_gbps\": {\"median\": %.2f, \"min\": %.2f, "
                    "\"max\": %.2f}}\n",
                    bandwidth_pool.size(), rounds, median(gbps), *std::min_element(gbps.begin(), gbps.end()),
                    *std::max_element(gbps.begin(), gbps.end()));
        return 0;
    }

    std::mt19937 rng(1);
    std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
    const int64_t shapes[][2] = {{2048, 2048}, {5632, 2048}, {2048, 5632}};
    const llmatc_dtype dtypes[] = {LLMATC_DTYPE_F32, LLMATC_DTYPE_F16, LLMATC_DTYPE_BF16, LLMATC_DTYPE_Q8_0,
                                   LLMATC_DTYPE_Q4_0, LLMATC_DTYPE_Q4_K, LLMATC_DTYPE_Q5_K, LLMATC_DTYPE_Q6_K};
    std::vector<Case> cases;
    std::list<std::vector<float>> f32_sources;    // backing store of the zero-copy F32 weights
    std::list<std::vector<uint8_t>> gguf_sources;  // and of K-quant blocks (made once per shape, a GGUF's stand-in)
    for (const auto& shape : shapes) {
        std::vector<float> values(size_t(shape[0] * shape[1]));
        for (auto& v : values) v = dist(rng) * 0.02f;
        llmatc_tensor_view view{};
        view.struct_size = sizeof(view);
        view.abi_version = LLMATC_ABI_VERSION;
        view.dtype = LLMATC_DTYPE_F32;
        view.n_dims = 2;
        view.shape[0] = shape[0];
        view.shape[1] = shape[1];
        view.shape[2] = view.shape[3] = 1;
        view.data = values.data();
        view.nbytes = values.size() * sizeof(float);
        for (llmatc_dtype dtype : dtypes) {
            if (!only.empty() && only.find(cpu::dtype_name(dtype)) == std::string::npos) continue;
            // K-quant weights come from blocks made once (Q4_K's quantizer search is slow), as from a GGUF file.
            const std::vector<uint8_t> blocks = is_gguf_only(dtype) ? gguf_blocks(dtype, values, rng)
                                                                    : std::vector<uint8_t>{};
            Case c{dtype, shape[0], shape[1], {}, {}, {}, {}, {}, {}, {}};
            const uint64_t bytes = cpu::dtype_bytes(dtype, shape[0] * shape[1]);
            const size_t n_copies =
                in_cache ? 1 : size_t(std::max<uint64_t>(2, (uint64_t(stream_mib) << 20) / bytes));
            for (size_t i = 0; i < n_copies; ++i) {
                // F32 storage of an F32 source is zero-copy: give each copy its own source so copies don't alias.
                llmatc_tensor_view copy_view = view;
                if (dtype == LLMATC_DTYPE_F32) {
                    f32_sources.emplace_back(values);
                    copy_view.data = f32_sources.back().data();
                } else if (is_gguf_only(dtype)) {
                    gguf_sources.emplace_back(blocks);
                    copy_view.dtype = dtype;
                    copy_view.data = gguf_sources.back().data();
                    copy_view.nbytes = blocks.size();
                }
                llmatc_weight* w = nullptr;
                if (k->weight_create(k->ctx, &copy_view, dtype, &w) != LLMATC_OK) {
                    std::fprintf(stderr, "kernels_bench: weight_create failed\n");
                    return 1;
                }
                c.copies.push_back(w);
            }
            cases.push_back(std::move(c));
        }
    }

    const int64_t gemm_n = 128;
    std::vector<float> x(size_t(gemm_n) * 5632), y(size_t(gemm_n) * 5632);
    for (auto& v : x) v = dist(rng);
    // The sample op on 16 logits rows of Llama's vocabulary (logits of std 3), greedy and at temperature 0.8 with
    // top_p 0.95, each with the chosen token's logprob: the engine thread's per-step work after the forward pass.
    const int32_t sample_vocab = 32000, sample_rows = 16;
    std::vector<float> sample_logits(size_t(sample_vocab) * sample_rows);
    std::normal_distribution<float> logit_dist(0.0f, 3.0f);
    for (auto& v : sample_logits) v = logit_dist(rng);
    std::vector<int32_t> sample_tokens(sample_rows);
    std::vector<float> sample_logprobs(sample_rows);
    auto sample_params = [&](float temperature) {
        llmatc_sample_params p{};
        p.struct_size = sizeof(p);
        p.abi_version = LLMATC_ABI_VERSION;
        p.temperature = temperature;
        p.top_p = temperature == 0.0f ? 1.0f : 0.95f;
        p.u = 0.5;
        return std::vector<llmatc_sample_params>(sample_rows, p);
    };
    const auto greedy_params = sample_params(0.0f), sampled_params = sample_params(0.8f);
    std::vector<double> sample_greedy_us, sample_sampled_us;
    auto time_sample = [&](const std::vector<llmatc_sample_params>& params, std::vector<double>& out) {
        const auto start = Clock::now();
        k->sample(k->ctx, sample_logits.data(), sample_rows, sample_vocab, params.data(), sample_tokens.data(),
                  sample_logprobs.data());
        out.push_back(seconds_since(start) * 1e6 / sample_rows);
    };
    std::vector<double> bandwidth;
    for (int round = 0; round < rounds; ++round) {
        bandwidth.push_back(measure_read_bandwidth(bandwidth_pool, big));
        time_sample(greedy_params, sample_greedy_us);
        time_sample(sampled_params, sample_sampled_us);
        for (Case& c : cases) {
            // GEMV: one pass over every copy (each weight byte read once, as in decode); in cache, 16 passes over one
            // copy after a warm-up pass.
            const int passes = in_cache ? 16 : 1;
            if (in_cache) k->matmul(k->ctx, c.copies[0], x.data(), 1, y.data());
            // The weights were made by k; the other backends of this ISA read the same layouts.
            auto gemv = [&](const llmatc_kernels* kk, std::vector<double>& out) {
                if (in_cache) kk->matmul(kk->ctx, c.copies[0], x.data(), 1, y.data());
                const auto start = Clock::now();
                for (int pass = 0; pass < passes; ++pass)
                    for (llmatc_weight* w : c.copies) kk->matmul(kk->ctx, w, x.data(), 1, y.data());
                const double t = seconds_since(start);
                out.push_back(double(k->weight_bytes(k->ctx, c.copies[0])) * double(c.copies.size()) * passes / t /
                              1e9);
            };
            // GEMM (prefill-like, n = 128) on one copy.
            auto gemm = [&](const llmatc_kernels* kk, std::vector<double>& out) {
                const auto start = Clock::now();
                kk->matmul(kk->ctx, c.copies[0], x.data(), gemm_n, y.data());
                out.push_back(2.0 * double(gemm_n * c.rows * c.cols) / seconds_since(start) / 1e9);
            };
            gemv(k, c.gemv_gbps);
            gemm(k, c.gemm_gflops);
            if (c.dtype == LLMATC_DTYPE_BF16) {
                gemv(kb, c.gemv_gbps_bf16_activations);
                gemm(kb, c.gemm_gflops_bf16_activations);
                if (has_amx) {
                    gemv(ka, c.gemv_gbps_amx);
                    gemm(ka, c.gemm_gflops_amx);
                }
            }
            // Q8_0 / Q4_0 / Q4_K / Q5_K GEMMs on AMX-INT8 tiles (their GEMV stays on VNNI).
            if ((c.dtype == LLMATC_DTYPE_Q8_0 || c.dtype == LLMATC_DTYPE_Q4_0 || c.dtype == LLMATC_DTYPE_Q4_K ||
                 c.dtype == LLMATC_DTYPE_Q5_K) && has_amx_int8)
                gemm(ka, c.gemm_gflops_amx);
        }
    }

    const double bw = median(bandwidth);
    std::printf("{\n  \"isa\": \"%s\",\n  \"threads\": %d,\n  \"rounds\": %d,\n  \"gemv_weights\": \"%s\",\n",
                cpu::isa_name(isa), bandwidth_pool.size(), rounds, in_cache ? "in cache" : "from DRAM");
    std::printf("  \"memory_read_gbps\": {\"median\": %.2f, \"min\": %.2f, \"max\": %.2f},\n", bw,
                *std::min_element(bandwidth.begin(), bandwidth.end()),
                *std::max_element(bandwidth.begin(), bandwidth.end()));
    std::printf("  \"sample_us_per_row\": {\"vocab\": %d, \"greedy_with_logprob\": %.1f, "
                "\"temperature_top_p_with_logprob\": %.1f},\n",
                sample_vocab, median(sample_greedy_us), median(sample_sampled_us));
    std::printf("  \"matmul\": [\n");
    for (size_t i = 0; i < cases.size(); ++i) {
        const Case& c = cases[i];
        const double gbps = median(c.gemv_gbps);
        std::printf("    {\"dtype\": \"%s\", \"rows\": %lld, \"cols\": %lld, \"gemv_gbps\": %.2f, "
                    "\"gemv_fraction_of_bandwidth\": %.3f, \"gemm_n\": %lld, \"gemm_gflops\": %.1f",
                    cpu::dtype_name(c.dtype), (long long)c.rows, (long long)c.cols, gbps, gbps / bw,
                    (long long)gemm_n, median(c.gemm_gflops));
        if (!c.gemm_gflops_bf16_activations.empty())
            std::printf(", \"gemv_gbps_bf16_activations\": %.2f, \"gemm_gflops_bf16_activations\": %.1f",
                        median(c.gemv_gbps_bf16_activations), median(c.gemm_gflops_bf16_activations));
        if (!c.gemv_gbps_amx.empty())
            std::printf(", \"gemv_gbps_amx\": %.2f", median(c.gemv_gbps_amx));
        if (!c.gemm_gflops_amx.empty()) std::printf(", \"gemm_gflops_amx\": %.1f", median(c.gemm_gflops_amx));
        std::printf("}%s\n", i + 1 < cases.size() ? "," : "");
    }
    std::printf("  ]\n}\n");
    for (Case& c : cases)
        for (llmatc_weight* w : c.copies) k->weight_destroy(k->ctx, w);
    return 0;
}
