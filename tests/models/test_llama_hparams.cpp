// tests/models/test_llama_hparams.cpp — config.json parsing of the Llama architecture: defaults, rope_scaling, errors.
#include <catch2/catch.hpp>

#include <string>

#include "llama/llama_error.h"
#include "llama/llama_hparams.h"

using llmatc::llama::LlamaError;
using llmatc::llama::parse_llama_hparams;

namespace {

// A minimal valid Llama config with `extra` fields appended (each starting with a comma).
std::string config(const std::string& extra = "") {
    return R"({"architectures": ["LlamaForCausalLM"], "hidden_size": 64, "intermediate_size": 172,
               "num_hidden_layers": 2, "num_attention_heads": 8, "vocab_size": 512)" + extra + "}";
}

// Runs the parser expecting a LlamaError; returns its message after checking its status.
std::string error_of(const std::string& json, llmatc_status expected) {
    try {
        parse_llama_hparams(json, "/models/x");
    } catch (const LlamaError& e) {
        CHECK(e.status() == expected);
        return e.what();
    }
    FAIL("no error for " << json);
    return "";
}

}  // namespace

TEST_CASE("Hugging Face defaults fill the optional fields", "[llama][hparams]") {
    const auto hp = parse_llama_hparams(config(), "/models/x");
    CHECK(hp.architecture == "LlamaForCausalLM");
    CHECK(hp.n_kv_heads == 8);
    CHECK(hp.head_dim == 8);
    CHECK(hp.rope_theta == 10000.0f);
    CHECK(hp.rope_pos_scale == 1.0f);
    CHECK(hp.rms_norm_eps == Approx(1e-6f));
    CHECK(hp.max_position_embeddings == 2048);
    CHECK_FALSE(hp.tie_word_embeddings);
}

TEST_CASE("explicit fields override the defaults", "[llama][hparams]") {
    const auto hp = parse_llama_hparams(
        config(R"(, "num_key_value_heads": 2, "head_dim": 16, "rope_theta": 500000.0, "rms_norm_eps": 1e-5,
                  "tie_word_embeddings": true, "max_position_embeddings": 4096, "rope_scaling": null,
                  "attention_bias": false, "mlp_bias": false, "hidden_act": "silu")"),
        "/models/x");
    CHECK(hp.n_kv_heads == 2);
    CHECK(hp.head_dim == 16);
    CHECK(hp.rope_theta == 500000.0f);
    CHECK(hp.rms_norm_eps == Approx(1e-5f));
    CHECK(hp.tie_word_embeddings);
    CHECK(hp.max_position_embeddings == 4096);
}

TEST_CASE("linear rope_scaling gives the position scale; other types are refused", "[llama][hparams]") {
    CHECK(parse_llama_hparams(config(R"(, "rope_scaling": {"type": "linear", "factor": 4.0})"), "d").rope_pos_scale ==
          4.0f);
    CHECK(parse_llama_hparams(config(R"(, "rope_scaling": {"rope_type": "linear", "factor": 2})"), "d")
              .rope_pos_scale == 2.0f);
    const auto msg = error_of(config(R"(, "rope_scaling": {"type": "dynamic", "factor": 2.0})"), LLMATC_ERR_UNSUPPORTED);
    CHECK_THAT(msg, Catch::Contains("unsupported rope_scaling") && Catch::Contains("dynamic") &&
                        Catch::Contains("/models/x/config.json"));
    error_of(config(R"(, "rope_scaling": {"type": "linear"})"), LLMATC_ERR_CORRUPT);
}

TEST_CASE("features the forward lacks are refused by name", "[llama][hparams]") {
    CHECK_THAT(error_of(config(R"(, "attention_bias": true)"), LLMATC_ERR_UNSUPPORTED),
               Catch::Contains("attention_bias"));
    CHECK_THAT(error_of(config(R"(, "mlp_bias": true)"), LLMATC_ERR_UNSUPPORTED), Catch::Contains("mlp_bias"));
    CHECK_THAT(error_of(config(R"(, "hidden_act": "gelu")"), LLMATC_ERR_UNSUPPORTED), Catch::Contains("hidden_act"));
}

TEST_CASE("malformed configs name the file and the field", "[llama][hparams]") {
    CHECK_THAT(error_of("{not json", LLMATC_ERR_CORRUPT),
               Catch::Contains("/models/x/config.json") && Catch::Contains("invalid JSON"));
    CHECK_THAT(error_of(R"({"architectures": ["LlamaForCausalLM"], "hidden_size": 64})", LLMATC_ERR_CORRUPT),
               Catch::Contains("intermediate_size"));
    CHECK_THAT(error_of(config(R"(, "num_key_value_heads": 3)"), LLMATC_ERR_CORRUPT),
               Catch::Contains("num_key_value_heads"));
    CHECK_THAT(error_of(R"({"architectures": ["LlamaForCausalLM"], "hidden_size": -4, "intermediate_size": 1,
                            "num_hidden_layers": 1, "num_attention_heads": 1, "vocab_size": 1})",
                        LLMATC_ERR_CORRUPT),
               Catch::Contains("hidden_size"));
    CHECK_THAT(error_of(R"({"architectures": ["MistralForCausalLM"]})", LLMATC_ERR_UNSUPPORTED),
               Catch::Contains("MistralForCausalLM") && Catch::Contains("LlamaForCausalLM"));
}

TEST_CASE("architecture matching accepts the aliases and rejects the rest", "[llama][hparams]") {
    using llmatc::llama::config_names_llama_architecture;
    CHECK(config_names_llama_architecture(R"({"architectures": ["LlamaForCausalLM"]})"));
    CHECK(config_names_llama_architecture(R"({"architectures": ["Foo", "LLaMAForCausalLM"]})"));
    CHECK_FALSE(config_names_llama_architecture(R"({"architectures": ["MistralForCausalLM"]})"));
    CHECK_FALSE(config_names_llama_architecture(R"({"model_type": "llama"})"));
    CHECK_FALSE(config_names_llama_architecture("garbage"));
}
