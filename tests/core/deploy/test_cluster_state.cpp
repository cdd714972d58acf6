// tests/core/deploy/test_cluster_state.cpp — the SQLite clusters table: round trip, listing, removal, file mode.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "deploy/cluster_state.h"

using namespace llmatc::deploy;
namespace fs = std::filesystem;

TEST_CASE("rows round-trip, list by name, and disappear on remove") {
    const fs::path home = fs::temp_directory_path() / ("llmatc-state-" + std::to_string(::getpid()));
    fs::remove_all(home);
    fs::create_directories(home);
    {
        ClusterStore store(home);
        ClusterRow r;
        r.name = "zeta";
        r.cloud = "local";
        r.instance_ids = {"pid:12", "pid:\"13\""};
        r.ip = "127.0.0.1";
        r.port = 8123;
        r.model = "llm-atc/stories";
        r.accelerator = "A100:1";
        r.status = "UP";
        r.launched_at = 1700000000;
        r.autostop_minutes = 10;
        r.api_key_hash = "ab";
        r.record_json = R"({"status":"UP"})";
        r.spec_json = R"({"name":"zeta"})";
        store.upsert(r);
        ClusterRow a = r;
        a.name = "alpha";
        a.status = "STOPPED";
        store.upsert(a);
    }
    ClusterStore store(home);  // a new connection sees what the first wrote
    auto got = store.get("zeta");
    REQUIRE(got);
    CHECK(got->instance_ids == std::vector<std::string>{"pid:12", "pid:\"13\""});
    CHECK(got->port == 8123);
    CHECK(got->autostop_minutes == 10);
    CHECK(got->launched_at == 1700000000);
    CHECK(got->record_json == R"({"status":"UP"})");
    const auto all = store.list();
    REQUIRE(all.size() == 2);
    CHECK(all[0].name == "alpha");
    got->status = "STOPPED";
    store.upsert(*got);
    CHECK(store.get("zeta")->status == "STOPPED");
    CHECK(store.remove("zeta"));
    CHECK_FALSE(store.remove("zeta"));
    CHECK_FALSE(store.get("zeta"));
    struct stat st {};
    REQUIRE(::stat((home / "state.db").c_str(), &st) == 0);
    CHECK((st.st_mode & 077) == 0);
    fs::remove_all(home);
}

TEST_CASE("a file that is not a database gives a message naming it") {
    const fs::path home = fs::temp_directory_path() / ("llmatc-state-bad-" + std::to_string(::getpid()));
    fs::create_directories(home);
    { FILE* f = std::fopen((home / "state.db").c_str(), "w"); std::fputs("this is not sqlite at all, not at all....", f); std::fclose(f); }
    CHECK_THROWS_WITH(ClusterStore(home), Catch::Contains("state.db"));
    fs::remove_all(home);
}
