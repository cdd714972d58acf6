// core/checkpoint/torch_bin_file.cpp — torch.save zip archives: pickle → tensor records → views into the archive.
#include "checkpoint/torch_bin_file.h"

#include <cstring>
#include <fstream>
#include <map>

#include "checkpoint/dtype.h"
#include "checkpoint/torch_unpickler.h"
#include "util/error.h"

namespace llmatc::checkpoint_detail {

namespace {

// data.pkl of even a 70B model is a few hundred kilobytes; anything far larger is not a state dict.
constexpr uint64_t kMaxPickleBytes = 64ull << 20;

// Refuses, before libzip sees it, a file that is not a zip at all, with a message saying what it is instead.
void check_zip_magic(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error(LLMATC_ERR_NOT_FOUND, path.string() + ": cannot open");
    unsigned char magic[4] = {0, 0, 0, 0};
    in.read(reinterpret_cast<char*>(magic), 4);
    if (in.gcount() == 4 && magic[0] == 'P' && magic[1] == 'K' && magic[2] == 3 && magic[3] == 4) return;
    if (in.gcount() >= 1 && magic[0] == 0x80) {
        throw Error(LLMATC_ERR_UNSUPPORTED, path.string() + ": legacy (pre-1.6, non-zip) torch.save format is not "
                                                            "supported; re-save it with torch >= 1.6 or as safetensors");
    }
    throw Error(LLMATC_ERR_CORRUPT, path.string() + ": not a PyTorch checkpoint (a torch.save zip archive)" +
                                        (in.gcount() < 4 ? std::string(": file truncated") : std::string()));
}

// Row-major (C-contiguous) strides for `shape`; dimensions of size 1 may carry any stride.
bool is_contiguous(const std::vector<int64_t>& shape, const std::vector<int64_t>& stride) {
    int64_t expected = 1;
    for (size_t i = shape.size(); i-- > 0;) {
        if (shape[i] == 0) return true;  // an empty tensor reads no bytes
        if (shape[i] != 1 && stride[i] != expected) return false;
        expected *= shape[i];
    }
    return true;
}

std::string stride_string(const std::vector<int64_t>& stride) { return shape_string(stride); }

}  // namespace

TorchBinFile::TorchBinFile(const std::filesystem::path& path) : zip_((check_zip_magic(path), path)) {
    const std::string file = path.string();
    // torch.save writes every entry under one top-level folder named after the file: <archive>/data.pkl.
    std::string prefix;
    for (const auto& name : zip_.entry_names()) {
        const auto slash = name.find('/');
        if (slash != std::string::npos && name.compare(slash, std::string::npos, "/data.pkl") == 0) {
            if (!prefix.empty()) throw Error(LLMATC_ERR_CORRUPT, file + ": archive holds more than one data.pkl");
            prefix = name.substr(0, slash + 1);
        }
    }
    if (prefix.empty()) {
        throw Error(LLMATC_ERR_CORRUPT, file + ": zip archive has no <archive>/data.pkl: not written by torch.save");
    }
    if (zip_.has_entry(prefix + "byteorder")) {
        const auto order = zip_.read_entry_checked(prefix + "byteorder", 16);
        if (std::string(order.begin(), order.end()) != "little") {
            throw Error(LLMATC_ERR_UNSUPPORTED, file + ": saved with byte order '" +
                                                    std::string(order.begin(), order.end()) + "'; only little-endian is supported");
        }
    }

    const std::vector<uint8_t> pickle = zip_.read_entry_checked(prefix + "data.pkl", kMaxPickleBytes);
    const std::vector<TorchTensorRecord> records = unpickle_state_dict(pickle, file);

    std::map<std::string, std::span<const uint8_t>> storages;  // by key, resolved once
    for (const TorchTensorRecord& r : records) {
        auto fail = [&](llmatc_status status, const std::string& what) {
            throw Error(status, file + ": tensor '" + r.name + "': " + what);
        };
        if (!r.dtype) fail(LLMATC_ERR_UNSUPPORTED, "unsupported dtype " + r.storage_type + " (supported: F32, F16, BF16, I32, I64)");
        if (r.shape.size() > LLMATC_MAX_DIMS) {
            fail(LLMATC_ERR_UNSUPPORTED, std::to_string(r.shape.size()) + " dimensions " + shape_string(r.shape) +
                                             ", at most " + std::to_string(LLMATC_MAX_DIMS) + " are supported");
        }
        const uint64_t element = dtype_element_size(*r.dtype);
        const auto nbytes = checked_byte_size(r.shape, element);
        if (!nbytes) fail(LLMATC_ERR_CORRUPT, "invalid shape " + shape_string(r.shape));
        if (!is_contiguous(r.shape, r.stride)) {
            fail(LLMATC_ERR_UNSUPPORTED, "non-contiguous strides " + stride_string(r.stride) + " for shape " +
                                             shape_string(r.shape) + "; save it with .contiguous()");
        }

        auto it = storages.find(r.storage_key);
        if (it == storages.end()) {
            const std::string entry = prefix + "data/" + r.storage_key;
            if (!zip_.has_entry(entry)) fail(LLMATC_ERR_CORRUPT, "its storage '" + entry + "' is missing from the archive");
            const auto expected = checked_byte_size({static_cast<int64_t>(r.storage_numel)}, element);
            const uint64_t stored = zip_.entry_size(entry);
            if (!expected || stored != *expected) {
                fail(LLMATC_ERR_CORRUPT, "storage '" + entry + "' holds " + std::to_string(stored) + " bytes, but " +
                                             std::to_string(r.storage_numel) + " elements of " + r.storage_type + " need " +
                                             (expected ? std::to_string(*expected) : std::string("more than 2^64")));
            }
            it = storages.emplace(r.storage_key, zip_.entry_data(entry, stored)).first;
        }
        const std::span<const uint8_t> storage = it->second;
        // offset and size both bounded by the storage's size, which fits in memory: no overflow below.
        if (r.storage_offset > storage.size() / element || *nbytes > storage.size() - r.storage_offset * element) {
            fail(LLMATC_ERR_CORRUPT, "shape " + shape_string(r.shape) + " at storage offset " +
                                         std::to_string(r.storage_offset) + " goes past the end of storage '" +
                                         r.storage_key + "' (" + std::to_string(storage.size()) + " bytes)");
        }
        TensorEntry entry;
        entry.name = r.name;
        entry.dtype = *r.dtype;
        entry.shape = r.shape;
        entry.data = storage.data() + r.storage_offset * element;
        entry.nbytes = *nbytes;
        by_name_.emplace(entry.name, tensors_.size());
        tensors_.push_back(std::move(entry));
    }
}

const TensorEntry* TorchBinFile::find(const std::string& name) const {
    auto it = by_name_.find(name);
    return it == by_name_.end() ? nullptr : &tensors_[it->second];
}

}  // namespace llmatc::checkpoint_detail
