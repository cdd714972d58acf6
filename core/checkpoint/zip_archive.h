// core/checkpoint/zip_archive.h — a zip archive (torch.save's container) read over a memory mapping with libzip.
#pragma once

#include <cstdint>
#include <filesystem>
#include <list>
#include <span>
#include <string>
#include <vector>

#include "checkpoint/mapped_file.h"

struct zip;

namespace llmatc::checkpoint_detail {

// libzip indexes the entries and decompresses; stored (uncompressed) entries — what torch.save writes for tensor
// data — are served straight from the mapping, so a 10 GB shard costs no copy. libzip has no public call for an
// entry's data offset, so that one number is read from the central directory here and checked against the local
// header. Every failure throws llmatc::Error naming the archive (and the entry).
class ZipArchive {
public:
    explicit ZipArchive(const std::filesystem::path& path);
    ~ZipArchive();
    ZipArchive(const ZipArchive&) = delete;
    ZipArchive& operator=(const ZipArchive&) = delete;

    const std::filesystem::path& path() const { return file_.path(); }
    const std::vector<std::string>& entry_names() const { return names_; }
    bool has_entry(const std::string& name) const;
    // The entry's uncompressed size as the central directory records it.
    uint64_t entry_size(const std::string& name) const;

    // The entry's bytes, valid while the archive lives: a view into the mapping when stored, otherwise a buffer
    // decompressed (and CRC-checked) by libzip and kept by the archive. Entries whose uncompressed size exceeds
    // `max_bytes` are refused.
    std::span<const uint8_t> entry_data(const std::string& name, uint64_t max_bytes = UINT64_MAX);

    // The entry's bytes always read through libzip (decompressed and CRC-checked), copied; for small entries
    // such as the pickle, where verifying the checksum is cheap.
    std::vector<uint8_t> read_entry_checked(const std::string& name, uint64_t max_bytes);

private:
    uint64_t index_of(const std::string& name) const;
    std::vector<uint8_t> read_through_libzip(uint64_t index, uint64_t size);
    void read_local_header_offsets();

    MappedFile file_;
    zip* zip_ = nullptr;
    std::vector<std::string> names_;
    std::vector<uint64_t> local_header_offsets_;  // by libzip index (= central directory order)
    std::list<std::vector<uint8_t>> decompressed_;  // owns what entry_data handed out for compressed entries
};

}  // namespace llmatc::checkpoint_detail
