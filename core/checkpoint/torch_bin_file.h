// core/checkpoint/torch_bin_file.h — one PyTorch pytorch_model*.bin (torch.save zip): its state dict's tensors.
#pragma once

#include <filesystem>
#include <string>
#include <unordered_map>
#include <vector>

#include "checkpoint/tensor_entry.h"
#include "checkpoint/zip_archive.h"

namespace llmatc::checkpoint_detail {

// Opens the archive, runs the restricted unpickler over <archive>/data.pkl and resolves every tensor to its bytes
// in <archive>/data/<key>: zero-copy from the mapping when stored, decompressed once otherwise. Validates dtype,
// contiguity (row-major strides), storage bounds and the archive's byte order up front; throws llmatc::Error
// naming the file and the tensor. The legacy pre-1.6 (non-zip) torch.save format is refused with its own message.
class TorchBinFile {
public:
    explicit TorchBinFile(const std::filesystem::path& path);

    const std::filesystem::path& path() const { return zip_.path(); }
    const std::vector<TensorEntry>& tensors() const { return tensors_; }
    const TensorEntry* find(const std::string& name) const;

private:
    ZipArchive zip_;
    std::vector<TensorEntry> tensors_;
    std::unordered_map<std::string, size_t> by_name_;
};

}  // namespace llmatc::checkpoint_detail
