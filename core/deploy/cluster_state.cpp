// core/deploy/cluster_state.cpp — SQLite persistence of clusters.
#include "deploy/cluster_state.h"

#include <sqlite3.h>
#include <sys/stat.h>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "util/error.h"

namespace llmatc::deploy {

namespace {

const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS clusters (
  name TEXT PRIMARY KEY,
  cloud TEXT NOT NULL,
  region TEXT NOT NULL DEFAULT '',
  zone TEXT NOT NULL DEFAULT '',
  instance_ids TEXT NOT NULL DEFAULT '[]',
  ip TEXT NOT NULL DEFAULT '',
  port INTEGER NOT NULL DEFAULT 0,
  model TEXT NOT NULL DEFAULT '',
  accelerator TEXT NOT NULL DEFAULT '',
  status TEXT NOT NULL,
  launched_at INTEGER NOT NULL DEFAULT 0,
  autostop INTEGER NOT NULL DEFAULT -1,
  api_key_hash TEXT NOT NULL DEFAULT '',
  record_json TEXT NOT NULL DEFAULT '{}',
  spec_json TEXT NOT NULL DEFAULT '{}'
);)sql";

std::string ids_to_json(const std::vector<std::string>& ids) {
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    w.StartArray();
    for (const auto& id : ids) w.String(id.c_str(), static_cast<rapidjson::SizeType>(id.size()));
    w.EndArray();
    return buf.GetString();
}

std::vector<std::string> ids_from_json(const char* text) {
    std::vector<std::string> ids;
    rapidjson::Document doc;
    doc.Parse(text ? text : "[]");
    if (!doc.HasParseError() && doc.IsArray())
        for (const auto& v : doc.GetArray())
            if (v.IsString()) ids.emplace_back(v.GetString());
    return ids;
}

std::string column_text(sqlite3_stmt* stmt, int col) {
    const unsigned char* t = sqlite3_column_text(stmt, col);
    return t ? reinterpret_cast<const char*>(t) : "";
}

struct Statement {
    sqlite3_stmt* stmt = nullptr;
    Statement(sqlite3* db, const char* sql, const std::string& path) {
        if (sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr) != SQLITE_OK)
            throw Error(LLMATC_ERR_CORRUPT, "cluster state " + path + ": " + sqlite3_errmsg(db));
    }
    ~Statement() { sqlite3_finalize(stmt); }
};

ClusterRow read_row(sqlite3_stmt* s) {
    ClusterRow r;
    r.name = column_text(s, 0);
    r.cloud = column_text(s, 1);
    r.region = column_text(s, 2);
    r.zone = column_text(s, 3);
    r.instance_ids = ids_from_json(reinterpret_cast<const char*>(sqlite3_column_text(s, 4)));
    r.ip = column_text(s, 5);
    r.port = sqlite3_column_int(s, 6);
    r.model = column_text(s, 7);
    r.accelerator = column_text(s, 8);
    r.status = column_text(s, 9);
    r.launched_at = sqlite3_column_int64(s, 10);
    r.autostop_minutes = sqlite3_column_int(s, 11);
    r.api_key_hash = column_text(s, 12);
    r.record_json = column_text(s, 13);
    r.spec_json = column_text(s, 14);
    return r;
}

const char* kColumns =
    "name, cloud, region, zone, instance_ids, ip, port, model, accelerator, status, launched_at, autostop, "
    "api_key_hash, record_json, spec_json";

}  // namespace

ClusterStore::ClusterStore(const std::filesystem::path& home) : path_(home / "state.db") {
    const bool existed = std::filesystem::exists(path_);
    if (sqlite3_open_v2(path_.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                        nullptr) != SQLITE_OK) {
        std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
        sqlite3_close(db_);
        db_ = nullptr;
        throw Error(LLMATC_ERR_IO, "cannot open cluster state " + path_.string() + ": " + msg);
    }
    if (!existed) ::chmod(path_.c_str(), 0600);
    sqlite3_busy_timeout(db_, 10000);
    try {
        exec(kSchema);
    } catch (...) {
        sqlite3_close(db_);
        db_ = nullptr;
        throw;
    }
}

ClusterStore::~ClusterStore() { sqlite3_close(db_); }

void ClusterStore::exec(const std::string& sql) const {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
        std::string msg = err ? err : "unknown error";
        sqlite3_free(err);
        throw Error(LLMATC_ERR_CORRUPT, "cluster state " + path_.string() + ": " + msg +
                                            " (move the file away to start with an empty state)");
    }
}

std::optional<ClusterRow> ClusterStore::get(const std::string& name) const {
    Statement st(db_, (std::string("SELECT ") + kColumns + " FROM clusters WHERE name = ?").c_str(), path_.string());
    sqlite3_bind_text(st.stmt, 1, name.c_str(), -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st.stmt);
    if (rc == SQLITE_ROW) return read_row(st.stmt);
    if (rc != SQLITE_DONE) throw Error(LLMATC_ERR_IO, "cluster state " + path_.string() + ": " + sqlite3_errmsg(db_));
    return std::nullopt;
}

std::vector<ClusterRow> ClusterStore::list() const {
    Statement st(db_, (std::string("SELECT ") + kColumns + " FROM clusters ORDER BY name").c_str(), path_.string());
    std::vector<ClusterRow> rows;
    int rc;
    while ((rc = sqlite3_step(st.stmt)) == SQLITE_ROW) rows.push_back(read_row(st.stmt));
    if (rc != SQLITE_DONE) throw Error(LLMATC_ERR_IO, "cluster state " + path_.string() + ": " + sqlite3_errmsg(db_));
    return rows;
}

void ClusterStore::upsert(const ClusterRow& r) {
    Statement st(db_, (std::string("INSERT OR REPLACE INTO clusters (") + kColumns +
                       ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)").c_str(),
                 path_.string());
    const std::string ids = ids_to_json(r.instance_ids);
    const std::string* texts[] = {&r.name, &r.cloud, &r.region, &r.zone, &ids, &r.ip};
    for (int i = 0; i < 6; ++i) sqlite3_bind_text(st.stmt, i + 1, texts[i]->c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st.stmt, 7, r.port);
    sqlite3_bind_text(st.stmt, 8, r.model.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st.stmt, 9, r.accelerator.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st.stmt, 10, r.status.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st.stmt, 11, r.launched_at);
    sqlite3_bind_int(st.stmt, 12, r.autostop_minutes);
    sqlite3_bind_text(st.stmt, 13, r.api_key_hash.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st.stmt, 14, r.record_json.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st.stmt, 15, r.spec_json.c_str(), -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st.stmt) != SQLITE_DONE)
        throw Error(LLMATC_ERR_IO, "cannot save cluster '" + r.name + "' in " + path_.string() + ": " + sqlite3_errmsg(db_));
}

bool ClusterStore::remove(const std::string& name) {
    Statement st(db_, "DELETE FROM clusters WHERE name = ?", path_.string());
    sqlite3_bind_text(st.stmt, 1, name.c_str(), -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st.stmt) != SQLITE_DONE)
        throw Error(LLMATC_ERR_IO, "cannot remove cluster '" + name + "' from " + path_.string() + ": " + sqlite3_errmsg(db_));
    return sqlite3_changes(db_) > 0;
}

}  // namespace llmatc::deploy
