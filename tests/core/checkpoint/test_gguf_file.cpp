// tests/core/checkpoint/test_gguf_file.cpp — the GGUF reader: HF names, q/k rows restored to rotate_half order,
// config.json from llama.* metadata, and clear errors for corrupt or unsupported files.
#include <catch2/catch.hpp>

#include <rapidjson/document.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "checkpoint/checkpoint.h"
#include "checkpoint/gguf_file.h"
#include "checkpoint_test_support.h"
#include "util/error.h"

using llmatc::checkpoint_detail::GgufFile;
using llmatc::checkpoint_detail::gguf_to_hf_tensor_name;
using llmatc::checkpoint_detail::unpermute_rotary_rows;

namespace {

// A minimal GGUF v3 writer: u32 metadata values and strings, F32 tensors (2-D given outermost first).
struct GgufBuilder {
    struct Tensor {
        std::string name;
        std::vector<int64_t> shape;
        std::vector<float> values;
        uint32_t ggml_type = 0;
    };
    std::string kv;
    uint64_t n_kv = 0;
    std::vector<Tensor> tensors;
    uint32_t magic = 0x46554747;

    template <class T>
    static void put(std::string& out, T v) {
        out.append(reinterpret_cast<const char*>(&v), sizeof v);
    }
    static void put_string(std::string& out, const std::string& s) {
        put<uint64_t>(out, s.size());
        out += s;
    }
    void u32(const std::string& key, uint32_t v) {
        put_string(kv, key);
        put<uint32_t>(kv, 4);
        put<uint32_t>(kv, v);
        ++n_kv;
    }
    void f32(const std::string& key, float v) {
        put_string(kv, key);
        put<uint32_t>(kv, 6);
        put<float>(kv, v);
        ++n_kv;
    }
    void str(const std::string& key, const std::string& v) {
        put_string(kv, key);
        put<uint32_t>(kv, 8);
        put_string(kv, v);
        ++n_kv;
    }
    std::string bytes() const {
        std::string out;
        put<uint32_t>(out, magic);
        put<uint32_t>(out, 3);
        put<uint64_t>(out, tensors.size());
        put<uint64_t>(out, n_kv);
        out += kv;
        uint64_t offset = 0;
        for (const Tensor& t : tensors) {
            put_string(out, t.name);
            put<uint32_t>(out, uint32_t(t.shape.size()));
            for (auto it = t.shape.rbegin(); it != t.shape.rend(); ++it) put<uint64_t>(out, uint64_t(*it));
            put<uint32_t>(out, t.ggml_type);
            put<uint64_t>(out, offset);
            offset += (t.values.size() * 4 + 31) / 32 * 32;
        }
        out.resize((out.size() + 31) / 32 * 32, '\0');
        for (const Tensor& t : tensors) {
            std::string data(reinterpret_cast<const char*>(t.values.data()), t.values.size() * 4);
            data.resize((data.size() + 31) / 32 * 32, '\0');
            out += data;
        }
        return out;
    }
};

// One layer, hidden 8, 2 heads of 4 (1 KV head), vocab 4; each row of q/k holds its own row index.
GgufBuilder tiny_llama() {
    GgufBuilder b;
    b.str("general.architecture", "llama");
    b.u32("llama.embedding_length", 8);
    b.u32("llama.feed_forward_length", 32);
    b.u32("llama.block_count", 1);
    b.u32("llama.attention.head_count", 2);
    b.u32("llama.attention.head_count_kv", 1);
    b.u32("llama.context_length", 64);
    b.f32("llama.attention.layer_norm_rms_epsilon", 1e-6f);
    b.f32("llama.rope.freq_base", 500000.0f);
    b.u32("tokenizer.ggml.bos_token_id", 1);
    b.u32("tokenizer.ggml.eos_token_id", 2);
    auto rows = [](int64_t r, int64_t c) {
        std::vector<float> v(size_t(r * c));
        for (int64_t i = 0; i < r; ++i)
            for (int64_t j = 0; j < c; ++j) v[size_t(i * c + j)] = float(i);
        return v;
    };
    b.tensors.push_back({"token_embd.weight", {4, 8}, rows(4, 8)});
    b.tensors.push_back({"blk.0.attn_q.weight", {8, 8}, rows(8, 8)});
    b.tensors.push_back({"blk.0.attn_k.weight", {4, 8}, rows(4, 8)});
    b.tensors.push_back({"blk.0.ffn_down.weight", {8, 32}, rows(8, 32)});
    b.tensors.push_back({"output_norm.weight", {8}, std::vector<float>(8, 1.0f)});
    return b;
}

float first_of_row(const llmatc::checkpoint_detail::TensorEntry& e, int64_t row) {
    float v;
    std::memcpy(&v, static_cast<const uint8_t*>(e.data) + row * e.shape[1] * 4, 4);
    return v;
}

}  // namespace

