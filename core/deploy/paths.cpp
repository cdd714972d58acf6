// core/deploy/paths.cpp — the state folder, cluster folders and private-file writing.
#include "deploy/paths.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "util/error.h"

namespace llmatc::deploy {

namespace fs = std::filesystem;

void make_private_dir(const fs::path& dir) {
    if (dir.empty() || fs::is_directory(dir)) return;
    make_private_dir(dir.parent_path());
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
        throw Error(LLMATC_ERR_IO, "cannot create folder " + dir.string() + ": " + std::strerror(errno));
}

fs::path llmatc_home() {
    fs::path home;
    if (const char* h = std::getenv("LLMATC_HOME"); h && *h) {
        home = h;
    } else if (const char* u = std::getenv("HOME"); u && *u) {
        home = fs::path(u) / ".llm-atc";
    } else {
        throw Error(LLMATC_ERR_INVALID_ARGUMENT, "neither LLMATC_HOME nor HOME is set: set LLMATC_HOME to a folder for "
                                                 "llm-atc's state");
    }
    make_private_dir(home);
    return home;
}

void validate_cluster_name(const std::string& name) {
    bool ok = !name.empty() && name.size() <= 63 && std::isalnum(static_cast<unsigned char>(name[0]));
    for (char c : name) ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.');
    if (!ok)
        throw Error(LLMATC_ERR_INVALID_ARGUMENT, "invalid cluster name '" + name +
                                                     "': use 1-63 letters, digits, '.', '_' or '-', starting with a "
                                                     "letter or digit");
}

fs::path cluster_dir(const std::string& cluster) {
    validate_cluster_name(cluster);
    fs::path dir = llmatc_home() / "clusters" / cluster;
    make_private_dir(dir);
    return dir;
}

void write_file_atomically(const fs::path& path, const std::string& content, unsigned mode) {
    make_private_dir(path.parent_path());
    const fs::path tmp = path.string() + ".tmp-" + std::to_string(::getpid());
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0) throw Error(LLMATC_ERR_IO, "cannot write " + tmp.string() + ": " + std::strerror(errno));
    ::fchmod(fd, mode);  // the umask must not widen or narrow what the caller asked for
    size_t done = 0;
    while (done < content.size()) {
        ssize_t n = ::write(fd, content.data() + done, content.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            int err = errno;
            ::close(fd);
            ::unlink(tmp.c_str());
            throw Error(LLMATC_ERR_IO, "cannot write " + tmp.string() + ": " + std::strerror(err));
        }
        done += static_cast<size_t>(n);
    }
    if (::fsync(fd) != 0 || ::close(fd) != 0 || ::rename(tmp.c_str(), path.c_str()) != 0) {
        int err = errno;
        ::unlink(tmp.c_str());
        throw Error(LLMATC_ERR_IO, "cannot write " + path.string() + ": " + std::strerror(err));
    }
}

std::string read_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error(LLMATC_ERR_IO, "cannot read " + path.string());
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

fs::path self_executable() {
    std::error_code ec;
    fs::path p = fs::read_symlink("/proc/self/exe", ec);
    if (ec) throw Error(LLMATC_ERR_INTERNAL, "cannot find this executable's path (/proc/self/exe): " + ec.message());
    return p;
}

}  // namespace llmatc::deploy
