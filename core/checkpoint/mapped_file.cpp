// core/checkpoint/mapped_file.cpp — read-only mmap of a checkpoint file.
#include "checkpoint/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "util/error.h"

namespace llmatc::checkpoint_detail {

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
}

MappedFile::~MappedFile() {
    if (data_ != nullptr) ::munmap(const_cast<uint8_t*>(data_), size_);
}

}  // namespace llmatc::checkpoint_detail
