// core/checkpoint/zip_archive.cpp — libzip over a read-only mapping; stored entries served zero-copy.
#include "checkpoint/zip_archive.h"

#include <zip.h>

#include <algorithm>

#include "util/error.h"

namespace llmatc::checkpoint_detail {

namespace {

uint16_t le16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }
uint32_t le32(const uint8_t* p) { return le16(p) | (static_cast<uint32_t>(le16(p + 2)) << 16); }
uint64_t le64(const uint8_t* p) { return le32(p) | (static_cast<uint64_t>(le32(p + 4)) << 32); }

constexpr uint32_t kLocalHeaderSig = 0x04034b50;
constexpr uint32_t kCentralHeaderSig = 0x02014b50;
constexpr uint32_t kEndOfCentralDirSig = 0x06054b50;
constexpr uint32_t kZip64LocatorSig = 0x07064b50;
constexpr uint32_t kZip64EndSig = 0x06064b50;

}  // namespace

ZipArchive::ZipArchive(const std::filesystem::path& path) : file_(path) {
    zip_error_t error;
    zip_error_init(&error);
    zip_source_t* source = zip_source_buffer_create(file_.data(), file_.size(), 0, &error);
    if (source == nullptr) {
        const std::string msg = zip_error_strerror(&error);
        zip_error_fini(&error);
        throw Error(LLMATC_ERR_IO, path.string() + ": cannot read as a zip archive: " + msg);
    }
    zip_ = zip_open_from_source(source, ZIP_RDONLY | ZIP_CHECKCONS, &error);
    if (zip_ == nullptr) {
        zip_source_free(source);
        const std::string msg = zip_error_strerror(&error);
        zip_error_fini(&error);
        throw Error(LLMATC_ERR_CORRUPT, path.string() + ": not a valid zip archive (truncated or corrupt): " + msg);
    }
    zip_error_fini(&error);

    const zip_int64_t count = zip_get_num_entries(zip_, 0);
    for (zip_int64_t i = 0; i < count; ++i) {
        const char* name = zip_get_name(zip_, static_cast<zip_uint64_t>(i), ZIP_FL_ENC_RAW);
        names_.emplace_back(name ? name : "");
    }
    try {
        read_local_header_offsets();
    } catch (...) {
        zip_discard(zip_);
        throw;
    }
}

ZipArchive::~ZipArchive() {
    if (zip_ != nullptr) zip_discard(zip_);  // read-only: nothing to write back
}

// Walks the central directory (zip64 aware: torch writes zip64 records for archives above 4 GB) only to learn
// each entry's local header offset. libzip has already validated this directory (ZIP_CHECKCONS), but every
// read is still bounds-checked because this code does not rely on that.
void ZipArchive::read_local_header_offsets() {
    const uint8_t* base = file_.data();
    const uint64_t size = file_.size();
    auto fail = [&](const std::string& what) -> void {
        throw Error(LLMATC_ERR_CORRUPT, path().string() + ": corrupt zip central directory: " + what);
    };
    if (size < 22) fail("file too short");
    // The end record is the last 22 bytes plus a comment of at most 65535 bytes.
    uint64_t eocd = UINT64_MAX;
    const uint64_t lowest = size > 22 + 65535 ? size - 22 - 65535 : 0;
    for (uint64_t pos = size - 22;; --pos) {
        if (le32(base + pos) == kEndOfCentralDirSig) {
            eocd = pos;
            break;
        }
        if (pos == lowest) break;
    }
    if (eocd == UINT64_MAX) fail("no end-of-central-directory record");
    uint64_t entries = le16(base + eocd + 10);
    uint64_t cd_offset = le32(base + eocd + 16);
    if (entries == 0xffff || cd_offset == 0xffffffffu) {
        if (eocd < 20 || le32(base + eocd - 20) != kZip64LocatorSig) fail("zip64 locator missing");
        const uint64_t end64 = le64(base + eocd - 20 + 8);
        if (end64 > size || size - end64 < 56 || le32(base + end64) != kZip64EndSig) fail("bad zip64 end record");
        entries = le64(base + end64 + 32);
        cd_offset = le64(base + end64 + 48);
    }
    if (entries != names_.size()) fail("entry count disagrees with libzip's");
    uint64_t pos = cd_offset;
    for (uint64_t i = 0; i < entries; ++i) {
        if (pos > size || size - pos < 46 || le32(base + pos) != kCentralHeaderSig) fail("bad central header");
        const uint16_t name_len = le16(base + pos + 28);
        const uint16_t extra_len = le16(base + pos + 30);
        const uint16_t comment_len = le16(base + pos + 32);
        if (size - pos - 46 < static_cast<uint64_t>(name_len) + extra_len + comment_len) fail("header past the end");
        const uint8_t* name = base + pos + 46;
        if (std::string(reinterpret_cast<const char*>(name), name_len) != names_[i]) fail("entry order disagrees with libzip's");
        uint64_t offset = le32(base + pos + 42);
        if (offset == 0xffffffffu) {
            // Zip64 extended information: the 64-bit fields present are those whose 32-bit field is saturated.
            const uint8_t* extra = name + name_len;
            bool found = false;
            for (uint32_t e = 0; e + 4 <= extra_len;) {
                const uint16_t id = le16(extra + e);
                const uint16_t len = le16(extra + e + 2);
                if (e + 4 + len > extra_len) break;
                if (id == 0x0001) {
                    uint32_t field = 0;
                    if (le32(base + pos + 24) == 0xffffffffu) field += 8;  // uncompressed size
                    if (le32(base + pos + 20) == 0xffffffffu) field += 8;  // compressed size
                    if (field + 8 > len) break;
                    offset = le64(extra + e + 4 + field);
                    found = true;
                    break;
                }
                e += 4 + len;
            }
            if (!found) fail("zip64 offset of '" + names_[i] + "' missing");
        }
        local_header_offsets_.push_back(offset);
        pos += 46 + static_cast<uint64_t>(name_len) + extra_len + comment_len;
    }
}

