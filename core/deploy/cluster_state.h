// core/deploy/cluster_state.h — the clusters table in SQLite ($LLMATC_HOME/state.db, 0600): one row per cluster.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

struct sqlite3;

namespace llmatc::deploy {

// One cluster as the launcher remembers it. Secrets are not here: the API key only as its hash, --envs values
// in the cluster folder's secrets file (0600).
struct ClusterRow {
    std::string name;
    std::string cloud;
    std::string region;
    std::string zone;
    std::vector<std::string> instance_ids;
    std::string ip;
    int port = 0;
    std::string model;        // the served model name (--name)
    std::string accelerator;  // "A100:1", "" for CPU
    std::string status;       // INIT | UP | STOPPED
    int64_t launched_at = 0;  // unix seconds
    int autostop_minutes = -1;
    std::string api_key_hash;
    std::string record_json;  // the provider's last record, passed back on every later call
    std::string spec_json;    // the launch spec without secrets, to start the cluster again
};

// Thread-compatible (one instance per thread); several processes may use the same file (SQLite locking, with a
// busy timeout so concurrent launcher commands wait rather than fail).
class ClusterStore {
public:
    // Opens (creating if needed) <home>/state.db.
    explicit ClusterStore(const std::filesystem::path& home);
    ~ClusterStore();
    ClusterStore(const ClusterStore&) = delete;
    ClusterStore& operator=(const ClusterStore&) = delete;

    std::optional<ClusterRow> get(const std::string& name) const;
    std::vector<ClusterRow> list() const;  // by name
    void upsert(const ClusterRow& row);
    // Returns false when there was no such row.
    bool remove(const std::string& name);

private:
    void exec(const std::string& sql) const;
    sqlite3* db_ = nullptr;
    std::filesystem::path path_;
};

}  // namespace llmatc::deploy
