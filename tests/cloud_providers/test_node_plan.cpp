// tests/cloud_providers/test_node_plan.cpp — disk sizing, model size estimates, the spec parser, the dry-run plan,
// and the bootstrap script (secrets masked in plans; run for real under bash into a temp prefix).
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <rapidjson/document.h>

#include "bootstrap_script.h"
#include "disk_sizing.h"
#include "node_plan.h"
#include "node_spec.h"

using namespace llmatc::cloud_catalog;
namespace fs = std::filesystem;

namespace {

const char* kSpec = R"({"name":"servecluster","cloud":"aws","region":"us-east-2","zone":"",
  "accelerator":{"name":"A100-80GB","count":2},"port":8000,
  "model":{"name":"meta-llama/Llama-2-70b-hf","source":"meta-llama/Llama-2-70b-hf","bytes":0},
  "envs":{"HF_TOKEN":"hf_secretvalue123","LLMATC_API_KEY":"sk-cluster-key-456"},"api_key":"sk-cluster-key-456",
  "home":"/tmp","ssh":{"user":"me","private_key":"/k","public_key":"/k.pub"},
  "server_argv":["/usr/local/bin/llm-atc","serve","--name","meta-llama/Llama-2-70b-hf","--port","8000","--host","0.0.0.0"],
  "dryrun":true,"extra":{"wait_ready":false,"image_id":"ami-123"}})";

std::string slurp(const fs::path& p) {
    std::ifstream in(p);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

}  // namespace

TEST_CASE("disk: 2.5x the weights plus 50 GiB, rounded up to 10") {
    CHECK(disk_gib_for(0) == 50);
    CHECK(disk_gib_for(140ull * 1000 * 1000 * 1000) == 380);  // 70B fp16: 130.4 GiB * 2.5 + 50 = 376 -> 380
    CHECK(disk_gib_for(26ull * 1000 * 1000 * 1000) == 120);   // 13B fp16: 24.2 GiB * 2.5 + 50 = 110.5 -> 120
}

