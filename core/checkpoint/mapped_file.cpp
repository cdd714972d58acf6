// core/checkpoint/mapped_file.cpp — read-only mmap of a checkpoint file.
#include "checkpoint/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <unordered_set>

#include "util/error.h"

namespace llmatc::checkpoint_detail {

namespace {

// The live mappings, for drop_all_resident_pages.
std::mutex& registry_mutex() {
    static std::mutex m;
    return m;
}
std::unordered_set<const MappedFile*>& registry() {
    static std::unordered_set<const MappedFile*> live;
    return live;
}

}  // namespace

MappedFile::MappedFile(const std::filesystem::path& path) : path_(path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        const int err = errno;
        throw Error(err == ENOENT ? LLMATC_ERR_NOT_FOUND : LLMATC_ERR_IO,
                    path.string() + ": cannot open: " + std::strerror(err));
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        const int err = errno;
        ::close(fd);
        throw Error(LLMATC_ERR_IO, path.string() + ": not a readable regular file" +
                                       (err ? std::string(": ") + std::strerror(err) : std::string()));
    }
    size_ = static_cast<uint64_t>(st.st_size);
    if (size_ > 0) {
        void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) {
            const int err = errno;
            ::close(fd);
            throw Error(LLMATC_ERR_IO, path.string() + ": cannot memory-map " + std::to_string(size_) +
                                           " bytes: " + std::strerror(err));
        }
        data_ = static_cast<const uint8_t*>(p);
    }
    // The mapping keeps the file's pages reachable; the descriptor is no longer needed.
    ::close(fd);
    std::lock_guard<std::mutex> lock(registry_mutex());
    registry().insert(this);
}

MappedFile::~MappedFile() {
    {
        std::lock_guard<std::mutex> lock(registry_mutex());
        registry().erase(this);
    }
    if (data_ != nullptr) ::munmap(const_cast<uint8_t*>(data_), size_);
}

void MappedFile::drop_all_resident_pages() {
    std::lock_guard<std::mutex> lock(registry_mutex());
    for (const MappedFile* file : registry())
        if (file->data_ != nullptr) ::madvise(const_cast<uint8_t*>(file->data_), file->size_, MADV_DONTNEED);
}

void MappedFile::drop_resident_pages(const void* data, uint64_t bytes) {
    {
        const auto p = reinterpret_cast<uintptr_t>(data);
        std::lock_guard<std::mutex> lock(registry_mutex());
        bool mapped = false;
        for (const MappedFile* file : registry()) {
            const auto base = reinterpret_cast<uintptr_t>(file->data_);
            mapped = mapped || (file->data_ != nullptr && p >= base && bytes <= file->size_ &&
                                uint64_t(p - base) <= file->size_ - bytes);
        }
        if (!mapped) return;
    }
    const auto page = uint64_t(::sysconf(_SC_PAGESIZE));
    const auto begin = (reinterpret_cast<uint64_t>(data) + page - 1) / page * page;
    const auto end = (reinterpret_cast<uint64_t>(data) + bytes) / page * page;
    if (end > begin) ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);
}

}  // namespace llmatc::checkpoint_detail