bool ZipArchive::has_entry(const std::string& name) const {
    return std::find(names_.begin(), names_.end(), name) != names_.end();
}

uint64_t ZipArchive::index_of(const std::string& name) const {
    const auto it = std::find(names_.begin(), names_.end(), name);
    if (it == names_.end()) {
        throw Error(LLMATC_ERR_CORRUPT, path().string() + ": zip entry '" + name + "' is missing");
    }
    return static_cast<uint64_t>(it - names_.begin());
}

uint64_t ZipArchive::entry_size(const std::string& name) const {
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat_index(zip_, index_of(name), 0, &st) != 0 || !(st.valid & ZIP_STAT_SIZE)) {
        throw Error(LLMATC_ERR_CORRUPT, path().string() + ": cannot stat zip entry '" + name + "'");
    }
    return st.size;
}

std::vector<uint8_t> ZipArchive::read_through_libzip(uint64_t index, uint64_t size) {
    zip_file_t* f = zip_fopen_index(zip_, index, 0);
    if (f == nullptr) {
        throw Error(LLMATC_ERR_UNSUPPORTED, path().string() + ": cannot open zip entry '" + names_[index] +
                                                "': " + zip_strerror(zip_));
    }
    std::vector<uint8_t> out(size);
    uint64_t done = 0;
    while (done < size) {
        const zip_int64_t n = zip_fread(f, out.data() + done, size - done);
        if (n <= 0) {
            const std::string msg = n < 0 ? zip_file_strerror(f) : "unexpected end of data";
            zip_fclose(f);
            throw Error(LLMATC_ERR_CORRUPT, path().string() + ": zip entry '" + names_[index] + "' is corrupt: " + msg);
        }
        done += static_cast<uint64_t>(n);
    }
    // A last read to reach end-of-entry makes libzip verify the CRC.
    uint8_t extra;
    const zip_int64_t tail = zip_fread(f, &extra, 1);
    if (tail != 0) {
        const std::string msg = tail < 0 ? zip_file_strerror(f) : "longer than its recorded size";
        zip_fclose(f);
        throw Error(LLMATC_ERR_CORRUPT, path().string() + ": zip entry '" + names_[index] + "' is corrupt: " + msg);
    }
    zip_fclose(f);
    return out;
}

std::vector<uint8_t> ZipArchive::read_entry_checked(const std::string& name, uint64_t max_bytes) {
    const uint64_t index = index_of(name);
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat_index(zip_, index, 0, &st) != 0 || !(st.valid & ZIP_STAT_SIZE)) {
        throw Error(LLMATC_ERR_CORRUPT, path().string() + ": cannot stat zip entry '" + name + "'");
    }
    if (st.size > max_bytes) {
        throw Error(LLMATC_ERR_CORRUPT, path().string() + ": zip entry '" + name + "' is " + std::to_string(st.size) +
                                            " bytes, above the " + std::to_string(max_bytes) + "-byte limit");
    }
    return read_through_libzip(index, st.size);
}

std::span<const uint8_t> ZipArchive::entry_data(const std::string& name, uint64_t max_bytes) {
    const uint64_t index = index_of(name);
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat_index(zip_, index, 0, &st) != 0 || !(st.valid & ZIP_STAT_SIZE) ||
        !(st.valid & ZIP_STAT_COMP_SIZE) || !(st.valid & ZIP_STAT_COMP_METHOD)) {
        throw Error(LLMATC_ERR_CORRUPT, path().string() + ": cannot stat zip entry '" + name + "'");
    }
    if (st.size > max_bytes) {
        throw Error(LLMATC_ERR_CORRUPT, path().string() + ": zip entry '" + name + "' is " + std::to_string(st.size) +
                                            " bytes, above the " + std::to_string(max_bytes) + "-byte limit");
    }
    if (st.comp_method != ZIP_CM_STORE || (st.valid & ZIP_STAT_ENCRYPTION_METHOD && st.encryption_method != ZIP_EM_NONE)) {
        decompressed_.push_back(read_through_libzip(index, st.size));
        return {decompressed_.back().data(), decompressed_.back().size()};
    }
    // Stored: the data follows the local header (30 bytes + name + extra field; the extra may differ from the
    // central directory's, so it is read here).
    const uint8_t* base = file_.data();
    const uint64_t size = file_.size();
    const uint64_t header = local_header_offsets_[index];
    if (header > size || size - header < 30 || le32(base + header) != kLocalHeaderSig) {
        throw Error(LLMATC_ERR_CORRUPT, path().string() + ": zip entry '" + name + "': bad local header");
    }
    const uint64_t data = header + 30 + le16(base + header + 26) + le16(base + header + 28);
    if (st.comp_size != st.size || data > size || size - data < st.size) {
        throw Error(LLMATC_ERR_CORRUPT, path().string() + ": zip entry '" + name + "' (" + std::to_string(st.size) +
                                            " bytes) goes past the end of the file (truncated?)");
    }
    return {base + data, static_cast<size_t>(st.size)};
}

}  // namespace llmatc::checkpoint_detail
