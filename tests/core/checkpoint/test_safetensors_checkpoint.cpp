// tests/core/checkpoint/test_safetensors_checkpoint.cpp — opening safetensors checkpoints: the stories260k fixture,
// shards, F16/BF16, configs, and the C tensor source.
#include <catch2/catch.hpp>

#include <cstring>
#include <map>

#include "checkpoint/checkpoint.h"
#include "checkpoint/dtype.h"
#include "checkpoint_test_support.h"
#include "util/error.h"

using namespace ckpt_test;
using Catch::Matchers::Contains;

namespace {

llmatc_tensor_view get_view(const llmatc_tensor_source* src, const std::string& name) {
    llmatc_tensor_view view{};
    const llmatc_status status = src->get(src->ctx, name.c_str(), &view);
    INFO("tensor " << name << ": " << llmatc::thread_error());
    REQUIRE(status == LLMATC_OK);
    return view;
}

std::vector<int64_t> view_shape(const llmatc_tensor_view& v) { return {v.shape, v.shape + v.n_dims}; }

}  // namespace

TEST_CASE("stories260k: 47 F32 tensors with the documented shapes, mapped from the file", "[checkpoint][safetensors]") {
    const auto dir = shared_dir() / "models" / "stories260k";
    auto ckpt = llmatc::Checkpoint::open(dir);
    const auto names = ckpt->tensor_names();
    REQUIRE(names.size() == 47);
    CHECK(std::is_sorted(names.begin(), names.end()));
    CHECK(ckpt->eos_token_ids() == std::vector<int32_t>{2, 1});  // generation_config.json's list wins
    CHECK_THAT(ckpt->config_json(), Contains("LlamaForCausalLM"));

    std::map<std::string, std::vector<int64_t>> expected = {
        {"model.embed_tokens.weight", {512, 64}}, {"model.norm.weight", {64}}};
    for (int layer = 0; layer < 5; ++layer) {
        const std::string p = "model.layers." + std::to_string(layer) + ".";
        expected[p + "input_layernorm.weight"] = {64};
        expected[p + "post_attention_layernorm.weight"] = {64};
        expected[p + "self_attn.q_proj.weight"] = {64, 64};
        expected[p + "self_attn.k_proj.weight"] = {32, 64};
        expected[p + "self_attn.v_proj.weight"] = {32, 64};
        expected[p + "self_attn.o_proj.weight"] = {64, 64};
        expected[p + "mlp.gate_proj.weight"] = {172, 64};
        expected[p + "mlp.up_proj.weight"] = {172, 64};
        expected[p + "mlp.down_proj.weight"] = {64, 172};
    }
    REQUIRE(expected.size() == 47);
    const llmatc_tensor_source* src = ckpt->source();
    REQUIRE(src->struct_size == sizeof(llmatc_tensor_source));
    for (const auto& [name, shape] : expected) {
        CAPTURE(name);
        REQUIRE(src->has(src->ctx, name.c_str()) == 1);
        const auto view = get_view(src, name);
        CHECK(view.dtype == LLMATC_DTYPE_F32);
        CHECK(view_shape(view) == shape);
        int64_t numel = 1;
        for (int64_t d : shape) numel *= d;
        CHECK(view.nbytes == static_cast<uint64_t>(numel) * 4);
        for (int i = view.n_dims; i < LLMATC_MAX_DIMS; ++i) CHECK(view.shape[i] == 1);
    }
    CHECK(src->has(src->ctx, "lm_head.weight") == 0);  // tied embeddings

    // The embedding is the first tensor in name order, right after the 4864-byte header: compare its bytes.
    const std::string file = read_file(dir / "model.safetensors");
    const auto embed = get_view(src, "model.embed_tokens.weight");
    REQUIRE(file.size() >= 4864 + embed.nbytes);
    CHECK(std::memcmp(embed.data, file.data() + 4864, embed.nbytes) == 0);
    CHECK(is_mapped_from(embed.data, dir / "model.safetensors"));  // a view into the mapping, not a copy
}

