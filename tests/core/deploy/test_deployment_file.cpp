// tests/core/deploy/test_deployment_file.cpp — YAML deployments: keys onto ServeOptions, errors with file:line.
#include <catch2/catch.hpp>

#include "deploy/deployment_file.h"
#include "util/error.h"

using llmatc::cli::ServeOptions;
using llmatc::deploy::apply_deployment_yaml;

TEST_CASE("keys set their fields; dashes and underscores alike; resources nest; absent keys keep defaults") {
    ServeOptions o;
    apply_deployment_yaml("name: llm-atc/myvicuna\nsource: s3://b/p/\ncluster: c\n"
                          "resources:\n  cloud: gcp\n  region: asia-southeast1\n  accelerators: A100:1\n"
                          "envs:\n  HF_TOKEN: hf_x\n  OTHER: '1'\nidle-minutes-to-autostop: 30\nport: 8080\n"
                          "no_api_key: true\n",
                          "d.yaml", o);
    CHECK(o.name == "llm-atc/myvicuna");
    CHECK(o.source == "s3://b/p/");
    CHECK(o.cloud == "gcp");
    CHECK(o.region == "asia-southeast1");
    CHECK(o.accelerator == "A100:1");
    CHECK(o.envs.at("HF_TOKEN") == "hf_x");
    CHECK(o.idle_minutes_to_autostop == 30);
    CHECK(o.port == 8080);
    CHECK(o.no_api_key);
    CHECK(o.max_num_seqs == ServeOptions{}.max_num_seqs);
    ServeOptions s;
    apply_deployment_yaml("envs: \"A=1 B='x y'\"\n", "s.yaml", s);
    CHECK(s.envs.at("B") == "x y");
}

TEST_CASE("wrong keys, types and values are refused with file and line") {
    ServeOptions o;
    CHECK_THROWS_WITH(apply_deployment_yaml("name: x\nclustr: c\n", "d.yaml", o),
                      Catch::Contains("d.yaml:2") && Catch::Contains("unknown key 'clustr'") && Catch::Contains("'cluster'"));
    CHECK_THROWS_WITH(apply_deployment_yaml("resources:\n  regoin: x\n", "d.yaml", o),
                      Catch::Contains("d.yaml:2") && Catch::Contains("'regoin'") && Catch::Contains("resources"));
    CHECK_THROWS_WITH(apply_deployment_yaml("port: eighty\n", "d.yaml", o), Catch::Contains("d.yaml:1") && Catch::Contains("integer"));
    CHECK_THROWS_WITH(apply_deployment_yaml("port: 70000\n", "d.yaml", o), Catch::Contains("between 1 and 65535"));
    CHECK_THROWS_WITH(apply_deployment_yaml("detach: maybe\n", "d.yaml", o), Catch::Contains("true or false"));
    CHECK_THROWS_WITH(apply_deployment_yaml("name: [a, b]\n", "d.yaml", o), Catch::Contains("single value"));
    CHECK_THROWS_WITH(apply_deployment_yaml("envs:\n  1BAD: v\n", "d.yaml", o), Catch::Contains("d.yaml:2"));
    CHECK_THROWS_WITH(apply_deployment_yaml("name: a\nname: b\n", "d.yaml", o), Catch::Contains("twice"));
    CHECK_THROWS_WITH(apply_deployment_yaml("name: [unclosed\n", "d.yaml", o), Catch::Contains("not valid YAML"));
    CHECK_THROWS_WITH(apply_deployment_yaml("- a\n- b\n", "d.yaml", o), Catch::Contains("mapping"));
    CHECK_THROWS_WITH(llmatc::deploy::apply_deployment_file("/nonexistent/deploy.yaml", o), Catch::Contains("/nonexistent/deploy.yaml"));
}

TEST_CASE("kv_cache_dtype mirrors --kv-cache-dtype") {
    ServeOptions o;
    CHECK(o.kv_cache_dtype == "auto");
    apply_deployment_yaml("kv_cache_dtype: f16\n", "d.yaml", o);
    CHECK(o.kv_cache_dtype == "f16");
    ServeOptions dashed;
    apply_deployment_yaml("kv-cache-dtype: f32\n", "d.yaml", dashed);
    CHECK(dashed.kv_cache_dtype == "f32");
}
