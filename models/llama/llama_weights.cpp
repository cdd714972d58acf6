// models/llama/llama_weights.cpp — finds, shape-checks and prepares every Llama tensor on the kernel backend.
#include "llama/llama_weights.h"

#include <cstddef>
#include <string>
#include <utility>

#include "llama/llama_error.h"
#include "llama/llama_host.h"

namespace llmatc::llama {

namespace {

std::string shape_text(const int64_t* shape, int32_t n_dims) {
    std::string out = "[";
    for (int32_t i = 0; i < n_dims; ++i) out += (i ? ", " : "") + std::to_string(shape[i]);
    return out + "]";
}

bool keeps_own_dtype(llmatc_dtype storage) { return static_cast<int>(storage) < 0; }

// Elements per quantization block along a row; 1 for unquantized types.
int64_t block_elements(llmatc_dtype dtype) {
    switch (dtype) {
        case LLMATC_DTYPE_Q8_0:
        case LLMATC_DTYPE_Q4_0: return 32;
        case LLMATC_DTYPE_Q4_K: return 256;
        default: return 1;
    }
}

bool is_float(llmatc_dtype dtype) {
    return dtype == LLMATC_DTYPE_F32 || dtype == LLMATC_DTYPE_F16 || dtype == LLMATC_DTYPE_BF16;
}

// The storage for a tensor whose rows hold `row_length` elements. A quantized type whose blocks do not tile the rows
// falls back, as llama.cpp does: Q4_K to Q8_0 when 32 tiles them, else the tensor's own float type (F32 otherwise).
llmatc_dtype storage_for(llmatc_dtype requested, llmatc_dtype source, int64_t row_length) {
    if (keeps_own_dtype(requested)) return source;
    if (row_length % block_elements(requested) == 0) return requested;
    if (requested == LLMATC_DTYPE_Q4_K && row_length % block_elements(LLMATC_DTYPE_Q8_0) == 0)
        return LLMATC_DTYPE_Q8_0;
    return is_float(source) ? source : LLMATC_DTYPE_F32;
}

}  // namespace

LlamaWeights::LlamaWeights(const LlamaHparams& hp, const llmatc_tensor_source& tensors, const llmatc_kernels& kernels,
                           llmatc_dtype storage, const std::string& model_dir)
    : tensors_(tensors), kernels_(kernels), model_dir_(model_dir) {
    const int64_t hidden = hp.hidden_size, inter = hp.intermediate_size, vocab = hp.vocab_size;
    const int64_t q_dim = int64_t(hp.n_heads) * hp.head_dim, kv_dim = int64_t(hp.n_kv_heads) * hp.head_dim;
    const llmatc_dtype norm_storage = LLMATC_DTYPE_F32;
    try {
        embed_tokens = prepare("model.embed_tokens.weight", {vocab, hidden}, storage);
        layers.resize(hp.n_layers);
        for (int32_t l = 0; l < hp.n_layers; ++l) {
            const std::string p = "model.layers." + std::to_string(l) + ".";
            LlamaLayerWeights& w = layers[l];
            w.attn_norm = prepare(p + "input_layernorm.weight", {hidden}, norm_storage);
            w.q_proj = prepare(p + "self_attn.q_proj.weight", {q_dim, hidden}, storage);
            w.k_proj = prepare(p + "self_attn.k_proj.weight", {kv_dim, hidden}, storage);
            w.v_proj = prepare(p + "self_attn.v_proj.weight", {kv_dim, hidden}, storage);
            w.o_proj = prepare(p + "self_attn.o_proj.weight", {hidden, q_dim}, storage);
            w.ffn_norm = prepare(p + "post_attention_layernorm.weight", {hidden}, norm_storage);
            w.gate_proj = prepare(p + "mlp.gate_proj.weight", {inter, hidden}, storage);
            w.up_proj = prepare(p + "mlp.up_proj.weight", {inter, hidden}, storage);
            w.down_proj = prepare(p + "mlp.down_proj.weight", {hidden, inter}, storage);
        }
        final_norm = prepare("model.norm.weight", {hidden}, norm_storage);
        // A tied checkpoint may still carry a copy of lm_head.weight; HF then ignores it, and so do we.
        if (!hp.tie_word_embeddings) {
            lm_head = prepare("lm_head.weight", {vocab, hidden}, storage);
        } else {
            lm_head = embed_tokens;
        }
        // Decode reads one embedding row, every other weight once, and lm_head (the table again when tied).
        const uint64_t embed_bytes = kernels_.weight_bytes(kernels_.ctx, embed_tokens);
        bytes_per_token_ = total_bytes_ - embed_bytes + embed_bytes / uint64_t(vocab) +
                           (lm_head == embed_tokens ? embed_bytes : 0);
    } catch (...) {
        for (llmatc_weight* w : owned_) kernels_.weight_destroy(kernels_.ctx, w);
        throw;
    }
}

LlamaWeights::~LlamaWeights() {
    for (llmatc_weight* w : owned_) kernels_.weight_destroy(kernels_.ctx, w);
}

llmatc_weight* LlamaWeights::prepare(const std::string& name, std::vector<int64_t> shape, llmatc_dtype storage) {
    const std::string where = "tensor \"" + name + "\" of " + model_dir_;
    if (!tensors_.has(tensors_.ctx, name.c_str()))
        throw LlamaError(LLMATC_ERR_NOT_FOUND, "missing " + where + " (expected shape " +
                                                   shape_text(shape.data(), int32_t(shape.size())) + ")");
    llmatc_tensor_view view{};
    view.struct_size = sizeof(view);
    view.abi_version = LLMATC_ABI_VERSION;
    if (llmatc_status st = tensors_.get(tensors_.ctx, name.c_str(), &view); st != LLMATC_OK)
        throw LlamaError(st, "cannot read " + where + ": " + host_last_error());
    // Once weight_create has copied the view (or failed), the source may free what it made for it.
    struct Release {
        const llmatc_tensor_source& source;
        const char* name;
        ~Release() {
            if (source.struct_size >= offsetof(llmatc_tensor_source, release) + sizeof(source.release) &&
                source.release)
                source.release(source.ctx, name);
        }
    } release{tensors_, name.c_str()};

    bool shape_ok = view.n_dims == int32_t(shape.size());
    for (size_t i = 0; shape_ok && i < shape.size(); ++i) shape_ok = view.shape[i] == shape[i];
    if (!shape_ok)
        throw LlamaError(LLMATC_ERR_CORRUPT, where + " has shape " +
                                                 shape_text(view.shape, view.n_dims < 0 ? 0 : view.n_dims) +
                                                 ", expected " + shape_text(shape.data(), int32_t(shape.size())) +
                                                 " from config.json");

    const llmatc_dtype target = storage_for(storage, view.dtype, shape.back());
    if (!keeps_own_dtype(storage) && target != storage) ++fallbacks_;
    llmatc_weight* weight = nullptr;
    if (llmatc_status st = kernels_.weight_create(kernels_.ctx, &view, target, &weight); st != LLMATC_OK)
        throw LlamaError(st, "cannot prepare " + where + " on the " + kernels_.name + " backend: " + host_last_error());
    owned_.push_back(weight);
    total_bytes_ += kernels_.weight_bytes(kernels_.ctx, weight);
    return weight;
}

}  // namespace llmatc::llama
