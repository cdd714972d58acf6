// core/engine/kv_cache.cpp — sizing and allocating the paged KV cache.
#include "engine/kv_cache.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>

#include "util/error.h"

namespace llmatc::engine {

namespace {
// MemAvailable in bytes, or 0 when /proc/meminfo cannot be read.
uint64_t mem_available_bytes() {
    std::ifstream in("/proc/meminfo");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("MemAvailable:", 0) != 0) continue;
        std::istringstream fields(line.substr(13));
        uint64_t kib = 0;
        fields >> kib;
        return kib * 1024;
    }
    return 0;
}

uint64_t per_buffer_bytes(const llmatc_model_desc& desc, int32_t block_size, int32_t n_blocks, llmatc_dtype dtype) {
    return static_cast<uint64_t>(n_blocks) * static_cast<uint64_t>(block_size) *
           static_cast<uint64_t>(desc.n_kv_heads) * static_cast<uint64_t>(desc.head_dim) * kv_element_bytes(dtype);
}
}  // namespace

llmatc_dtype resolve_kv_cache_dtype(const std::string& requested, llmatc_dtype weight_dtype) {
    if (requested == "f32") return LLMATC_DTYPE_F32;
    if (requested == "f16") return LLMATC_DTYPE_F16;
    // An F32 model keeps an exact cache; narrower weights already lose more than F16 keys and values do.
    if (requested == "auto" || requested.empty())
        return weight_dtype == LLMATC_DTYPE_F32 ? LLMATC_DTYPE_F32 : LLMATC_DTYPE_F16;
    throw Error(LLMATC_ERR_INVALID_ARGUMENT,
                "--kv-cache-dtype must be auto, f32 or f16 (got '" + requested + "')");
}

uint64_t kv_element_bytes(llmatc_dtype dtype) {
    switch (dtype) {
        case LLMATC_DTYPE_F32: return 4;
        case LLMATC_DTYPE_F16: return 2;
        default:
            throw Error(LLMATC_ERR_UNSUPPORTED,
                        "KV cache dtype " + std::to_string(int(dtype)) + " is not supported (expected F32 or F16)");
    }
}

const char* kv_dtype_name(llmatc_dtype dtype) {
    switch (dtype) {
        case LLMATC_DTYPE_F32: return "f32";
        case LLMATC_DTYPE_F16: return "f16";
        default: return "unsupported";
    }
}

uint64_t kv_block_bytes(const llmatc_model_desc& desc, int32_t block_size, llmatc_dtype dtype) {
    return 2ULL * static_cast<uint64_t>(desc.n_layers) * per_buffer_bytes(desc, block_size, 1, dtype);
}

int32_t plan_kv_blocks(const llmatc_model_desc& desc, int32_t block_size, llmatc_dtype dtype, int32_t max_model_len,
                       int32_t max_num_seqs, uint64_t kv_cache_memory) {
    const uint64_t block_bytes = kv_block_bytes(desc, block_size, dtype);
    if (block_bytes == 0)
        throw Error(LLMATC_ERR_INVALID_ARGUMENT, "KV cache: the model reports zero layers, heads or head width");
    const uint64_t needed_blocks = (static_cast<uint64_t>(max_model_len) + block_size - 1) / block_size;
    uint64_t n_blocks;
    if (kv_cache_memory > 0) {
        n_blocks = kv_cache_memory / block_bytes;
    } else {
        const uint64_t avail = mem_available_bytes();
        n_blocks = avail * 2 / 5 / block_bytes;
        const uint64_t useful = 2 * needed_blocks * static_cast<uint64_t>(std::max(max_num_seqs, 1));
        n_blocks = std::min(n_blocks, useful);
        if (avail == 0) n_blocks = needed_blocks;  // no /proc/meminfo: the minimum that works
    }
    n_blocks = std::min<uint64_t>(n_blocks, INT32_MAX);
    if (n_blocks < needed_blocks) {
        throw Error(LLMATC_ERR_OUT_OF_MEMORY,
                    "KV cache too small: it holds " + std::to_string(n_blocks * block_size) +
                        " tokens but max_model_len is " + std::to_string(max_model_len) + " tokens (needs " +
                        std::to_string(needed_blocks * block_bytes) + " bytes, have " +
                        std::to_string(n_blocks * block_bytes) +
                        "); raise --kv-cache-memory or lower --max-model-len");
    }
    return static_cast<int32_t>(n_blocks);
}

KvCacheMemory::KvCacheMemory(const llmatc_kernels* kernels, const llmatc_model_desc& desc, int32_t block_size,
                             int32_t n_blocks, llmatc_dtype dtype)
    : kernels_(kernels) {
    const uint64_t buf = per_buffer_bytes(desc, block_size, n_blocks, dtype);
    try {
        for (int32_t l = 0; l < desc.n_layers; ++l) {
            for (auto* list : {&k_, &v_}) {
                void* p = kernels_->alloc(kernels_->ctx, buf);
                if (!p)
                    throw Error(LLMATC_ERR_OUT_OF_MEMORY, "KV cache: the " + std::string(kernels_->name) +
                                                              " backend could not allocate " + std::to_string(buf) +
                                                              " bytes for layer " + std::to_string(l));
                list->push_back(p);
                bytes_ += buf;
            }
        }
    } catch (...) {
        for (void* p : k_) kernels_->free(kernels_->ctx, p);
        for (void* p : v_) kernels_->free(kernels_->ctx, p);
        throw;
    }
    view_.struct_size = sizeof(llmatc_kv_cache);
    view_.abi_version = LLMATC_ABI_VERSION;
    view_.dtype = dtype;
    view_.n_layers = desc.n_layers;
    view_.n_kv_heads = desc.n_kv_heads;
    view_.head_dim = desc.head_dim;
    view_.block_size = block_size;
    view_.n_blocks = n_blocks;
    view_.k = k_.data();
    view_.v = v_.data();
    spdlog::info("KV cache: {} blocks of {} tokens ({} tokens, {:.1f} MiB, dtype {})", n_blocks, block_size,
                 static_cast<int64_t>(n_blocks) * block_size, static_cast<double>(bytes_) / (1024.0 * 1024.0),
                 kv_dtype_name(dtype));
}

KvCacheMemory::~KvCacheMemory() {
    for (void* p : k_) kernels_->free(kernels_->ctx, p);
    for (void* p : v_) kernels_->free(kernels_->ctx, p);
}

}  // namespace llmatc::engine
