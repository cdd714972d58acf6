// tests/core/deploy/test_model_source.cpp — classifying names and sources, bucket URLs, the serving-file filter.
#include <catch2/catch.hpp>

#include "deploy/model_source.h"

using namespace llmatc::deploy;

TEST_CASE("names and sources are classified; llm-atc/ names need --source") {
    CHECK_THROWS_WITH(classify_model("llm-atc/myvicuna", ""), Catch::Contains("add --source"));
    CHECK(classify_model("llm-atc/myvicuna", "s3://my-bucket/my_vicuna/").kind == SourceKind::S3);
    CHECK(classify_model("llm-atc/x", "gs://bucket/p").kind == SourceKind::GCS);
    const auto hf = classify_model("lmsys/vicuna-13b-v1.3", "");
    CHECK(hf.kind == SourceKind::HuggingFace);
    CHECK(hf.location == "lmsys/vicuna-13b-v1.3");
    CHECK(hf.revision == "main");
    CHECK(classify_model("org/name@v1.0", "").revision == "v1.0");
    CHECK(classify_model("/tmp", "").kind == SourceKind::LocalDir);
    CHECK_THROWS_WITH(classify_model("./missing/dir", ""), Catch::Contains("neither a folder nor a Hugging Face id"));
    CHECK_THROWS_WITH(classify_model("llm-atc/x", "/nonexistent/dir"), Catch::Contains("is not a folder"));
    CHECK_THROWS_WITH(classify_model("llm-atc/x", "http://host/x"), Catch::Contains("supported are s3://, gs://"));
    CHECK_THROWS_WITH(classify_model("", ""), Catch::Contains("--name is required"));
}

TEST_CASE("bucket URLs split into bucket and a /-terminated prefix; bad ones are named") {
    CHECK(split_bucket_url("s3://my-bucket/my_vicuna/", "s3") == std::make_pair(std::string("my-bucket"), std::string("my_vicuna/")));
    CHECK(split_bucket_url("s3://b12/a/b", "s3").second == "a/b/");
    CHECK(split_bucket_url("gs://bucket", "gs").second.empty());
    CHECK_THROWS_WITH(split_bucket_url("s3://Bad_Bucket/x", "s3"), Catch::Contains("not a valid bucket name"));
    CHECK_THROWS_WITH(split_bucket_url("s3:///x", "s3"), Catch::Contains("s3:///x"));
    CHECK_THROWS_WITH(split_bucket_url("s3://bucket/../etc/", "s3"), Catch::Contains(".."));
}

TEST_CASE("training leftovers and duplicate weight formats are skipped") {
    const auto kept = select_serving_files({"config.json", "model.safetensors", "pytorch_model.bin", "optimizer.pt",
                                            "scheduler.pt", "training_args.bin", "trainer_state.json", "rng_state_0.pth",
                                            "checkpoint-500/model.safetensors", "tokenizer.model", "tf_model.h5",
                                            "global_step10/mp_rank_00_model_states.pt", "README.md"});
    CHECK(kept == std::vector<std::string>{"config.json", "model.safetensors", "tokenizer.model", "README.md"});
    // Without safetensors, .bin weights are the model.
    CHECK(select_serving_files({"config.json", "pytorch_model.bin", "optimizer.bin"}) ==
          std::vector<std::string>{"config.json", "pytorch_model.bin"});
}
