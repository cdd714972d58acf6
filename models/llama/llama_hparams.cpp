// models/llama/llama_hparams.cpp — reads Llama hyper-parameters from config.json (RapidJSON) and rejects what the
// forward does not implement.
#include "llama/llama_hparams.h"

#include <cmath>
#include <cstring>
#include <string>
#include <utility>

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include "llama/llama_error.h"

namespace llmatc::llama {

const char* const kLlamaArchitectures[] = {"LlamaForCausalLM", "LLaMAForCausalLM", nullptr};

namespace {

bool is_llama_architecture(const char* name) {
    for (const char* const* a = kLlamaArchitectures; *a; ++a)
        if (std::strcmp(*a, name) == 0) return true;
    return false;
}

class ConfigReader {
public:
    ConfigReader(const rapidjson::Document& doc, std::string where) : doc_(doc), where_(std::move(where)) {}

    [[noreturn]] void fail(llmatc_status status, const std::string& what) const {
        throw LlamaError(status, where_ + ": " + what);
    }

    // A value that is absent or JSON null reads as absent (HF writes null for unset optional fields).
    const rapidjson::Value* find(const char* key) const {
        auto it = doc_.FindMember(key);
        if (it == doc_.MemberEnd() || it->value.IsNull()) return nullptr;
        return &it->value;
    }

    int32_t positive_int(const char* key) const {
        const rapidjson::Value* v = find(key);
        if (!v) fail(LLMATC_ERR_CORRUPT, std::string("missing required field \"") + key + "\"");
        return checked_positive_int(key, *v);
    }

    int32_t positive_int_or(const char* key, int32_t fallback) const {
        const rapidjson::Value* v = find(key);
        return v ? checked_positive_int(key, *v) : fallback;
    }

    double positive_number_or(const char* key, double fallback) const {
        const rapidjson::Value* v = find(key);
        if (!v) return fallback;
        if (!v->IsNumber() || !(v->GetDouble() > 0.0) || !std::isfinite(v->GetDouble()))
            fail(LLMATC_ERR_CORRUPT, std::string("field \"") + key + "\" must be a positive number");
        return v->GetDouble();
    }

    bool bool_or(const char* key, bool fallback) const {
        const rapidjson::Value* v = find(key);
        if (!v) return fallback;
        if (!v->IsBool()) fail(LLMATC_ERR_CORRUPT, std::string("field \"") + key + "\" must be true or false");
        return v->GetBool();
    }

private:
    int32_t checked_positive_int(const char* key, const rapidjson::Value& v) const {
        if (!v.IsInt64() || v.GetInt64() <= 0 || v.GetInt64() > INT32_MAX)
            fail(LLMATC_ERR_CORRUPT, std::string("field \"") + key + "\" must be a positive integer");
        return static_cast<int32_t>(v.GetInt64());
    }