TEST_CASE("a missing tensor is LLMATC_ERR_NOT_FOUND with a message naming it and the checkpoint", "[checkpoint]") {
    const auto dir = shared_dir() / "models" / "stories260k";
    auto ckpt = llmatc::Checkpoint::open(dir);
    const llmatc_tensor_source* src = ckpt->source();
    llmatc_tensor_view view{};
    llmatc::set_thread_error("");
    CHECK(src->get(src->ctx, "lm_head.weight", &view) == LLMATC_ERR_NOT_FOUND);
    CHECK_THAT(llmatc::thread_error(), Contains("lm_head.weight") && Contains("stories260k"));
    CHECK(src->get(src->ctx, nullptr, &view) == LLMATC_ERR_INVALID_ARGUMENT);
    CHECK(src->get(src->ctx, "model.norm.weight", nullptr) == LLMATC_ERR_INVALID_ARGUMENT);
}

TEST_CASE("F16 and BF16 tensors keep their dtype and bytes", "[checkpoint][safetensors]") {
    TempDir dir;
    write_minimal_config(dir.path());
    const std::vector<uint16_t> half = {0x3c00, 0xc000, 0x3555, 0x0001};   // 1, -2, 0.33325, 2^-24
    const std::vector<uint16_t> brain = {0x3f80, 0xc040, 0x3e80, 0x0000, 0x4000, 0x4040};  // 1, -3, .25, 0, 2, 3
    write_file(dir / "model.safetensors",
               safetensors_bytes({{"h", "F16", {2, 2}, u16_bytes(half)},
                                  {"b", "BF16", {3, 2}, u16_bytes(brain)},
                                  {"f", "F32", {3}, f32_bytes({0.5f, 1.5f, -7.0f})}}));
    auto ckpt = llmatc::Checkpoint::open(dir.path());
    CHECK(ckpt->tensor_names() == std::vector<std::string>{"b", "f", "h"});
    CHECK(ckpt->eos_token_ids() == std::vector<int32_t>{2});  // no generation_config.json: config.json's
    const auto* src = ckpt->source();

    const auto h = get_view(src, "h");
    CHECK(h.dtype == LLMATC_DTYPE_F16);
    CHECK(view_shape(h) == std::vector<int64_t>{2, 2});
    REQUIRE(h.nbytes == 8);
    const auto* hp = static_cast<const uint16_t*>(h.data);
    CHECK(llmatc::f16_to_f32(hp[0]) == 1.0f);
    CHECK(llmatc::f16_to_f32(hp[1]) == -2.0f);
    CHECK(llmatc::f16_to_f32(hp[3]) == std::ldexp(1.0f, -24));

    const auto b = get_view(src, "b");
    CHECK(b.dtype == LLMATC_DTYPE_BF16);
    CHECK(view_shape(b) == std::vector<int64_t>{3, 2});
    const auto* bp = static_cast<const uint16_t*>(b.data);
    CHECK(llmatc::bf16_to_f32(bp[1]) == -3.0f);
    CHECK(llmatc::bf16_to_f32(bp[5]) == 3.0f);

    const auto f = get_view(src, "f");
    float fv[3];
    std::memcpy(fv, f.data, sizeof fv);
    CHECK(fv[2] == -7.0f);
}

