// core/deploy/ssh_config.cpp — marked-block editing of the user's SSH config.
#include "deploy/ssh_config.h"

#include <sys/stat.h>

#include <cstdlib>

#include "deploy/paths.h"
#include "util/error.h"

namespace llmatc::deploy {

namespace fs = std::filesystem;

namespace {

std::string begin_marker(const std::string& host) {
    return "# >>> llm-atc cluster " + host + " (managed by llm-atc: edits here are replaced) >>>";
}
std::string end_marker(const std::string& host) { return "# <<< llm-atc cluster " + host + " <<<"; }

// The [start, end) byte range of the host's block (marker lines and their newlines included), or npos.
std::pair<size_t, size_t> find_block(const std::string& text, const std::string& host) {
    const std::string begin = begin_marker(host), end = end_marker(host);
    size_t pos = 0;
    while ((pos = text.find(begin, pos)) != std::string::npos) {
        const bool line_start = pos == 0 || text[pos - 1] == '\n';
        const size_t after = pos + begin.size();
        const bool line_end = after == text.size() || text[after] == '\n' || text[after] == '\r';
        if (line_start && line_end) break;
        pos = after;
    }
    if (pos == std::string::npos) return {std::string::npos, std::string::npos};
    size_t end_pos = text.find("\n" + end, pos);
    if (end_pos == std::string::npos)
        throw Error(LLMATC_ERR_CORRUPT, "the SSH config has llm-atc's begin line for cluster '" + host +
                                            "' but not its end line '" + end + "': fix or remove that block by hand");
    end_pos += 1 + end.size();
    if (end_pos < text.size() && text[end_pos] == '\r') ++end_pos;
    if (end_pos < text.size() && text[end_pos] == '\n') ++end_pos;
    return {pos, end_pos};
}

fs::path resolve_symlink(const fs::path& path) {
    std::error_code ec;
    if (fs::is_symlink(path, ec)) {
        fs::path target = fs::read_symlink(path, ec);
        if (!ec) return target.is_absolute() ? target : path.parent_path() / target;
    }
    return path;
}

}  // namespace

std::string render_ssh_block(const SshHostEntry& e) {
    return begin_marker(e.host) + "\n" +
           "Host " + e.host + "\n" +
           "  HostName " + e.hostname + "\n" +
           "  User " + e.user + "\n" +
           "  IdentityFile \"" + e.identity_file + "\"\n" +
           "  Port " + std::to_string(e.port) + "\n" +
           "  IdentitiesOnly yes\n" +
           // Cluster nodes are re-created with new host keys under the same name: do not pin them in known_hosts.
           "  StrictHostKeyChecking no\n" +
           "  UserKnownHostsFile /dev/null\n" +
           "  LogLevel ERROR\n" +
           end_marker(e.host) + "\n";
}

std::string upsert_ssh_block(const std::string& text, const SshHostEntry& entry) {
    const auto [start, end] = find_block(text, entry.host);
    if (start == std::string::npos) return render_ssh_block(entry) + text;
    return text.substr(0, start) + render_ssh_block(entry) + text.substr(end);
}

std::string remove_ssh_block(const std::string& text, const std::string& host) {
    const auto [start, end] = find_block(text, host);
    if (start == std::string::npos) return text;
    return text.substr(0, start) + text.substr(end);
}

fs::path default_ssh_config_path() {
    const char* home = std::getenv("HOME");
    if (!home || !*home) throw Error(LLMATC_ERR_INVALID_ARGUMENT, "HOME is not set: cannot find ~/.ssh/config");
    return fs::path(home) / ".ssh" / "config";
}

void write_ssh_config_entry(const fs::path& config_path, const SshHostEntry& entry) {
    const fs::path path = resolve_symlink(config_path);
    struct stat st {};
    unsigned mode = 0600;
    std::string text;
    if (::stat(path.c_str(), &st) == 0) {
        mode = st.st_mode & 07777;
        text = read_file(path);
    } else {
        make_private_dir(path.parent_path());
    }
    write_file_atomically(path, upsert_ssh_block(text, entry), mode);
}

void remove_ssh_config_entry(const fs::path& config_path, const std::string& host) {
    const fs::path path = resolve_symlink(config_path);
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return;
    const std::string text = read_file(path);
    const std::string updated = remove_ssh_block(text, host);
    if (updated != text) write_file_atomically(path, updated, st.st_mode & 07777);
}

}  // namespace llmatc::deploy
