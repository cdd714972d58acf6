// tests/core/kernels_cuda/cuda_kernel_check.cpp — every CUDA kernel against the CPU backend on random inputs of
// several shapes: outputs are poisoned (NaN) before each call, and the relative error max|gpu - cpu| / max|cpu| is
// printed per kernel and shape, against F32 <= 1e-5 and BF16 <= 1e-2. Exits 77 (skipped) without a CUDA device, 1 on
// any failure. Run by scripts/gpu_check.sh and as a meson test.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "kernels/backend.h"
#include "kernels/cuda_loader.h"
#include "util/error.h"

namespace {

using llmatc::KernelBackend;

struct Backends {
    std::unique_ptr<KernelBackend> cpu, gpu;
    const llmatc_kernels& c() const { return *cpu->table(); }
    const llmatc_kernels& g() const { return *gpu->table(); }
};

std::mt19937 rng(1234);

std::vector<float> random_vector(size_t n, float scale = 1.0f) {
    std::uniform_real_distribution<float> dist(-scale, scale);
    std::vector<float> v(n);
    for (float& x : v) x = dist(rng);
    return v;
}

// A buffer on one backend, freed with it.
class Buffer {
public:
    Buffer(const llmatc_kernels& k, size_t floats) : k_(k), n_(floats) {
        p_ = static_cast<float*>(k.alloc(k.ctx, std::max<size_t>(floats, 1) * sizeof(float)));
        if (!p_) throw llmatc::Error(LLMATC_ERR_OUT_OF_MEMORY, std::string(k.name) + ": alloc failed");
    }
    Buffer(const llmatc_kernels& k, const std::vector<float>& host) : Buffer(k, host.size()) { put(host); }
    ~Buffer() { k_.free(k_.ctx, p_); }
    Buffer(const Buffer&) = delete;
    Buffer& operator=(const Buffer&) = delete;
    void put(const std::vector<float>& host) {
        llmatc::check_status(k_.to_backend(k_.ctx, p_, host.data(), host.size() * sizeof(float)), "to_backend");
    }
    void poison() { put(std::vector<float>(n_, std::nanf(""))); }
    std::vector<float> get() const {
        std::vector<float> host(n_);
        llmatc::check_status(k_.to_host(k_.ctx, host.data(), p_, n_ * sizeof(float)), "to_host");
        return host;
    }
    float* data() { return p_; }

private:
    const llmatc_kernels& k_;
    size_t n_;
    float* p_;
};

// A weight made on one backend from an F32 host tensor, kept as `storage`.
class Weight {
public:
    Weight(const llmatc_kernels& k, const std::vector<float>& values, std::vector<int64_t> shape, llmatc_dtype storage)
        : k_(k) {
        llmatc_tensor_view view{};
        view.struct_size = sizeof(view);
        view.abi_version = LLMATC_ABI_VERSION;
        view.dtype = LLMATC_DTYPE_F32;
        view.n_dims = int32_t(shape.size());
        for (int i = 0; i < LLMATC_MAX_DIMS; ++i) view.shape[i] = i < view.n_dims ? shape[size_t(i)] : 1;
        view.data = values.data();
        view.nbytes = values.size() * sizeof(float);
        llmatc::check_status(k.weight_create(k.ctx, &view, storage, &w_), std::string(k.name) + " weight_create");
    }
    ~Weight() { k_.weight_destroy(k_.ctx, w_); }
    const llmatc_weight* get() const { return w_; }

private:
    const llmatc_kernels& k_;
    llmatc_weight* w_ = nullptr;
};

int failures = 0;

void report(const std::string& kernel, const std::string& shape, const char* dtype, const std::vector<float>& gpu,
            const std::vector<float>& cpu, double limit) {
    double worst = 0.0, scale = 0.0;
    bool finite = true;
    for (size_t i = 0; i < cpu.size(); ++i) {
        if (!std::isfinite(gpu[i])) finite = false;
        worst = std::max(worst, double(std::fabs(gpu[i] - cpu[i])));
        scale = std::max(scale, double(std::fabs(cpu[i])));
    }
    const double rel = finite ? worst / std::max(scale, 1e-30) : INFINITY;
    const bool ok = finite && rel <= limit;
    if (!ok) ++failures;
    std::printf("%-12s %-34s %-5s rel_err %.3e  (limit %.0e)  %s\n", kernel.c_str(), shape.c_str(), dtype, rel, limit,
                ok ? "ok" : (finite ? "FAIL" : "FAIL (NaN/Inf: output not fully written)"));
}

void check(llmatc_status st, const char* what) { llmatc::check_status(st, what); }

void check_elementwise(const Backends& b) {
    for (int64_t n : {1, 7, 300}) {
        for (int64_t dim : {64, 1000, 4096}) {
            const std::string shape = "[" + std::to_string(n) + ", " + std::to_string(dim) + "]";
            const auto x = random_vector(size_t(n * dim), 3.0f), y = random_vector(size_t(n * dim), 3.0f);
            const auto w = random_vector(size_t(dim), 1.0f);
            std::vector<float> results[2];
            // rmsnorm
            for (int side = 0; side < 2; ++side) {
                const llmatc_kernels& k = side ? b.g() : b.c();
                Buffer xb(k, x), out(k, x.size());
                out.poison();
                Weight wn(k, w, {dim}, LLMATC_DTYPE_F32);
                check(k.rmsnorm(k.ctx, xb.data(), wn.get(), n, dim, 1e-5f, out.data()), "rmsnorm");
                results[side] = out.get();
            }
            report("rmsnorm", shape, "F32", results[1], results[0], 1e-5);
            // silu_mul, add, softmax
            for (int side = 0; side < 2; ++side) {
                const llmatc_kernels& k = side ? b.g() : b.c();
                Buffer g(k, x), u(k, y), out(k, x.size());
                out.poison();
                check(k.silu_mul(k.ctx, g.data(), u.data(), n * dim, out.data()), "silu_mul");
                results[side] = out.get();
            }
            report("silu_mul", shape, "F32", results[1], results[0], 1e-5);
            for (int side = 0; side < 2; ++side) {
                const llmatc_kernels& k = side ? b.g() : b.c();
                Buffer xb(k, x), yb(k, y);
                check(k.add(k.ctx, xb.data(), yb.data(), n * dim), "add");
                results[side] = xb.get();
            }
            report("add", shape, "F32", results[1], results[0], 1e-5);
            for (int side = 0; side < 2; ++side) {
                const llmatc_kernels& k = side ? b.g() : b.c();
                Buffer xb(k, x);
                check(k.softmax(k.ctx, xb.data(), n, dim), "softmax");
                results[side] = xb.get();
            }
            report("softmax", shape, "F32", results[1], results[0], 1e-5);
        }
    }
    for (int32_t head_dim : {8, 64, 128}) {
        const int64_t n = 37;
        const int32_t heads = 6;
        std::vector<int32_t> positions(static_cast<size_t>(n));
        for (int64_t i = 0; i < n; ++i) positions[size_t(i)] = int32_t((i * 977) % 9000);
        const auto x = random_vector(size_t(n * heads * head_dim));
        std::vector<float> results[2];
        for (int side = 0; side < 2; ++side) {
            const llmatc_kernels& k = side ? b.g() : b.c();
            Buffer xb(k, x);
            check(k.rope(k.ctx, xb.data(), positions.data(), n, heads, head_dim, 10000.0f, 2.0f), "rope");
            results[side] = xb.get();
        }
        report("rope", "[37, 6, " + std::to_string(head_dim) + "] pos<9000", "F32", results[1], results[0], 1e-5);
    }
    for (llmatc_dtype dtype : {LLMATC_DTYPE_F32, LLMATC_DTYPE_BF16}) {
        const int64_t vocab = 1000, dim = 320, n = 17;
        const auto table = random_vector(size_t(vocab * dim));
        std::vector<int32_t> ids(static_cast<size_t>(n));
        for (int64_t i = 0; i < n; ++i) ids[size_t(i)] = int32_t((i * 131) % vocab);
        std::vector<float> results[2];
        for (int side = 0; side < 2; ++side) {
            const llmatc_kernels& k = side ? b.g() : b.c();
            Weight t(k, table, {vocab, dim}, dtype);
            Buffer out(k, size_t(n * dim));
            out.poison();
            check(k.embedding(k.ctx, t.get(), ids.data(), n, out.data()), "embedding");
            results[side] = out.get();
        }
        report("embedding", "[1000, 320] x 17 ids", dtype == LLMATC_DTYPE_F32 ? "F32" : "BF16", results[1], results[0],
               dtype == LLMATC_DTYPE_F32 ? 1e-5 : 1e-2);
    }
}

void check_matmul(const Backends& b) {
    struct Case { int64_t out, in; };
    for (const Case& c : {Case{64, 64}, Case{1000, 300}, Case{4096, 4096}, Case{11008, 4096}}) {
        const auto w = random_vector(size_t(c.out * c.in));
        for (llmatc_dtype dtype : {LLMATC_DTYPE_F32, LLMATC_DTYPE_F16, LLMATC_DTYPE_BF16}) {
            const char* name = dtype == LLMATC_DTYPE_F32 ? "F32" : dtype == LLMATC_DTYPE_F16 ? "F16" : "BF16";
            Weight wc(b.c(), w, {c.out, c.in}, dtype), wg(b.g(), w, {c.out, c.in}, dtype);
            for (int64_t n : {1, 3, 8, 9, 64}) {
                const auto x = random_vector(size_t(n * c.in));
                Buffer xc(b.c(), x), xg(b.g(), x), yc(b.c(), size_t(n * c.out)), yg(b.g(), size_t(n * c.out));
                yg.poison();
                check(b.c().matmul(b.c().ctx, wc.get(), xc.data(), n, yc.data()), "cpu matmul");
                check(b.g().matmul(b.g().ctx, wg.get(), xg.data(), n, yg.data()), "cuda matmul");
                // 16-bit weights: for n > 8 cuBLAS also rounds x to the weight's type, so both are held to 1e-2.
                const double limit = dtype == LLMATC_DTYPE_F32 ? 1e-5 : 1e-2;
                report("matmul", "[" + std::to_string(n) + ", " + std::to_string(c.in) + "] x [" +
                                     std::to_string(c.out) + ", " + std::to_string(c.in) + "]^T",
                       name, yg.get(), yc.get(), limit);
            }
        }
    }
}

// kv_write then attention on both backends, for a batch mixing decode rows, a long prefill and a long context.
void check_attention(const Backends& b) {
    struct Seq { int32_t n_past, n_new; };
    const std::vector<Seq> seqs = {{0, 40}, {700, 1}, {5, 3}, {1500, 1}, {33, 17}};
    for (llmatc_dtype cache_dtype : {LLMATC_DTYPE_F32, LLMATC_DTYPE_F16}) {
        for (auto [heads, kv_heads, head_dim] : {std::tuple{8, 8, 64}, std::tuple{32, 8, 128}, std::tuple{4, 1, 256}}) {
            const int32_t block = 16, layers = 2, layer = 1;
            int32_t n_blocks = 0;
            std::vector<std::vector<int32_t>> tables;
            for (const Seq& s : seqs) {
                const int32_t need = (s.n_past + s.n_new + block - 1) / block;
                std::vector<int32_t> t;
                for (int32_t i = 0; i < need; ++i) t.push_back(n_blocks + need - 1 - i);  // scattered: reversed
                n_blocks += need;
                tables.push_back(t);
            }
            std::vector<llmatc_batch_seq> batch_seqs;
            std::vector<int32_t> ids, positions;
            int32_t rows = 0;
            for (size_t i = 0; i < seqs.size(); ++i) {
                batch_seqs.push_back({tables[i].data(), int32_t(tables[i].size()), seqs[i].n_past, seqs[i].n_new, rows});
                for (int32_t j = 0; j < seqs[i].n_new; ++j) positions.push_back(seqs[i].n_past + j);
                rows += seqs[i].n_new;
            }
            ids.assign(size_t(rows), 0);
            llmatc_batch batch{sizeof(llmatc_batch), LLMATC_ABI_VERSION, rows, ids.data(), positions.data(),
                               int32_t(batch_seqs.size()), batch_seqs.data(), 0, nullptr, nullptr, nullptr, nullptr};
            // Fill the whole cache with random history, then write this batch's keys/values over their slots.
            const size_t slot_floats = size_t(kv_heads) * size_t(head_dim);
            const size_t cache_floats = size_t(n_blocks) * block * slot_floats;
            const auto history_k = random_vector(cache_floats), history_v = random_vector(cache_floats);
            const auto k_new = random_vector(size_t(rows) * slot_floats), v_new = random_vector(size_t(rows) * slot_floats);
            const auto q = random_vector(size_t(rows) * size_t(heads) * size_t(head_dim));
            std::vector<float> results[2];
            for (int side = 0; side < 2; ++side) {
                const llmatc_kernels& k = side ? b.g() : b.c();
                const size_t elem = cache_dtype == LLMATC_DTYPE_F16 ? 2 : 4;
                std::vector<void*> kp, vp;
                for (int32_t l = 0; l < layers; ++l) {
                    kp.push_back(k.alloc(k.ctx, cache_floats * elem));
                    vp.push_back(k.alloc(k.ctx, cache_floats * elem));
                }
                llmatc_kv_cache cache{sizeof(llmatc_kv_cache), LLMATC_ABI_VERSION, cache_dtype, layers, kv_heads,
                                      head_dim, block, n_blocks, kp.data(), vp.data()};
                // History goes in through kv_write too (one row per slot, as a sequence of all the blocks), so
                // both backends hold identically converted values.
                std::vector<int32_t> all_blocks(static_cast<size_t>(n_blocks));
                for (int32_t i = 0; i < n_blocks; ++i) all_blocks[size_t(i)] = i;
                const int32_t all_slots = n_blocks * block;
                std::vector<int32_t> hist_pos(static_cast<size_t>(all_slots)), hist_ids(static_cast<size_t>(all_slots), 0);
                for (int32_t i = 0; i < all_slots; ++i) hist_pos[size_t(i)] = i;
                llmatc_batch_seq hist_seq{all_blocks.data(), n_blocks, 0, all_slots, 0};
                llmatc_batch hist{sizeof(llmatc_batch), LLMATC_ABI_VERSION, all_slots, hist_ids.data(),
                                  hist_pos.data(), 1, &hist_seq, 0, nullptr, nullptr, nullptr, nullptr};
                Buffer hk(k, history_k), hv(k, history_v), kb(k, k_new), vb(k, v_new), qb(k, q);
                Buffer out(k, q.size());
                out.poison();
                check(k.kv_write(k.ctx, &cache, layer, &hist, hk.data(), hv.data()), "kv_write (history)");
                check(k.kv_write(k.ctx, &cache, layer, &batch, kb.data(), vb.data()), "kv_write");
                check(k.attention(k.ctx, &cache, layer, &batch, qb.data(), heads, 1.0f / std::sqrt(float(head_dim)),
                                  out.data()),
                      "attention");
                results[side] = out.get();
                for (void* p : kp) k.free(k.ctx, p);
                for (void* p : vp) k.free(k.ctx, p);
            }
            const std::string shape = "heads " + std::to_string(heads) + "/" + std::to_string(kv_heads) + " hd " +
                                      std::to_string(head_dim) + ", ctx<=1501";
            // An F16 cache holds the same rounded values on both sides; only the accumulation order differs.
            report("attention", shape, cache_dtype == LLMATC_DTYPE_F16 ? "F16kv" : "F32", results[1], results[0],
                   cache_dtype == LLMATC_DTYPE_F16 ? 1e-4 : 1e-5);
        }
    }
}

// The sample slot (since ABI 1.1): the same token as the CPU backend for every row (greedy and sampled with
// top-k/top-p/min-p, more rows than one sort chunk), logprobs within F32 tolerance. The GPU sums in another order,
// so a draw landing within rounding of a threshold could differ; on random logits that does not happen.
void check_sample(const Backends& b) {
    const bool both = b.c().struct_size >= offsetof(llmatc_kernels, sample) + sizeof(void*) && b.c().sample &&
                      b.g().struct_size >= offsetof(llmatc_kernels, sample) + sizeof(void*) && b.g().sample;
    if (!both) {
        std::printf("%-12s a backend has no sample slot  FAIL\n", "sample");
        ++failures;
        return;
    }
    std::uniform_real_distribution<double> uniform(0.0, 1.0);
    for (int32_t vocab : {1000, 32000, 128256}) {
        for (int64_t n_rows : {int64_t(1), int64_t(45)}) {
            const auto logits = random_vector(size_t(n_rows) * size_t(vocab), 8.0f);
            std::vector<llmatc_sample_params> params(static_cast<size_t>(n_rows));
            for (int64_t r = 0; r < n_rows; ++r) {
                llmatc_sample_params& p = params[size_t(r)];
                p.struct_size = sizeof(p);
                p.abi_version = LLMATC_ABI_VERSION;
                p.temperature = r % 5 == 0 ? 0.0f : 0.3f + 0.2f * float(r % 7);
                p.top_k = r % 3 == 0 ? 0 : int32_t(1 + r * 7);
                p.top_p = r % 4 == 0 ? 1.0f : 0.5f + 0.1f * float(r % 5);
                p.min_p = r % 6 == 0 ? 0.05f : 0.0f;
                p.u = uniform(rng);
            }
            std::vector<int32_t> tokens[2];
            std::vector<float> logprobs[2];
            for (int side = 0; side < 2; ++side) {
                const llmatc_kernels& k = side ? b.g() : b.c();
                Buffer lb(k, logits);
                tokens[side].assign(size_t(n_rows), -1);
                logprobs[side].assign(size_t(n_rows), std::nanf(""));
                check(k.sample(k.ctx, lb.data(), n_rows, vocab, params.data(), tokens[side].data(),
                               logprobs[side].data()),
                      side ? "cuda sample" : "cpu sample");
            }
            int mismatches = 0;
            for (int64_t r = 0; r < n_rows; ++r) mismatches += tokens[0][size_t(r)] != tokens[1][size_t(r)];
            const std::string shape = "[" + std::to_string(n_rows) + ", " + std::to_string(vocab) + "]";
            if (mismatches) {
                ++failures;
                std::printf("%-12s %-34s %-5s %d of %lld tokens differ  FAIL\n", "sample", shape.c_str(), "F32",
                            mismatches, static_cast<long long>(n_rows));
            }
            report("sample", shape + " logprob", "F32", logprobs[1], logprobs[0], 1e-5);
        }
    }
}

}  // namespace

int main() {
    std::string why;
    if (!llmatc::cuda_device_present(&why)) {
        std::printf("no CUDA device: skipping (%s)\n", why.c_str());
        return 77;
    }
    try {
        Backends b;
        b.cpu = llmatc::create_cpu_backend(0);
        b.gpu = llmatc::create_cuda_backend(0, &why);
        if (!b.gpu) {
            std::printf("a CUDA device is present but no CUDA backend could be made: %s\n", why.c_str());
            return 1;
        }
        check_elementwise(b);
        check_matmul(b);
        check_attention(b);
        check_sample(b);
    } catch (const std::exception& e) {
        std::printf("FAIL: %s\n", e.what());
        return 1;
    }
    std::printf("%s: %d failure(s)\n", failures ? "FAIL" : "all CUDA kernels match the CPU reference", failures);
    return failures ? 1 : 0;
}
