// core/checkpoint/safetensors_file.h — one .safetensors file: its JSON header validated, its tensors memory-mapped.
#pragma once

#include <filesystem>
#include <string>
#include <unordered_map>
#include <vector>

#include "checkpoint/mapped_file.h"
#include "checkpoint/tensor_entry.h"

namespace llmatc::checkpoint_detail {

// Opens and validates the whole header up front: header length within the file, JSON object, every tensor's
// dtype supported, shape × dtype size equal to its byte span, spans inside the data section and not overlapping.
// Any violation throws llmatc::Error naming the file and the tensor. Tensor data stays in the mapping (no copy).
class SafetensorsFile {
public:
    explicit SafetensorsFile(const std::filesystem::path& path);

    const std::filesystem::path& path() const { return file_.path(); }
    const std::vector<TensorEntry>& tensors() const { return tensors_; }
    // nullptr when the file has no tensor of that name.
    const TensorEntry* find(const std::string& name) const;

private:
    MappedFile file_;
    std::vector<TensorEntry> tensors_;
    std::unordered_map<std::string, size_t> by_name_;
};

}  // namespace llmatc::checkpoint_detail
