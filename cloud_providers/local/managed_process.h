// cloud_providers/local/managed_process.h — a server run as a managed background process group: spawned under a
// small supervisor (the group leader) that logs its exit and enforces autostop; stopped by signalling the group.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <sys/types.h>

namespace llmatc::local_cloud {

struct LaunchPlan {
    std::vector<std::string> argv;              // the server command line; argv[0] is an absolute path
    std::map<std::string, std::string> envs;    // added to (or replacing in) the launcher's environment
    std::string log_path;                       // stdout and stderr of the server, appended
    std::string pid_path;                       // where the supervisor writes the server's pid
    int autostop_minutes = -1;                  // stop after this many minutes without log activity; -1 = never
};

struct Launched {
    pid_t group = 0;   // the supervisor's pid = the process group id
    pid_t server = 0;  // the server's pid (0 when not yet known)
};

// Forks the supervisor in a new session/process group; the supervisor forks and execs the server with the log as
// stdout/stderr and waits for it. Returns at once. Throws std::runtime_error when fork fails.
Launched launch_group(const LaunchPlan& plan);

// Reads the server pid the supervisor wrote (0 if none yet).
pid_t read_server_pid(const std::string& pid_path);

// True while any process of group `group` lives (zombies do not count).
bool group_alive(pid_t group);
// True while `pid` lives and is not a zombie.
bool process_alive(pid_t pid);

// SIGTERM to the group, then SIGKILL after `grace_seconds`; returns once the group is gone (or after the kill).
void stop_group(pid_t group, int grace_seconds);

// Reaps `pid` if it is our own exited child (no-op otherwise).
void reap_if_child(pid_t pid);

// The last `max_lines` lines of a file ("" when missing).
std::string tail_file(const std::string& path, size_t max_lines);

}  // namespace llmatc::local_cloud
