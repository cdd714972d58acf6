// core/runtime/tensor_parallel/sharding_plan.cpp — the Llama family's tensor-parallel split and per-rank config.
#include "runtime/tensor_parallel/sharding_plan.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <array>
#include <string_view>

#include "util/error.h"

namespace llmatc::tp {

namespace {

constexpr std::array<std::string_view, 2> kArchitectures = {"LlamaForCausalLM", "LLaMAForCausalLM"};
constexpr std::array<std::string_view, 5> kOutputRowSuffixes = {
    ".self_attn.q_proj.weight", ".self_attn.k_proj.weight", ".self_attn.v_proj.weight", ".mlp.gate_proj.weight",
    ".mlp.up_proj.weight"};
constexpr std::array<std::string_view, 2> kInputColumnSuffixes = {".self_attn.o_proj.weight", ".mlp.down_proj.weight"};

bool ends_with(const std::string& s, std::string_view suffix) {
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

[[noreturn]] void bad_config(const std::string& what) {
    throw Error(LLMATC_ERR_INVALID_ARGUMENT, "tensor parallelism: " + what);
}

int64_t positive_field(const rapidjson::Document& doc, const char* key) {
    auto it = doc.FindMember(key);
    if (it == doc.MemberEnd() || !it->value.IsInt64() || it->value.GetInt64() <= 0)
        bad_config(std::string("config.json has no positive integer \"") + key + "\"");
    return it->value.GetInt64();
}

}  // namespace

ShardingPlan::ShardingPlan(const std::string& config_json, int32_t world_size) : world_size_(world_size) {
    if (world_size < 1) bad_config("tensor-parallel size " + std::to_string(world_size) + " must be at least 1");
    rapidjson::Document doc;
    doc.Parse(config_json.data(), config_json.size());
    if (doc.HasParseError() || !doc.IsObject()) bad_config("config.json is not a JSON object");

    std::string seen;
    bool supported = false;
    if (auto it = doc.FindMember("architectures"); it != doc.MemberEnd() && it->value.IsArray())
        for (const auto& a : it->value.GetArray()) {
            if (!a.IsString()) continue;
            for (std::string_view known : kArchitectures) supported = supported || known == a.GetString();
            seen += (seen.empty() ? "" : ", ") + std::string(a.GetString());
        }
    if (!supported)
        throw Error(LLMATC_ERR_UNSUPPORTED, "tensor parallelism: no sharding plan for architecture [" + seen +
                                                "] (plans exist for LlamaForCausalLM)");

    const int64_t heads = positive_field(doc, "num_attention_heads");
    const int64_t kv_heads = doc.HasMember("num_key_value_heads") && !doc["num_key_value_heads"].IsNull()
                                 ? positive_field(doc, "num_key_value_heads")
                                 : heads;
    const int64_t intermediate = positive_field(doc, "intermediate_size");
    int64_t head_dim = 0;
    if (doc.HasMember("head_dim") && !doc["head_dim"].IsNull()) {
        head_dim = positive_field(doc, "head_dim");
    } else {
        const int64_t hidden = positive_field(doc, "hidden_size");
        if (hidden % heads != 0) bad_config("hidden_size is not a multiple of num_attention_heads");
        head_dim = hidden / heads;
    }
    const std::pair<const char*, int64_t> divided[] = {
        {"num_attention_heads", heads}, {"num_key_value_heads", kv_heads}, {"intermediate_size", intermediate}};
    for (const auto& [name, value] : divided)
        if (value % world_size != 0)
            bad_config(std::string(name) + " (" + std::to_string(value) + ") is not divisible by the tensor-parallel "
                       "size " + std::to_string(world_size));

    auto& alloc = doc.GetAllocator();
    auto set = [&](const char* key, int64_t value) {
        if (doc.HasMember(key)) doc[key].SetInt64(value);
        else doc.AddMember(rapidjson::Value(key, alloc), rapidjson::Value(value), alloc);
    };
    set("num_attention_heads", heads / world_size);
    set("num_key_value_heads", kv_heads / world_size);
    set("intermediate_size", intermediate / world_size);
    set("head_dim", head_dim);
    rapidjson::StringBuffer out;
    rapidjson::Writer<rapidjson::StringBuffer> writer(out);
    doc.Accept(writer);
    rank_config_.assign(out.GetString(), out.GetSize());
}

Split ShardingPlan::split_of(const std::string& tensor_name) const {
    if (world_size_ == 1) return Split::kReplicated;
    for (std::string_view s : kOutputRowSuffixes)
        if (ends_with(tensor_name, s)) return Split::kOutputRows;
    for (std::string_view s : kInputColumnSuffixes)
        if (ends_with(tensor_name, s)) return Split::kInputColumns;
    return Split::kReplicated;
}

}  // namespace llmatc::tp