    const rapidjson::Document& doc_;
    std::string where_;
};

std::string architectures_list() {
    std::string out;
    for (const char* const* a = kLlamaArchitectures; *a; ++a) out += (out.empty() ? "" : ", ") + std::string(*a);
    return out;
}

// Linear scaling divides positions by `factor`; every other scheme changes the frequencies and is refused.
float parse_rope_scaling(const ConfigReader& config) {
    const rapidjson::Value* scaling = config.find("rope_scaling");
    if (!scaling) return 1.0f;
    if (!scaling->IsObject()) config.fail(LLMATC_ERR_CORRUPT, "field \"rope_scaling\" must be an object or null");
    std::string type;
    for (const char* key : {"rope_type", "type"}) {
        auto it = scaling->FindMember(key);
        if (it != scaling->MemberEnd() && it->value.IsString()) {
            type = it->value.GetString();
            break;
        }
    }
    if (type == "default") return 1.0f;
    if (type != "linear")
        config.fail(LLMATC_ERR_UNSUPPORTED, "unsupported rope_scaling type \"" + type +
                                                "\" (this Llama plugin implements \"linear\" only)");
    auto factor = scaling->FindMember("factor");
    if (factor == scaling->MemberEnd() || !factor->value.IsNumber() || !(factor->value.GetDouble() > 0.0))
        config.fail(LLMATC_ERR_CORRUPT, "rope_scaling \"linear\" needs a positive \"factor\"");
    return static_cast<float>(factor->value.GetDouble());
}

}  // namespace

bool config_names_llama_architecture(std::string_view config_json) {
    rapidjson::Document doc;
    doc.Parse(config_json.data(), config_json.size());
    if (doc.HasParseError() || !doc.IsObject()) return false;
    auto it = doc.FindMember("architectures");
    if (it == doc.MemberEnd() || !it->value.IsArray()) return false;
    for (const auto& a : it->value.GetArray())
        if (a.IsString() && is_llama_architecture(a.GetString())) return true;
    return false;
}

LlamaHparams parse_llama_hparams(std::string_view config_json, const std::string& model_dir) {
    rapidjson::Document doc;
    doc.Parse(config_json.data(), config_json.size());
    const std::string where = (model_dir.empty() ? std::string("config.json") : model_dir + "/config.json");
    if (doc.HasParseError())
        throw LlamaError(LLMATC_ERR_CORRUPT, where + ": invalid JSON at offset " +
                                                 std::to_string(doc.GetErrorOffset()) + ": " +
                                                 rapidjson::GetParseError_En(doc.GetParseError()));
    if (!doc.IsObject()) throw LlamaError(LLMATC_ERR_CORRUPT, where + ": expected a JSON object");
    ConfigReader config(doc, where);

    LlamaHparams hp;
    const rapidjson::Value* archs = config.find("architectures");
    if (!archs || !archs->IsArray())
        config.fail(LLMATC_ERR_CORRUPT, "missing \"architectures\" list (expected one of: " + architectures_list() + ")");
    std::string seen;
    for (const auto& a : archs->GetArray()) {
        if (!a.IsString()) continue;
        if (is_llama_architecture(a.GetString())) {
            hp.architecture = a.GetString();
            break;
        }
        seen += (seen.empty() ? "" : ", ") + std::string(a.GetString());
    }
    if (hp.architecture.empty())
        config.fail(LLMATC_ERR_UNSUPPORTED, "unsupported architecture [" + seen +
                                                "] for the Llama forward (supported: " + architectures_list() + ")");

    hp.hidden_size = config.positive_int("hidden_size");
    hp.intermediate_size = config.positive_int("intermediate_size");
    hp.n_layers = config.positive_int("num_hidden_layers");
    hp.n_heads = config.positive_int("num_attention_heads");
    hp.n_kv_heads = config.positive_int_or("num_key_value_heads", hp.n_heads);
    hp.vocab_size = config.positive_int("vocab_size");
    hp.max_position_embeddings = config.positive_int_or("max_position_embeddings", 2048);
    hp.rms_norm_eps = static_cast<float>(config.positive_number_or("rms_norm_eps", 1e-6));
    hp.rope_theta = static_cast<float>(config.positive_number_or("rope_theta", 10000.0));
    hp.tie_word_embeddings = config.bool_or("tie_word_embeddings", false);
    hp.rope_pos_scale = parse_rope_scaling(config);

    if (hp.n_heads % hp.n_kv_heads != 0)
        config.fail(LLMATC_ERR_CORRUPT, "num_attention_heads (" + std::to_string(hp.n_heads) +
                                            ") is not a multiple of num_key_value_heads (" +
                                            std::to_string(hp.n_kv_heads) + ")");
    if (config.find("head_dim")) {
        hp.head_dim = config.positive_int("head_dim");
    } else {
        if (hp.hidden_size % hp.n_heads != 0)
            config.fail(LLMATC_ERR_CORRUPT, "hidden_size (" + std::to_string(hp.hidden_size) +
                                                ") is not a multiple of num_attention_heads (" +
                                                std::to_string(hp.n_heads) + ") and no head_dim is given");
        hp.head_dim = hp.hidden_size / hp.n_heads;
    }
    if (hp.head_dim % 2 != 0)
        config.fail(LLMATC_ERR_CORRUPT, "head_dim " + std::to_string(hp.head_dim) + " must be even for RoPE");

    if (config.bool_or("attention_bias", false))
        config.fail(LLMATC_ERR_UNSUPPORTED, "unsupported \"attention_bias\": true (q/k/v/o biases are not implemented)");
    if (config.bool_or("mlp_bias", false))
        config.fail(LLMATC_ERR_UNSUPPORTED, "unsupported \"mlp_bias\": true (MLP biases are not implemented)");
    if (const rapidjson::Value* act = config.find("hidden_act")) {
        if (!act->IsString() || std::string(act->GetString()) != "silu")
            config.fail(LLMATC_ERR_UNSUPPORTED, std::string("unsupported \"hidden_act\" ") +
                                                    (act->IsString() ? act->GetString() : "(not a string)") +
                                                    " (only \"silu\" is implemented)");
    }
    return hp;
}

}  // namespace llmatc::llama