TEST_CASE("sharded safetensors are read through model.safetensors.index.json", "[checkpoint][safetensors]") {
    TempDir dir;
    write_minimal_config(dir.path());
    write_file(dir / "model-00001-of-00002.safetensors",
               safetensors_bytes({{"a.weight", "F32", {2, 2}, f32_bytes({1, 2, 3, 4})},
                                  {"b.weight", "F32", {1}, f32_bytes({5})}}));
    write_file(dir / "model-00002-of-00002.safetensors",
               safetensors_bytes({{"c.weight", "BF16", {2}, u16_bytes({0x3f80, 0x4000})},
                                  {"unlisted", "F32", {1}, f32_bytes({9})}}));
    write_file(dir / "model.safetensors.index.json", R"({"metadata": {"total_size": 26}, "weight_map": {
        "a.weight": "model-00001-of-00002.safetensors", "b.weight": "model-00001-of-00002.safetensors",
        "c.weight": "model-00002-of-00002.safetensors"}})");
    write_file(dir / "generation_config.json", R"({"eos_token_id": 7})");
    auto ckpt = llmatc::Checkpoint::open(dir.path());
    CHECK(ckpt->tensor_names() == std::vector<std::string>{"a.weight", "b.weight", "c.weight"});
    CHECK(ckpt->eos_token_ids() == std::vector<int32_t>{7});
    const auto* src = ckpt->source();
    float b;
    std::memcpy(&b, get_view(src, "b.weight").data, 4);
    CHECK(b == 5.0f);
    const auto c = get_view(src, "c.weight");
    CHECK(c.dtype == LLMATC_DTYPE_BF16);
    CHECK(llmatc::bf16_to_f32(static_cast<const uint16_t*>(c.data)[1]) == 2.0f);
    CHECK(src->has(src->ctx, "unlisted") == 0);  // the index decides what exists
}

TEST_CASE("generation_config.json without eos_token_id falls back to config.json's; none at all is empty",
          "[checkpoint]") {
    TempDir dir;
    write_file(dir / "model.safetensors", safetensors_bytes({{"x", "F32", {1}, f32_bytes({1})}}));
    write_file(dir / "config.json", R"({"eos_token_id": [3, 4]})");
    write_file(dir / "generation_config.json", R"({"bos_token_id": 1})");
    CHECK(llmatc::Checkpoint::open(dir.path())->eos_token_ids() == std::vector<int32_t>{3, 4});
    write_file(dir / "config.json", R"({"architectures": ["LlamaForCausalLM"]})");
    CHECK(llmatc::Checkpoint::open(dir.path())->eos_token_ids().empty());
}

TEST_CASE("a tensor stored misaligned is served aligned (copied); aligned ones stay mapped", "[checkpoint][safetensors]") {
    TempDir dir;
    write_minimal_config(dir.path());
    // A header of 10 bytes (legal, unpadded) puts the data section at file offset 18: F32 data misaligned by 2.
    const std::string header = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"h":{"dtype":"F16","shape":[1],"data_offsets":[8,10]}})";
    std::string bytes(8, '\0');
    const std::string padded = header + std::string((4 - (8 + header.size()) % 4 + 2) % 4, ' ');
    REQUIRE((8 + padded.size()) % 4 == 2);
    for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>((padded.size() >> (8 * i)) & 0xff);
    bytes += padded + f32_bytes({1.5f, -2.5f}) + u16_bytes({0x3c00});
    write_file(dir / "model.safetensors", bytes);
    auto ckpt = llmatc::Checkpoint::open(dir.path());
    const auto a = get_view(ckpt->source(), "a");
    CHECK(reinterpret_cast<uintptr_t>(a.data) % 4 == 0);
    CHECK_FALSE(is_mapped_from(a.data, dir / "model.safetensors"));
    float values[2];
    std::memcpy(values, a.data, 8);
    CHECK(values[0] == 1.5f);
    CHECK(values[1] == -2.5f);
    const auto h = get_view(ckpt->source(), "h");  // offset 18 + 8 = 26: 2-byte aligned already
    CHECK(is_mapped_from(h.data, dir / "model.safetensors"));
    CHECK(llmatc::f16_to_f32(*static_cast<const uint16_t*>(h.data)) == 1.0f);
}

TEST_CASE("a 0-d tensor is offered as a 1-element vector", "[checkpoint][safetensors]") {
    TempDir dir;
    write_minimal_config(dir.path());
    write_file(dir / "model.safetensors", safetensors_bytes({{"scale", "F32", {}, f32_bytes({2.5f})}}));
    auto ckpt = llmatc::Checkpoint::open(dir.path());
    const auto v = get_view(ckpt->source(), "scale");
    CHECK(v.n_dims == 1);
    CHECK(v.shape[0] == 1);
    CHECK(v.nbytes == 4);
}
