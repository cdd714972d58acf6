// tests/core/checkpoint/test_checkpoint_errors.cpp — every bad input gives one llmatc::Error naming file and tensor.
#include <catch2/catch.hpp>

#include "checkpoint/checkpoint.h"
#include "checkpoint_test_support.h"
#include "util/error.h"

using namespace ckpt_test;
using Catch::Matchers::Contains;

namespace {

// A checkpoint dir with config.json and `weights` as model.safetensors; returns open()'s error message.
std::string safetensors_error(const std::string& weights, int* status = nullptr) {
    TempDir dir;
    write_minimal_config(dir.path());
    write_file(dir / "model.safetensors", weights);
    return open_error(dir.path(), status);
}

const std::string kTwoFloats = f32_bytes({1.0f, 2.0f});

}  // namespace

TEST_CASE("directory and config errors", "[checkpoint][errors]") {
    int status = 0;
    SECTION("missing directory") {
        TempDir dir;
        CHECK_THAT(open_error(dir / "nope", &status), Contains("nope") && Contains("does not exist"));
        CHECK(status == LLMATC_ERR_NOT_FOUND);
    }
    SECTION("missing config.json") {
        TempDir dir;
        write_file(dir / "model.safetensors", safetensors_bytes({{"x", "F32", {2}, kTwoFloats}}));
        CHECK_THAT(open_error(dir.path(), &status), Contains("config.json") && Contains("missing"));
        CHECK(status == LLMATC_ERR_NOT_FOUND);
    }
    SECTION("config.json is not JSON") {
        TempDir dir;
        write_file(dir / "config.json", "{\"architectures\": [\"LlamaForCausalLM\"");
        CHECK_THAT(open_error(dir.path(), &status), Contains("config.json") && Contains("invalid JSON"));
        CHECK(status == LLMATC_ERR_CORRUPT);
    }
    SECTION("config.json is JSON but not an object") {
        TempDir dir;
        write_file(dir / "config.json", "[1, 2]");
        CHECK_THAT(open_error(dir.path()), Contains("config.json") && Contains("not a JSON object"));
    }
    SECTION("generation_config.json is corrupt") {
        TempDir dir;
        write_minimal_config(dir.path());
        write_file(dir / "generation_config.json", "{eos: 2}");
        CHECK_THAT(open_error(dir.path()), Contains("generation_config.json") && Contains("invalid JSON"));
    }
    SECTION("eos_token_id of the wrong type") {
        TempDir dir;
        write_minimal_config(dir.path());
        write_file(dir / "generation_config.json", R"({"eos_token_id": "</s>"})");
        CHECK_THAT(open_error(dir.path()), Contains("generation_config.json") && Contains("eos_token_id"));
    }
    SECTION("no weights lists what was looked for") {
        TempDir dir;
        write_minimal_config(dir.path());
        const std::string msg = open_error(dir.path(), &status);
        CHECK_THAT(msg, Contains("no weights") && Contains("model.safetensors") &&
                            Contains("model.safetensors.index.json") && Contains("pytorch_model.bin") &&
                            Contains("pytorch_model.bin.index.json"));
        CHECK(status == LLMATC_ERR_NOT_FOUND);
    }
    SECTION("shards without their index are pointed out") {
        TempDir dir;
        write_minimal_config(dir.path());
        write_file(dir / "model-00001-of-00002.safetensors", safetensors_bytes({{"x", "F32", {2}, kTwoFloats}}));
        CHECK_THAT(open_error(dir.path()), Contains("model-00001-of-00002.safetensors") &&
                                               Contains("model.safetensors.index.json"));
    }
}

