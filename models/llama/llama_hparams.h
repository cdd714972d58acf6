// models/llama/llama_hparams.h — Llama hyper-parameters, parsed and validated from config.json.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace llmatc::llama {

// The config.json fields the Llama forward needs, with Hugging Face's defaults applied.
struct LlamaHparams {
    std::string architecture;      // the first `architectures` entry this plugin handles
    int32_t hidden_size = 0;
    int32_t intermediate_size = 0;
    int32_t n_layers = 0;          // num_hidden_layers
    int32_t n_heads = 0;           // num_attention_heads
    int32_t n_kv_heads = 0;        // num_key_value_heads (default: n_heads)
    int32_t head_dim = 0;          // head_dim (default: hidden_size / n_heads)
    float rms_norm_eps = 1e-6f;
    float rope_theta = 10000.0f;
    float rope_pos_scale = 1.0f;   // linear rope_scaling's factor; 1 when there is none
    int32_t vocab_size = 0;
    int32_t max_position_embeddings = 2048;
    bool tie_word_embeddings = false;
};

// The `architectures` strings of config.json that the Llama forward implements (NULL-terminated).
extern const char* const kLlamaArchitectures[];

// True when config.json's `architectures` names one of kLlamaArchitectures. Never throws: malformed JSON is false.
bool config_names_llama_architecture(std::string_view config_json);

// Parses config.json's text. Throws LlamaError naming `model_dir`'s config.json and the field at fault: CORRUPT for
// malformed JSON or a missing/mistyped/non-positive field, UNSUPPORTED for features this forward does not implement
// (rope_scaling other than linear, attention/MLP biases, an activation other than silu, an unknown architecture).
LlamaHparams parse_llama_hparams(std::string_view config_json, const std::string& model_dir);

}  // namespace llmatc::llama
