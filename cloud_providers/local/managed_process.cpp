// cloud_providers/local/managed_process.cpp — process-group supervision with fork/exec, /proc inspection and signals.
#include "managed_process.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <deque>
#include <fstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace llmatc::local_cloud {

namespace {

// Field 3 (state) and 5 (pgrp) of /proc/<pid>/stat; the command name (field 2) may contain spaces and ')'.
bool read_stat(pid_t pid, char* state, pid_t* pgrp) {
    char path[64];
    std::snprintf(path, sizeof path, "/proc/%d/stat", static_cast<int>(pid));
    std::ifstream in(path);
    std::string text;
    if (!std::getline(in, text)) return false;
    const auto close = text.rfind(')');
    if (close == std::string::npos) return false;
    int ppid = 0, group = 0;
    char st = '?';
    if (std::sscanf(text.c_str() + close + 1, " %c %d %d", &st, &ppid, &group) != 3) return false;
    *state = st;
    *pgrp = group;
    return true;
}

void write_all(int fd, const std::string& s) {
    size_t done = 0;
    while (done < s.size()) {
        ssize_t n = ::write(fd, s.data() + done, s.size() - done);
        if (n <= 0) return;
        done += static_cast<size_t>(n);
    }
}

std::string timestamp() {
    char buf[32];
    std::time_t now = std::time(nullptr);
    std::tm tm{};
    localtime_r(&now, &tm);
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
    return buf;
}

// Runs in the supervisor (a forked copy of the launcher): waits for the server, enforces autostop, then exits.
[[noreturn]] void supervise(pid_t server, int log_fd, const LaunchPlan& plan) {
    const long idle_limit_s = plan.autostop_minutes > 0 ? plan.autostop_minutes * 60L : -1;
    for (;;) {
        int status = 0;
        pid_t r = ::waitpid(server, &status, WNOHANG);
        if (r == server) {
            std::string how = WIFEXITED(status) ? "exited with status " + std::to_string(WEXITSTATUS(status))
                                                : "was killed by signal " + std::to_string(WTERMSIG(status));
            write_all(log_fd, "[llm-atc " + timestamp() + "] server " + how + "\n");
            ::_exit(0);
        }
        if (idle_limit_s > 0) {
            struct stat st {};
            // The server logs a line per request; a log that has not changed in N minutes means no requests.
            if (::fstat(log_fd, &st) == 0 && std::time(nullptr) - st.st_mtime > idle_limit_s) {
                write_all(log_fd, "[llm-atc " + timestamp() + "] autostop: no requests for " +
                                      std::to_string(plan.autostop_minutes) + " minute(s); stopping the server\n");
                ::kill(server, SIGTERM);
                for (int i = 0; i < 300 && ::waitpid(server, &status, WNOHANG) == 0; ++i) ::usleep(100000);
                ::kill(server, SIGKILL);
                ::waitpid(server, &status, 0);
                write_all(log_fd, "[llm-atc " + timestamp() + "] server stopped by autostop\n");
                ::_exit(0);
            }
        }
        ::sleep(1);
    }
}

}  // namespace