TEST_CASE("corrupt safetensors files", "[checkpoint][errors][safetensors]") {
    int status = 0;
    SECTION("shorter than the header length field") {
        CHECK_THAT(safetensors_error("abc", &status), Contains("model.safetensors") && Contains("truncated"));
        CHECK(status == LLMATC_ERR_CORRUPT);
    }
    SECTION("header length bigger than the file") {
        std::string bytes = safetensors_bytes({{"x", "F32", {2}, kTwoFloats}});
        bytes[5] = 0x10;  // header length now ~2^40
        CHECK_THAT(safetensors_error(bytes), Contains("model.safetensors") && Contains("header length") &&
                                                 Contains("bigger than the file"));
    }
    SECTION("header is not JSON") {
        CHECK_THAT(safetensors_error(raw_safetensors("{\"x\": {\"dtype\": ", kTwoFloats)),
                   Contains("model.safetensors") && Contains("not valid JSON"));
    }
    SECTION("header is JSON but not an object") {
        CHECK_THAT(safetensors_error(raw_safetensors("[]", "")), Contains("not a JSON object"));
    }
    SECTION("offsets past the end of the file") {
        const std::string msg = safetensors_error(
            raw_safetensors(R"({"w.weight": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}})", kTwoFloats));
        CHECK_THAT(msg, Contains("model.safetensors") && Contains("w.weight") && Contains("past the end"));
    }
    SECTION("a truncated copy of a real file") {
        const std::string full = read_file(shared_dir() / "models" / "stories260k" / "model.safetensors");
        const std::string msg = safetensors_error(full.substr(0, full.size() / 2));
        CHECK_THAT(msg, Contains("model.safetensors") && Contains("model.layers.") && Contains("past the end"));
    }
    SECTION("a file cut inside its header") {
        const std::string full = read_file(shared_dir() / "models" / "stories260k" / "model.safetensors");
        CHECK_THAT(safetensors_error(full.substr(0, 1000)), Contains("bigger than the file"));
    }
    SECTION("overlapping tensors") {
        const std::string msg = safetensors_error(raw_safetensors(
            R"({"first": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                "second": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}})",
            kTwoFloats));
        CHECK_THAT(msg, Contains("model.safetensors") && Contains("overlap") && Contains("first") && Contains("second"));
    }
    SECTION("unsupported dtypes name the tensor") {
        std::string msg = safetensors_error(safetensors_bytes({{"double.weight", "F64", {1}, std::string(8, '\0')}}), &status);
        CHECK_THAT(msg, Contains("model.safetensors") && Contains("double.weight") && Contains("unsupported dtype F64"));
        CHECK(status == LLMATC_ERR_UNSUPPORTED);
        msg = safetensors_error(safetensors_bytes({{"int8.weight", "I8", {2}, std::string(2, '\0')}}));
        CHECK_THAT(msg, Contains("int8.weight") && Contains("unsupported dtype I8"));
    }
    SECTION("shape × dtype size differs from the byte span") {
        const std::string msg = safetensors_error(
            raw_safetensors(R"({"w.weight": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}})", kTwoFloats));
        CHECK_THAT(msg, Contains("w.weight") && Contains("[3]") && Contains("12") && Contains("8"));
    }
    SECTION("shape overflowing 64 bits") {
        const std::string msg = safetensors_error(raw_safetensors(
            R"({"huge": {"dtype": "F32", "shape": [4294967296, 4294967296], "data_offsets": [0, 8]}})", kTwoFloats));
        CHECK_THAT(msg, Contains("huge") && Contains("2^64"));
    }
    SECTION("negative dimension and malformed entries") {
        CHECK_THAT(safetensors_error(raw_safetensors(
                       R"({"neg": {"dtype": "F32", "shape": [-2], "data_offsets": [0, 8]}})", kTwoFloats)),
                   Contains("neg") && Contains("negative"));
        CHECK_THAT(safetensors_error(raw_safetensors(R"({"nod": {"shape": [2], "data_offsets": [0, 8]}})", kTwoFloats)),
                   Contains("nod") && Contains("dtype"));
        CHECK_THAT(safetensors_error(raw_safetensors(
                       R"({"rev": {"dtype": "F32", "shape": [0], "data_offsets": [8, 0]}})", kTwoFloats)),
                   Contains("rev") && Contains("data_offsets"));
    }
    SECTION("more than four dimensions") {
        const std::string msg = safetensors_error(safetensors_bytes({{"t5", "F32", {1, 1, 1, 1, 2}, kTwoFloats}}));
        CHECK_THAT(msg, Contains("t5") && Contains("5 dimensions"));
    }
}

TEST_CASE("sharded checkpoint errors", "[checkpoint][errors][safetensors]") {
    TempDir dir;
    write_minimal_config(dir.path());
    write_file(dir / "model-00001-of-00002.safetensors", safetensors_bytes({{"a.weight", "F32", {2}, kTwoFloats}}));
    int status = 0;
    SECTION("a shard file is missing") {
        write_file(dir / "model.safetensors.index.json", R"({"weight_map": {
            "a.weight": "model-00001-of-00002.safetensors", "b.weight": "model-00002-of-00002.safetensors"}})");
        const std::string msg = open_error(dir.path(), &status);
        CHECK_THAT(msg, Contains("model.safetensors.index.json") && Contains("model-00002-of-00002.safetensors") &&
                            Contains("b.weight") && Contains("missing"));
        CHECK(status == LLMATC_ERR_NOT_FOUND);
    }
    SECTION("a tensor of the index is not in its shard") {
        write_file(dir / "model.safetensors.index.json", R"({"weight_map": {
            "a.weight": "model-00001-of-00002.safetensors", "ghost.weight": "model-00001-of-00002.safetensors"}})");
        const std::string msg = open_error(dir.path());
        CHECK_THAT(msg, Contains("ghost.weight") && Contains("model-00001-of-00002.safetensors") && Contains("no such tensor"));
    }
    SECTION("an index without weight_map") {
        write_file(dir / "model.safetensors.index.json", R"({"metadata": {}})");
        CHECK_THAT(open_error(dir.path()), Contains("model.safetensors.index.json") && Contains("weight_map"));
    }
    SECTION("an index that points outside the directory") {
        write_file(dir / "model.safetensors.index.json", R"({"weight_map": {"a.weight": "../../etc/passwd"}})");
        CHECK_THAT(open_error(dir.path()), Contains("a.weight") && Contains("../../etc/passwd") &&
                                               Contains("not a file name inside the checkpoint directory"));
    }
    SECTION("a corrupt shard names the shard and tensor") {
        write_file(dir / "model-00002-of-00002.safetensors",
                   raw_safetensors(R"({"b.weight": {"dtype": "F32", "shape": [9], "data_offsets": [0, 36]}})", kTwoFloats));
        write_file(dir / "model.safetensors.index.json", R"({"weight_map": {
            "a.weight": "model-00001-of-00002.safetensors", "b.weight": "model-00002-of-00002.safetensors"}})");
        CHECK_THAT(open_error(dir.path()), Contains("model-00002-of-00002.safetensors") && Contains("b.weight"));
    }
}
