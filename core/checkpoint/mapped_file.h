// core/checkpoint/mapped_file.h — a whole file memory-mapped read-only (RAII), the storage behind tensor views.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>

namespace llmatc::checkpoint_detail {

// Maps `path` read-only and private. Throws llmatc::Error naming the file when it cannot be opened or mapped.
// An empty file maps to (nullptr, 0). Not copyable; the mapping lives as long as the object.
class MappedFile {
public:
    explicit MappedFile(const std::filesystem::path& path);
    ~MappedFile();
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;

    const std::filesystem::path& path() const { return path_; }
    const uint8_t* data() const { return data_; }
    uint64_t size() const { return size_; }

private:
    std::filesystem::path path_;
    const uint8_t* data_ = nullptr;
    uint64_t size_ = 0;
};

}  // namespace llmatc::checkpoint_detail
