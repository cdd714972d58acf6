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

    // Unmaps the resident pages of every live mapping from this process (madvise MADV_DONTNEED; safe because the
    // mappings are private, read-only and never written: a page touched again is read back from the file). Called
    // once a model's weights have been copied into their kernel layouts, so the checkpoint's pages do not stay
    // resident beside the copies; weights still read in place simply fault their pages back in.
    static void drop_all_resident_pages();
    // The same for the whole pages of [data, data + bytes) when that range lies inside a live mapping; anything else
    // (a buffer of decompressed or realigned bytes, where MADV_DONTNEED would zero it) is left alone.
    static void drop_resident_pages(const void* data, uint64_t bytes);
    const uint8_t* data() const { return data_; }
    uint64_t size() const { return size_; }

private:
    std::filesystem::path path_;
    const uint8_t* data_ = nullptr;
    uint64_t size_ = 0;
};

}  // namespace llmatc::checkpoint_detail