Launched launch_group(const LaunchPlan& plan) {
    if (plan.argv.empty()) throw std::runtime_error("the spec's server_argv is empty");
    // Everything the children need is built before fork: after it, only the supervisor's simple loop runs.
    std::vector<std::string> env_strings;
    for (char** e = environ; e && *e; ++e) {
        std::string kv(*e);
        const std::string key = kv.substr(0, kv.find('='));
        if (!plan.envs.count(key)) env_strings.push_back(kv);
    }
    for (const auto& [k, v] : plan.envs) env_strings.push_back(k + "=" + v);
    std::vector<char*> envp, argv;
    for (auto& s : env_strings) envp.push_back(s.data());
    envp.push_back(nullptr);
    std::vector<std::string> argv_strings = plan.argv;
    for (auto& s : argv_strings) argv.push_back(s.data());
    argv.push_back(nullptr);

    int log_fd = ::open(plan.log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (log_fd < 0) throw std::runtime_error("cannot open the server log " + plan.log_path + ": " + std::strerror(errno));
    write_all(log_fd, "[llm-atc " + timestamp() + "] starting the server\n");
    ::unlink(plan.pid_path.c_str());

    const pid_t supervisor = ::fork();
    if (supervisor < 0) {
        ::close(log_fd);
        throw std::runtime_error(std::string("fork failed: ") + std::strerror(errno));
    }
    if (supervisor == 0) {
        ::setsid();
        ::signal(SIGHUP, SIG_IGN);
        // The supervisor outlives the launcher: it must not hold the launcher's terminal or pipes (a caller
        // reading our output would wait for it forever), nor its database or sockets.
        const int null_fd = ::open("/dev/null", O_RDWR);
        ::dup2(null_fd, 0);
        ::dup2(null_fd, 1);
        ::dup2(null_fd, 2);
        if (log_fd > 3) ::close_range(3, static_cast<unsigned>(log_fd) - 1, 0);
        ::close_range(static_cast<unsigned>(log_fd) + 1, ~0U, 0);
        const pid_t server = ::fork();
        if (server == 0) {
            ::dup2(log_fd, 1);
            ::dup2(log_fd, 2);
            ::close_range(3, ~0U, 0);  // nothing of the launcher's (database, sockets) leaks into the server
            ::signal(SIGHUP, SIG_DFL);
            ::execve(argv[0], argv.data(), envp.data());
            const std::string msg = std::string("[llm-atc] cannot run ") + argv[0] + ": " + std::strerror(errno) + "\n";
            write_all(2, msg);
            ::_exit(127);
        }
        if (server < 0) {
            write_all(log_fd, std::string("[llm-atc] fork failed: ") + std::strerror(errno) + "\n");
            ::_exit(1);
        }
        const std::string pid_text = std::to_string(server) + "\n";
        const std::string tmp = plan.pid_path + ".tmp";
        int pid_fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (pid_fd >= 0) {
            write_all(pid_fd, pid_text);
            ::close(pid_fd);
            ::rename(tmp.c_str(), plan.pid_path.c_str());
        }
        supervise(server, log_fd, plan);
    }
    ::close(log_fd);
    Launched l;
    l.group = supervisor;
    for (int i = 0; i < 50 && l.server == 0; ++i) {
        l.server = read_server_pid(plan.pid_path);
        if (l.server == 0) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return l;
}

pid_t read_server_pid(const std::string& pid_path) {
    std::ifstream in(pid_path);
    long pid = 0;
    in >> pid;
    return static_cast<pid_t>(pid > 0 ? pid : 0);
}

bool process_alive(pid_t pid) {
    char state = '?';
    pid_t group = 0;
    return pid > 0 && read_stat(pid, &state, &group) && state != 'Z' && state != 'X';
}

bool group_alive(pid_t group) {
    if (group <= 0) return false;
    if (::kill(-group, 0) != 0 && errno == ESRCH) return false;
    DIR* proc = ::opendir("/proc");
    if (!proc) return true;
    bool alive = false;
    while (dirent* d = ::readdir(proc)) {
        char* end = nullptr;
        long pid = std::strtol(d->d_name, &end, 10);
        if (*end != 0 || pid <= 0) continue;
        char state = '?';
        pid_t pgrp = 0;
        if (read_stat(static_cast<pid_t>(pid), &state, &pgrp) && pgrp == group && state != 'Z' && state != 'X') {
            alive = true;
            break;
        }
    }
    ::closedir(proc);
    return alive;
}

void reap_if_child(pid_t pid) {
    int status = 0;
    if (pid > 0) ::waitpid(pid, &status, WNOHANG);
}

void stop_group(pid_t group, int grace_seconds) {
    if (!group_alive(group)) return;
    ::kill(-group, SIGTERM);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(grace_seconds);
    while (std::chrono::steady_clock::now() < deadline) {
        reap_if_child(group);
        if (!group_alive(group)) return;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ::kill(-group, SIGKILL);
    for (int i = 0; i < 50; ++i) {
        reap_if_child(group);
        if (!group_alive(group)) return;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
}

std::string tail_file(const std::string& path, size_t max_lines) {
    std::ifstream in(path);
    std::deque<std::string> lines;
    std::string line;
    while (std::getline(in, line)) {
        lines.push_back(line);
        if (lines.size() > max_lines) lines.pop_front();
    }
    std::string out;
    for (const auto& l : lines) out += l + "\n";
    return out;
}

}  // namespace llmatc::local_cloud