TEST_CASE("llama.cpp tensor names map to Hugging Face names", "[gguf]") {
    CHECK(gguf_to_hf_tensor_name("token_embd.weight") == "model.embed_tokens.weight");
    CHECK(gguf_to_hf_tensor_name("output.weight") == "lm_head.weight");
    CHECK(gguf_to_hf_tensor_name("output_norm.weight") == "model.norm.weight");
    CHECK(gguf_to_hf_tensor_name("blk.12.attn_q.weight") == "model.layers.12.self_attn.q_proj.weight");
    CHECK(gguf_to_hf_tensor_name("blk.3.ffn_down.weight") == "model.layers.3.mlp.down_proj.weight");
    CHECK(gguf_to_hf_tensor_name("blk.0.ffn_norm.weight") == "model.layers.0.post_attention_layernorm.weight");
    CHECK_FALSE(gguf_to_hf_tensor_name("rope_freqs.weight").has_value());
}

TEST_CASE("a GGUF file reads as a Hugging Face Llama checkpoint", "[gguf]") {
    ckpt_test::TempDir dir;
    ckpt_test::write_file(dir / "model.gguf", tiny_llama().bytes());
    GgufFile file(dir / "model.gguf");

    // q/k entries point into the file (its row order) and say how many heads to put back in Hugging Face order.
    const auto* q = file.find("model.layers.0.self_attn.q_proj.weight");
    REQUIRE(q != nullptr);
    REQUIRE(q->shape == std::vector<int64_t>{8, 8});
    CHECK(q->interleaved_rotary_heads == 2);
    for (int r = 0; r < 8; ++r) CHECK(first_of_row(*q, r) == float(r));
    // File row h*4 + 2j + s holds HF row h*4 + s*2 + j: HF row order is 0 2 1 3 | 4 6 5 7 of the file's rows.
    auto unpermuted = [](const llmatc::checkpoint_detail::TensorEntry& e) {
        auto bytes = std::make_shared<std::vector<uint8_t>>(size_t(e.nbytes));
        unpermute_rotary_rows(e, bytes->data());
        llmatc::checkpoint_detail::TensorEntry copy = e;
        copy.data = bytes->data();
        return std::make_pair(copy, bytes);
    };
    const int expected_q[] = {0, 2, 1, 3, 4, 6, 5, 7};
    const auto q_hf = unpermuted(*q);
    for (int r = 0; r < 8; ++r) CHECK(first_of_row(q_hf.first, r) == float(expected_q[r]));
    const auto* k = file.find("model.layers.0.self_attn.k_proj.weight");
    REQUIRE(k != nullptr);
    CHECK(k->interleaved_rotary_heads == 1);
    const int expected_k[] = {0, 2, 1, 3};  // one KV head
    const auto k_hf = unpermuted(*k);
    for (int r = 0; r < 4; ++r) CHECK(first_of_row(k_hf.first, r) == float(expected_k[r]));
    // Other tensors are untouched and shaped outermost first.
    const auto* down = file.find("model.layers.0.mlp.down_proj.weight");
    REQUIRE(down != nullptr);
    CHECK(down->shape == std::vector<int64_t>{8, 32});
    CHECK(first_of_row(*down, 5) == 5.0f);

    rapidjson::Document config;
    config.Parse(file.config_json().c_str());
    REQUIRE(config.IsObject());
    CHECK(std::string(config["architectures"][0].GetString()) == "LlamaForCausalLM");
    CHECK(config["hidden_size"].GetInt() == 8);
    CHECK(config["intermediate_size"].GetInt() == 32);
    CHECK(config["num_attention_heads"].GetInt() == 2);
    CHECK(config["num_key_value_heads"].GetInt() == 1);
    CHECK(config["vocab_size"].GetInt() == 4);
    CHECK(config["rope_theta"].GetDouble() == Approx(500000.0));
    CHECK(config["rms_norm_eps"].GetDouble() == Approx(1e-6));
    CHECK(config["tie_word_embeddings"].GetBool());
    CHECK(file.eos_token_ids() == std::vector<int32_t>{2});
}

