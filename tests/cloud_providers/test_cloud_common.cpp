// tests/cloud_providers/test_cloud_common.cpp — the helpers aws and gcp share (cloud_providers/common): JSON member
// reads, the cluster record writer, message text, the poll interval, the cleanup after a failed launch.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <rapidjson/document.h>

#include "failed_launch.h"
#include "json_members.h"
#include "node_record.h"
#include "poll_interval.h"
#include "provider_text.h"

namespace common = llmatc::cloud_common;
namespace fs = std::filesystem;

TEST_CASE("json members read the typed value or the empty one", "[cloud_common]") {
    rapidjson::Document d;
    d.Parse(R"({"s":"text","n":2.5,"i":3,"list":["a",1,"b"],"obj":{"k":"v"},"wrong":true})");
    REQUIRE(!d.HasParseError());
    CHECK(common::string_member(d, "s") == "text");
    CHECK(common::string_member(d, "n").empty());       // another type
    CHECK(common::string_member(d, "missing").empty());
    CHECK(common::number_member(d, "n") == Approx(2.5));
    CHECK(common::number_member(d, "i") == Approx(3));
    CHECK(common::number_member(d, "s") == 0);
    CHECK(common::string_list_member(d, "list") == std::vector<std::string>{"a", "b"});  // non-strings skipped
    CHECK(common::string_list_member(d, "s").empty());
    REQUIRE(common::object_member(d, "obj") != nullptr);
    CHECK(common::string_member(*common::object_member(d, "obj"), "k") == "v");
    CHECK(common::object_member(d, "wrong") == nullptr);
    // Not an object at all: every read is empty, none throws.
    rapidjson::Document array;
    array.Parse("[1,2]");
    CHECK(common::string_member(array, "s").empty());
    CHECK(common::number_member(array, "n") == 0);
    CHECK(common::string_list_member(array, "list").empty());
    CHECK(common::object_member(array, "obj") == nullptr);
}

TEST_CASE("a record that is empty, malformed or not an object reads as none", "[cloud_common]") {
    rapidjson::Document d;
    CHECK_FALSE(common::parse_record_object("", d));
    CHECK_FALSE(common::parse_record_object("{not json", d));
    CHECK_FALSE(common::parse_record_object("[1]", d));
    CHECK(common::parse_record_object(R"({"status":"UP"})", d));
    CHECK(common::string_member(d, "status") == "UP");
}

TEST_CASE("the node record has the launcher's fields around the provider's own", "[cloud_common]") {
    llmatc::cloud_catalog::NodeSpec spec;
    spec.port = 8123;
    common::NodeRecordFields fields{"UP", "10.0.0.7", "us-east-2", "us-east-2b", "i-0abc", "g5.xlarge", 1.25,
                                    {"us-east-2a: InsufficientInstanceCapacity", "us-east-2b: launched i-0abc"}};
    const std::string json = common::node_record_json(spec, fields, [](common::JsonWriter& w) {
        w.Key("key_name");
        w.String("llmatc-c1");
    });
    rapidjson::Document d;
    REQUIRE(common::parse_record_object(json, d));
    CHECK(common::string_member(d, "status") == "UP");
    CHECK(common::string_member(d, "ip") == "10.0.0.7");
    CHECK(d["port"].GetInt() == 8123);
    CHECK(common::string_member(d, "region") == "us-east-2");
    CHECK(common::string_member(d, "zone") == "us-east-2b");
    CHECK(common::string_list_member(d, "instance_ids") == std::vector<std::string>{"i-0abc"});
    CHECK(common::string_member(d, "instance_type") == "g5.xlarge");
    CHECK(common::number_member(d, "hourly_price") == Approx(1.25));
    const rapidjson::Value* provider = common::object_member(d, "provider");
    REQUIRE(provider != nullptr);
    CHECK(common::string_member(*provider, "key_name") == "llmatc-c1");
    CHECK(common::string_member(*provider, "instance_type") == "g5.xlarge");
    CHECK(common::number_member(*provider, "hourly_price") == Approx(1.25));
    CHECK(common::string_list_member(*provider, "tried") == fields.tried);
    // The provider's own keys come first inside "provider" (the stored records keep that order).
    CHECK(json.find("\"provider\":{\"key_name\"") != std::string::npos);

    fields.status = "TERMINATED";
    fields.ip = "";
    const std::string gone = common::node_record_json(spec, fields, [](common::JsonWriter&) {});
    REQUIRE(common::parse_record_object(gone, d));
    CHECK(common::string_list_member(d, "instance_ids").empty());
    CHECK(common::string_member(d, "ip").empty());
}

TEST_CASE("provider text: file contents, joined notes, hourly price", "[cloud_common]") {
    const fs::path dir = fs::temp_directory_path() / ("llmatc-cloud-common-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    const fs::path key = dir / "id.pub";
    std::ofstream(key) << "ssh-ed25519 AAAA test\n";
    CHECK(common::read_text_file(key.string(), "aws", "cluster public key") == "ssh-ed25519 AAAA test\n");
    try {
        common::read_text_file((dir / "missing.pub").string(), "gcp", "cluster public key");
        FAIL("a missing file must throw");
    } catch (const std::runtime_error& e) {
        CHECK(std::string(e.what()) == "gcp: cannot read the cluster public key " + (dir / "missing.pub").string());
    }
    fs::remove_all(dir);

    CHECK(common::join_notes({}).empty());
    CHECK(common::join_notes({"a: x"}) == "a: x");
    CHECK(common::join_notes({"a: x", "b: y", "c: z"}) == "a: x; b: y; c: z");
    CHECK(common::hourly_price_text(1.006) == "$1.01/h");
    CHECK(common::hourly_price_text(0) == "$0.00/h");
}

TEST_CASE("the poll interval is 2 s unless LLMATC_CLOUD_POLL_MS shortens it (to 10 ms at least)", "[cloud_common]") {
    const char* saved = std::getenv("LLMATC_CLOUD_POLL_MS");
    const std::string saved_value = saved ? saved : "";
    ::unsetenv("LLMATC_CLOUD_POLL_MS");
    CHECK(common::poll_interval_ms() == 2000);
    ::setenv("LLMATC_CLOUD_POLL_MS", "20", 1);
    CHECK(common::poll_interval_ms() == 20);
    ::setenv("LLMATC_CLOUD_POLL_MS", "1", 1);
    CHECK(common::poll_interval_ms() == 10);
    if (saved) ::setenv("LLMATC_CLOUD_POLL_MS", saved_value.c_str(), 1); else ::unsetenv("LLMATC_CLOUD_POLL_MS");
}

TEST_CASE("the cleanup after a failed launch runs, and its own failure is reported, not thrown", "[cloud_common]") {
    llmatc::cloud_catalog::NodeSpec spec;
    spec.name = "c1";
    std::vector<std::pair<std::string, std::string>> lines;
    auto progress = [&](const char* phase, const std::string& message) { lines.emplace_back(phase, message); };

    bool removed = false;
    common::remove_after_failed_launch(spec, progress, [&] { removed = true; });
    CHECK(removed);
    REQUIRE(lines.size() == 1);
    CHECK(lines[0].second == "launch failed; removing what was created");

    lines.clear();
    CHECK_NOTHROW(common::remove_after_failed_launch(spec, progress, [] { throw std::runtime_error("quota gone"); }));
    REQUIRE(lines.size() == 2);
    CHECK(lines[1].first == "provisioning");
    CHECK(lines[1].second == "cleanup after the failed launch also failed: quota gone; `llm-atc down c1` retries it");
}
