// core/checkpoint/checkpoint.h — a Hugging Face checkpoint directory opened for reading: configs and memory-mapped tensors.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "llmatc/model.h"

namespace llmatc {

// Opens config.json, generation_config.json (optional) and the weights: model.safetensors, sharded
// model-0000x-of-0000y.safetensors with model.safetensors.index.json, or pytorch_model*.bin (zip + restricted
// unpickler), or - when there is no config.json - a single llama.cpp *.gguf (see gguf_file.h; config.json is then
// synthesised from its metadata). Tensors are memory-mapped where the format allows. Every failure throws llmatc::Error with a message
// naming the file (and the tensor) at fault. Tensor dtypes: F32, F16, BF16 (and I32/I64 buffers); anything else
// is refused at open. Everything is validated in open(); afterwards the object is immutable and thread-safe.
class Checkpoint {
public:
    static std::unique_ptr<Checkpoint> open(const std::filesystem::path& dir);
    virtual ~Checkpoint() = default;

    virtual const std::filesystem::path& dir() const = 0;
    // config.json's text.
    virtual const std::string& config_json() const = 0;
    // The `eos_token_id`s of generation_config.json (a number or a list), else config.json's; may be empty.
    virtual const std::vector<int32_t>& eos_token_ids() const = 0;
    // All tensor names, sorted.
    virtual std::vector<std::string> tensor_names() const = 0;
    // A tensor's dtype, number of dimensions and size in bytes, without handing it out (so no copy is made);
    // false when there is no such tensor.
    virtual bool tensor_info(const std::string& name, llmatc_dtype* dtype, int* n_dims, uint64_t* nbytes) const = 0;
    // The C view handed to model plugins; valid while this object lives. Views point into the file mappings
    // (zero-copy), aligned to their element size; a tensor its file stores misaligned is copied once at open.
    // A GGUF q/k weight is handed out as a copy with its rows in Hugging Face order, made when it is first requested
    // and flagged LLMATC_TENSOR_TRANSIENT (a backend copies it; the checkpoint's own pages of it are let go); the
    // source's release frees it once every get of it has been released.
    virtual const llmatc_tensor_source* source() const = 0;
    // Frees the LLMATC_TENSOR_TRANSIENT copies handed out so far. Called once the model built from source() exists:
    // its weights hold their own copies by then. A later request makes a new copy.
    virtual void release_transient_copies() = 0;
};

}  // namespace llmatc