TEST_CASE("a directory holding only a .gguf opens as a checkpoint", "[gguf]") {
    ckpt_test::TempDir dir;
    ckpt_test::write_file(dir / "tiny.gguf", tiny_llama().bytes());
    auto checkpoint = llmatc::Checkpoint::open(dir.path());
    CHECK(checkpoint->config_json().find("LlamaForCausalLM") != std::string::npos);
    const llmatc_tensor_source* src = checkpoint->source();
    CHECK(src->has(src->ctx, "model.embed_tokens.weight") == 1);
    CHECK(src->has(src->ctx, "token_embd.weight") == 0);

    // q/k come out as transient copies in Hugging Face row order; other tensors are the file's bytes, not flagged.
    auto get = [&](const char* name) {
        llmatc_tensor_view view{};
        view.struct_size = sizeof(view);
        REQUIRE(src->get(src->ctx, name, &view) == LLMATC_OK);
        return view;
    };
    auto first_value = [](const llmatc_tensor_view& v, int64_t row) {
        float x;
        std::memcpy(&x, static_cast<const uint8_t*>(v.data) + row * v.shape[1] * 4, 4);
        return x;
    };
    const llmatc_tensor_view q = get("model.layers.0.self_attn.q_proj.weight");
    CHECK(q.flags == LLMATC_TENSOR_TRANSIENT);
    const int expected_q[] = {0, 2, 1, 3, 4, 6, 5, 7};
    for (int r = 0; r < 8; ++r) CHECK(first_value(q, r) == float(expected_q[r]));
    CHECK(get("model.layers.0.self_attn.q_proj.weight").data == q.data);  // one copy per tensor
    // Two gets, so the copy outlives one release; the second frees it, and a later get copies again.
    src->release(src->ctx, "model.layers.0.self_attn.q_proj.weight");
    CHECK(get("model.layers.0.self_attn.q_proj.weight").data == q.data);
    for (int i = 0; i < 3; ++i) src->release(src->ctx, "model.layers.0.self_attn.q_proj.weight");
    src->release(src->ctx, "model.layers.0.mlp.down_proj.weight");  // not a copy: nothing to free
    const llmatc_tensor_view copied_again = get("model.layers.0.self_attn.q_proj.weight");
    for (int r = 0; r < 8; ++r) CHECK(first_value(copied_again, r) == float(expected_q[r]));
    const llmatc_tensor_view down = get("model.layers.0.mlp.down_proj.weight");
    CHECK(down.flags == 0);
    CHECK(first_value(down, 5) == 5.0f);
    // Released once the model exists; asked again, the tensor is copied again, as correct as the first time.
    checkpoint->release_transient_copies();
    const llmatc_tensor_view again = get("model.layers.0.self_attn.q_proj.weight");
    CHECK(again.flags == LLMATC_TENSOR_TRANSIENT);
    for (int r = 0; r < 8; ++r) CHECK(first_value(again, r) == float(expected_q[r]));
}

TEST_CASE("corrupt or unsupported GGUF files are refused with a clear error", "[gguf]") {
    ckpt_test::TempDir dir;
    const auto path = dir / "model.gguf";
    auto message_of = [&](const std::string& bytes) {
        ckpt_test::write_file(path, bytes);
        try {
            GgufFile file(path);
        } catch (const llmatc::Error& e) {
            return std::string(e.what());
        }
        return std::string("no error");
    };
    const std::string good = tiny_llama().bytes();
    CHECK_THAT(message_of(good.substr(0, 200)), Catch::Contains("model.gguf") && Catch::Contains("truncated"));
    CHECK_THAT(message_of(good.substr(0, good.size() - 40)), Catch::Contains("outside the file"));

    GgufBuilder bad_magic = tiny_llama();
    bad_magic.magic = 0x12345678;
    CHECK_THAT(message_of(bad_magic.bytes()), Catch::Contains("not a GGUF file"));

    GgufBuilder q2k = tiny_llama();
    q2k.tensors[3].ggml_type = 10;  // Q2_K: not read
    CHECK_THAT(message_of(q2k.bytes()), Catch::Contains("blk.0.ffn_down.weight") && Catch::Contains("type 10"));

    // Q6_K is read, with the same rule as Q4_K.
    GgufBuilder q6k = tiny_llama();
    q6k.tensors[3].ggml_type = 14;  // Q6_K
    CHECK_THAT(message_of(q6k.bytes()),
               Catch::Contains("blk.0.ffn_down.weight") && Catch::Contains("do not fill whole Q6_K blocks"));

    // Q4_K is read, but its super-blocks of 256 must tile the rows.
    GgufBuilder q4k = tiny_llama();
    q4k.tensors[3].ggml_type = 12;  // Q4_K
    CHECK_THAT(message_of(q4k.bytes()),
               Catch::Contains("blk.0.ffn_down.weight") && Catch::Contains("do not fill whole Q4_K blocks"));

    GgufBuilder other;
    other.str("general.architecture", "gpt2");
    CHECK_THAT(message_of(other.bytes()), Catch::Contains("architecture"));
}
