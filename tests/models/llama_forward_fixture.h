// tests/models/llama_forward_fixture.h — stories260k with the real checkpoint reader, CPU backend and Llama model,
// and a KV cache on that backend: what the Llama forward tests run on.
#pragma once

#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "checkpoint/checkpoint.h"
#include "kernels/backend.h"
#include "llama/llama_model.h"

namespace llama_test {

using llmatc::llama::LlamaModel;

inline std::string stories_dir() {
    const char* shared = std::getenv("LLMATC_SHARED");
    return std::string(shared ? shared : "../shared") + "/models/stories260k";
}

// The checkpoint, a CPU backend (1 thread unless told) and the model built on them, its weights stored as
// `weight_storage` says (-1: the checkpoint's dtypes).
struct Fixture {
    explicit Fixture(int threads = 1, llmatc_dtype storage = static_cast<llmatc_dtype>(-1))
        : backend(llmatc::create_cpu_backend(threads)), weight_storage(storage) {}

    std::string dir = stories_dir();
    std::unique_ptr<llmatc::KernelBackend> backend;
    llmatc_dtype weight_storage;
    std::unique_ptr<llmatc::Checkpoint> checkpoint = llmatc::Checkpoint::open(stories_dir());

    llmatc_model_load_params params(const llmatc_tensor_source* tensors) const {
        llmatc_model_load_params p{};
        p.struct_size = sizeof(p);
        p.abi_version = LLMATC_ABI_VERSION;
        p.model_dir = dir.c_str();
        p.config_json = checkpoint->config_json().data();
        p.config_json_len = checkpoint->config_json().size();
        p.tensors = tensors;
        p.kernels = backend->table();
        p.weight_storage = weight_storage;
        return p;
    }
    std::unique_ptr<LlamaModel> model() const { return std::make_unique<LlamaModel>(params(checkpoint->source())); }
};

// A KV cache of `n_blocks` blocks of 16 on the backend, F32 (or F16) elements.
class TestCache {
public:
    TestCache(const llmatc_kernels& k, const llmatc_model_desc& d, int32_t n_blocks,
              llmatc_dtype dtype = LLMATC_DTYPE_F32)
        : kernels_(k) {
        const size_t element = dtype == LLMATC_DTYPE_F16 ? 2 : 4;
        const size_t bytes = size_t(n_blocks) * 16 * d.n_kv_heads * d.head_dim * element;
        for (int32_t l = 0; l < d.n_layers; ++l) {
            k_.push_back(k.alloc(k.ctx, bytes));
            v_.push_back(k.alloc(k.ctx, bytes));
        }
        cache_ = {sizeof(cache_), LLMATC_ABI_VERSION, dtype, d.n_layers, d.n_kv_heads, d.head_dim, 16,
                  n_blocks, k_.data(), v_.data()};
    }
    ~TestCache() {
        for (void* p : k_) kernels_.free(kernels_.ctx, p);
        for (void* p : v_) kernels_.free(kernels_.ctx, p);
    }
    const llmatc_kv_cache& get() const { return cache_; }

private:
    const llmatc_kernels& kernels_;
    std::vector<void*> k_, v_;
    llmatc_kv_cache cache_{};
};

}  // namespace llama_test