TEST_CASE("model size from the name's parameter count at 2 bytes each") {
    CHECK(estimate_model_size("meta-llama/Llama-2-70b-hf", 0).bytes == 140'000'000'000ull);
    CHECK(estimate_model_size("lmsys/vicuna-13b-v1.3", 0).bytes == 26'000'000'000ull);
    CHECK(estimate_model_size("x/Qwen-1.5B", 0).bytes == 3'000'000'000ull);
    CHECK(estimate_model_size("stories260k", 0).basis.find("unknown") != std::string::npos);  // no separator before "260k"
    CHECK(estimate_model_size("s3://b/p/", 123).bytes == 123);
    CHECK(estimate_model_size("llm-atc/myvicuna", 0).basis.find("unknown") != std::string::npos);
}

TEST_CASE("the spec parser reads the documented fields") {
    const NodeSpec s = parse_node_spec(kSpec);
    CHECK(s.name == "servecluster");
    CHECK(s.accelerator == "A100-80GB");
    CHECK(s.accelerator_count == 2);
    CHECK(s.envs.at("HF_TOKEN") == "hf_secretvalue123");
    CHECK(s.dryrun);
    CHECK_FALSE(s.wait_ready);
    CHECK(s.extra.at("image_id") == "ami-123");
    CHECK(s.server_argv.size() == 8);
    CHECK_THROWS_WITH(parse_node_spec("{}"), Catch::Contains("\"name\""));
    CHECK_THROWS_WITH(parse_node_spec("nope"), Catch::Contains("not a JSON object"));
}

TEST_CASE("the plan names type, zones, price, disk, TP degree; its script masks every secret") {
    const NodeSpec s = parse_node_spec(kSpec);
    const NodePlan p = plan_node(s, aws_catalog(), "us-east-1");
    CHECK(p.choice.offer.instance_type == "p4de.24xlarge");
    CHECK(p.tensor_parallel_size == 8);
    CHECK(p.disk_gib == 380);
    CHECK(p.script.find("hf_secretvalue123") != std::string::npos);  // the real one goes to the cloud only
    CHECK(p.script_masked.find("hf_secretvalue123") == std::string::npos);
    CHECK(p.script_masked.find("sk-cluster-key-456") == std::string::npos);
    const std::string record = plan_record_json(s, p, {"instance x"});
    CHECK(record.find("hf_secretvalue123") == std::string::npos);
    CHECK(record.find("sk-cluster-key-456") == std::string::npos);
    rapidjson::Document d;
    d.Parse(record.c_str());
    REQUIRE(d.IsObject());
    const auto& plan = d["plan"];
    CHECK(std::string(plan["instance_type"].GetString()) == "p4de.24xlarge");
    CHECK(std::string(plan["region"].GetString()) == "us-east-2");
    CHECK(plan["zones_to_try"].Size() == 3);
    CHECK(plan["disk_gib"].GetInt() == 380);
    CHECK(plan["hourly_price"].GetDouble() > 30);
    CHECK(std::string(plan["note"].GetString()).find("has 8") != std::string::npos);
}

TEST_CASE("a spec without an accelerator, or with a bad env name, is refused") {
    NodeSpec s = parse_node_spec(kSpec);
    s.accelerator.clear();
    CHECK_THROWS_WITH(plan_node(s, aws_catalog(), "us-east-1"), Catch::Contains("--accelerator"));
    BootstrapInputs in;
    in.envs["BAD-NAME"] = "x";
    CHECK_THROWS_WITH(bootstrap_script(in, true), Catch::Contains("BAD-NAME"));
}

TEST_CASE("the bootstrap script installs env (0600) and wrapper, and starts the server without systemd") {
    const fs::path prefix = fs::temp_directory_path() / ("llmatc-bootstrap-" + std::to_string(::getpid()));
    fs::remove_all(prefix);
    fs::create_directories(prefix / "bin");
    // A stand-in runtime that records its argv and environment, so the test sees what the node would run.
    {
        std::ofstream fake(prefix / "bin" / "llm-atc");
        fake << "#!/bin/bash\necho \"$@\" > \"" << (prefix / "argv.txt").string() << "\"\n"
             << "echo \"$HF_TOKEN|$LLMATC_API_KEY|$LLMATC_PLUGIN_PATH\" > \"" << (prefix / "env.txt").string() << "\"\n";
    }
    fs::permissions(prefix / "bin" / "llm-atc", fs::perms::owner_all);
    BootstrapInputs in;
    in.cluster = "c1";
    in.server_argv = {"/local/llm-atc", "serve", "--name", "it's $HOME", "--port", "8123"};
    in.envs = {{"HF_TOKEN", "tok'en$x"}, {"LLMATC_API_KEY", "k1"}};
    in.port = 8123;
    const fs::path script = prefix / "bootstrap.sh";
    std::ofstream(script) << bootstrap_script(in, false);
    // PATH without systemctl forces the documented setsid/nohup fallback even where systemd exists.
    const std::string cmd = "env -u LLMATC_PLUGIN_PATH LLMATC_PREFIX='" + prefix.string() + "' PATH=/usr/bin:/bin bash " +
                            script.string() + " > " + (prefix / "out.txt").string() + " 2>&1";
    REQUIRE(std::system(cmd.c_str()) == 0);
    for (int i = 0; i < 100 && !fs::exists(prefix / "env.txt"); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    struct stat st {};
    REQUIRE(::stat((prefix / "etc" / "env").c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    CHECK(slurp(prefix / "argv.txt") == "serve --name it's $HOME --port 8123\n");
    CHECK(slurp(prefix / "env.txt") == "tok'en$x|k1|" + (prefix / "plugins").string() + "\n");
    fs::remove_all(prefix);
}
