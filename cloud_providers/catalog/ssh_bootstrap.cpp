// cloud_providers/catalog/ssh_bootstrap.cpp — the SSH upload of the runtime and the remote run of the bootstrap script.
#include "ssh_bootstrap.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "bootstrap_script.h"

namespace llmatc::cloud_catalog {

namespace fs = std::filesystem;

namespace {

// A private scratch folder, removed with everything in it when the object goes.
struct ScratchDir {
    fs::path path;
    ScratchDir() {
        std::string tmpl = (fs::temp_directory_path() / "llmatc-ssh-XXXXXX").string();
        if (!::mkdtemp(tmpl.data())) throw std::runtime_error("cannot create a temporary folder for the SSH upload");
        path = tmpl;
    }
    ~ScratchDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

std::string read_tail(const fs::path& p, size_t max_chars) {
    std::ifstream in(p);
    std::stringstream s;
    s << in.rdbuf();
    std::string t = s.str();
    if (t.size() > max_chars) t = t.substr(t.size() - max_chars);
    for (auto& c : t)
        if (c == '\n' || c == '\r') c = ' ';
    return t;
}

std::string ssh_command(const SshTarget& t, const std::string& remote_command) {
    std::string cmd = "ssh -i " + shell_quote(t.private_key) + " -p " + std::to_string(t.port) +
                      " -o BatchMode=yes -o IdentitiesOnly=yes -o ConnectTimeout=10 -o StrictHostKeyChecking=accept-new"
                      " -o UserKnownHostsFile=" + shell_quote(t.known_hosts) + " -o LogLevel=ERROR " +
                      shell_quote(t.user + "@" + t.host) + " " + shell_quote(remote_command);
    return cmd;
}

// Runs a shell command line; returns its exit status (-1 when it could not run).
int run(const std::string& command_line) {
    const int rc = std::system(command_line.c_str());
    return rc == -1 || !WIFEXITED(rc) ? -1 : WEXITSTATUS(rc);
}

}  // namespace

std::vector<fs::path> runtime_plugin_files(const fs::path& launcher) {
    std::vector<fs::path> roots;
    if (const char* p = std::getenv("LLMATC_PLUGIN_PATH"); p && *p) {
        std::stringstream s(p);
        for (std::string dir; std::getline(s, dir, ':');)
            if (!dir.empty()) roots.emplace_back(dir);
    }
    const fs::path dir = launcher.parent_path();
    for (const char* sub : {"models", "frontends", "cloud_providers", "plugins"}) roots.push_back(dir / sub);
    roots.push_back(dir / ".." / "lib" / "llm-atc" / "plugins");
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir / ".." / "lib", ec))
        if (e.is_directory()) roots.push_back(e.path() / "llm-atc" / "plugins");
    std::vector<fs::path> files;
    std::set<std::string> names;
    for (const auto& root : roots) {
        if (!fs::is_directory(root, ec)) continue;
        for (auto it = fs::recursive_directory_iterator(root, ec); it != fs::recursive_directory_iterator(); it.increment(ec)) {
            const std::string name = it->path().filename().string();
            if (it->is_regular_file(ec) && name.rfind("libllmatc-", 0) == 0 && it->path().extension() == ".so" &&
                names.insert(name).second)
                files.push_back(it->path());
        }
    }
    return files;
}

void bootstrap_over_ssh(const SshTarget& t, const fs::path& launcher, const std::string& script,
                        const std::string& remote_prefix, int wait_s,
                        const std::function<void(const std::string&)>& progress) {
    if (!fs::is_regular_file(launcher))
        throw std::runtime_error("bootstrap: the launcher binary " + launcher.string() + " to upload is missing");
    ScratchDir scratch;
    const fs::path err = scratch.path / "ssh.err";
    const std::string sudo = t.user == "root" ? "" : "sudo ";

    progress("waiting for SSH on " + t.host + ":" + std::to_string(t.port));
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(wait_s);
    while (run(ssh_command(t, "true") + " </dev/null >/dev/null 2>" + shell_quote(err.string())) != 0) {
        if (std::chrono::steady_clock::now() > deadline)
            throw std::runtime_error("bootstrap: SSH to " + t.user + "@" + t.host + ":" + std::to_string(t.port) +
                                     " did not accept the cluster key within " + std::to_string(wait_s) + " s (" +
                                     read_tail(err, 300) + ")");
        std::this_thread::sleep_for(std::chrono::seconds(2));
    }

    // The bundle: bin/llm-atc and plugins/*.so, as one tar stream.
    fs::create_directories(scratch.path / "bundle" / "bin");
    fs::create_directories(scratch.path / "bundle" / "plugins");
    fs::copy_file(launcher, scratch.path / "bundle" / "bin" / "llm-atc");
    const auto plugins = runtime_plugin_files(launcher);
    for (const auto& p : plugins) fs::copy_file(p, scratch.path / "bundle" / "plugins" / p.filename());
    progress("uploading llm-atc and " + std::to_string(plugins.size()) + " plugins to " + t.host + ":" + remote_prefix);
    const std::string q_prefix = shell_quote(remote_prefix);
    const std::string upload = "tar -C " + shell_quote((scratch.path / "bundle").string()) + " -cz bin plugins | " +
                               ssh_command(t, sudo + "mkdir -p " + q_prefix + " && " + sudo + "tar -xz -C " + q_prefix) +
                               " >/dev/null 2>" + shell_quote(err.string());
    if (run(upload) != 0) throw std::runtime_error("bootstrap: the upload to " + t.host + " failed: " + read_tail(err, 300));

    // The script holds secrets: a 0600 file here, stdin there.
    const fs::path script_file = scratch.path / "bootstrap.sh";
    {
        const int fd = ::open(script_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd < 0) throw std::runtime_error("bootstrap: cannot write " + script_file.string());
        ::close(fd);
        std::ofstream(script_file, std::ios::binary) << script;
    }
    progress("running the bootstrap script on " + t.host);
    const fs::path out = scratch.path / "bootstrap.out";
    const std::string remote = sudo + "env LLMATC_PREFIX=" + q_prefix + " bash -s";
    if (run(ssh_command(t, remote) + " <" + shell_quote(script_file.string()) + " >" + shell_quote(out.string()) + " 2>&1") != 0)
        throw std::runtime_error("bootstrap: the script failed on " + t.host + ": " + read_tail(out, 400));
}

}  // namespace llmatc::cloud_catalog

namespace llmatc::cloud_catalog {

SshTarget node_ssh_target(const NodeSpec& spec, const std::string& host, const std::string& default_user) {
    SshTarget t;
    t.host = host;
    if (const char* p = std::getenv("LLMATC_CLOUD_SSH_PORT"); p && *p) t.port = std::atoi(p);
    auto it = spec.extra.find("ssh_user");
    t.user = it != spec.extra.end() && !it->second.empty() ? it->second : default_user;
    t.private_key = spec.ssh_private_key;
    t.known_hosts = (fs::path(spec.home.empty() ? fs::temp_directory_path().string() : spec.home) / "known_hosts").string();
    return t;
}

std::string remote_prefix() {
    const char* p = std::getenv("LLMATC_REMOTE_PREFIX");
    return p && *p ? p : kRemotePrefix;
}

}  // namespace llmatc::cloud_catalog
