// core/checkpoint/safetensors_file.cpp — safetensors header validation and tensor location.
#include "checkpoint/safetensors_file.h"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <algorithm>
#include <cstring>

#include "checkpoint/dtype.h"
#include "llmatc/kernels.h"
#include "util/error.h"

namespace llmatc::checkpoint_detail {

namespace {

// The reference implementation refuses headers above 100 MB; so do we, before parsing anything that large.
constexpr uint64_t kMaxHeaderBytes = 100ull * 1000 * 1000;

[[noreturn]] void corrupt(const std::filesystem::path& path, const std::string& what) {
    throw Error(LLMATC_ERR_CORRUPT, path.string() + ": " + what);
}

[[noreturn]] void corrupt_tensor(const std::filesystem::path& path, const std::string& tensor, const std::string& what) {
    throw Error(LLMATC_ERR_CORRUPT, path.string() + ": tensor '" + tensor + "': " + what);
}

}  // namespace

SafetensorsFile::SafetensorsFile(const std::filesystem::path& path) : file_(path) {
    const uint64_t file_size = file_.size();
    if (file_size < 8) {
        corrupt(path, "truncated safetensors file: " + std::to_string(file_size) +
                          " bytes, shorter than the 8-byte header length");
    }
    uint64_t header_len = 0;
    for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | file_.data()[i];  // little-endian u64
    if (header_len > file_size - 8) {
        corrupt(path, "bad safetensors header length " + std::to_string(header_len) + ": bigger than the file (" +
                          std::to_string(file_size) + " bytes, truncated or not a safetensors file)");
    }
    if (header_len > kMaxHeaderBytes) {
        corrupt(path, "bad safetensors header length " + std::to_string(header_len) + ": above the 100 MB limit");
    }
    const char* header = reinterpret_cast<const char*>(file_.data() + 8);
    const uint8_t* data_section = file_.data() + 8 + header_len;
    const uint64_t data_size = file_size - 8 - header_len;

    rapidjson::Document doc;
    doc.Parse(header, static_cast<size_t>(header_len));
    if (doc.HasParseError()) {
        corrupt(path, std::string("safetensors header is not valid JSON (") +
                          rapidjson::GetParseError_En(doc.GetParseError()) + " at byte " +
                          std::to_string(doc.GetErrorOffset() + 8) + ")");
    }
    if (!doc.IsObject()) corrupt(path, "safetensors header is not a JSON object");

    for (auto it = doc.MemberBegin(); it != doc.MemberEnd(); ++it) {
        const std::string name(it->name.GetString(), it->name.GetStringLength());
        if (name == "__metadata__") continue;
        const auto& info = it->value;
        if (!info.IsObject()) corrupt_tensor(path, name, "header entry is not a JSON object");
        if (by_name_.count(name)) corrupt_tensor(path, name, "appears twice in the header");

        auto dtype_it = info.FindMember("dtype");
        if (dtype_it == info.MemberEnd() || !dtype_it->value.IsString())
            corrupt_tensor(path, name, "missing or non-string \"dtype\"");
        const std::string dtype_str = dtype_it->value.GetString();
        const auto dtype = checkpoint_dtype_from_name(dtype_str);
        if (!dtype) {
            throw Error(LLMATC_ERR_UNSUPPORTED, path.string() + ": tensor '" + name + "': unsupported dtype " +
                                                    dtype_str + " (supported: F32, F16, BF16, I32, I64)");
        }

        auto shape_it = info.FindMember("shape");
        if (shape_it == info.MemberEnd() || !shape_it->value.IsArray())
            corrupt_tensor(path, name, "missing or non-array \"shape\"");
        TensorEntry entry;
        entry.name = name;
        entry.dtype = *dtype;
        for (const auto& d : shape_it->value.GetArray()) {
            if (!d.IsInt64() || d.GetInt64() < 0) corrupt_tensor(path, name, "shape has a non-integer or negative dimension");
            entry.shape.push_back(d.GetInt64());
        }
        if (entry.shape.size() > LLMATC_MAX_DIMS) {
            throw Error(LLMATC_ERR_UNSUPPORTED, path.string() + ": tensor '" + name + "': " +
                                                    std::to_string(entry.shape.size()) + " dimensions " +
                                                    shape_string(entry.shape) + ", at most " +
                                                    std::to_string(LLMATC_MAX_DIMS) + " are supported");
        }

        auto off_it = info.FindMember("data_offsets");
        if (off_it == info.MemberEnd() || !off_it->value.IsArray() || off_it->value.Size() != 2 ||
            !off_it->value[0].IsUint64() || !off_it->value[1].IsUint64())
            corrupt_tensor(path, name, "\"data_offsets\" is not a pair of non-negative integers");
        const uint64_t begin = off_it->value[0].GetUint64();
        const uint64_t end = off_it->value[1].GetUint64();
        if (begin > end) {
            corrupt_tensor(path, name, "data_offsets [" + std::to_string(begin) + ", " + std::to_string(end) +
                                           "] end before they begin");
        }
        if (end > data_size) {
            corrupt_tensor(path, name, "data_offsets [" + std::to_string(begin) + ", " + std::to_string(end) +
                                           "] go past the end of the data section (" + std::to_string(data_size) +
                                           " bytes; file truncated?)");
        }
        const auto expected = checked_byte_size(entry.shape, dtype_element_size(*dtype));
        if (!expected || *expected != end - begin) {
            corrupt_tensor(path, name, "shape " + shape_string(entry.shape) + " of " + dtype_str + " needs " +
                                           (expected ? std::to_string(*expected) : std::string("more than 2^64")) +
                                           " bytes but data_offsets span " + std::to_string(end - begin));
        }
        entry.data = data_section + begin;
        entry.nbytes = end - begin;
        by_name_.emplace(name, tensors_.size());
        tensors_.push_back(std::move(entry));
    }

    // Overlap check: sorted by start, each non-empty span must begin at or after the previous one's end.
    std::vector<const TensorEntry*> by_start;
    for (const auto& t : tensors_)
        if (t.nbytes > 0) by_start.push_back(&t);
    std::sort(by_start.begin(), by_start.end(),
              [](const TensorEntry* a, const TensorEntry* b) { return a->data < b->data; });
    for (size_t i = 1; i < by_start.size(); ++i) {
        const auto* prev = by_start[i - 1];
        const auto* cur = by_start[i];
        if (static_cast<const uint8_t*>(prev->data) + prev->nbytes > static_cast<const uint8_t*>(cur->data)) {
            corrupt_tensor(path, cur->name, "its bytes overlap those of tensor '" + prev->name + "'");
        }
    }
}

const TensorEntry* SafetensorsFile::find(const std::string& name) const {
    auto it = by_name_.find(name);
    return it == by_name_.end() ? nullptr : &tensors_[it->second];
}

}  // namespace llmatc::checkpoint_detail
