// core/plugin_registry/model_plugin_selection.cpp — picks the model plugin for a checkpoint: forced by name, or the
// highest probe score over config.json's `architectures`.
#include <string>
#include <vector>

#include <fmt/format.h>
#include <rapidjson/document.h>
#include <spdlog/spdlog.h>

#include "plugin_registry/plugin_registry.h"
#include "util/error.h"

namespace llmatc {

namespace {

// The generic score for "config.json's architectures holds one of the plugin's strings" (model.h's probe contract).
constexpr int32_t kArchitectureMatchScore = 100;

// config.json's `architectures` strings; empty when the text is not JSON or has no such array (then only a plugin
// whose probe recognises the checkpoint some other way can serve it).
std::vector<std::string> config_architectures(const std::string& config_json) {
    std::vector<std::string> out;
    rapidjson::Document doc;
    doc.Parse(config_json.data(), config_json.size());
    if (doc.HasParseError() || !doc.IsObject()) return out;
    auto it = doc.FindMember("architectures");
    if (it == doc.MemberEnd() || !it->value.IsArray()) return out;
    for (const auto& v : it->value.GetArray())
        if (v.IsString()) out.emplace_back(v.GetString(), v.GetStringLength());
    return out;
}

bool lists_architecture(const llmatc_model_plugin& table, const std::vector<std::string>& wanted) {
    for (const char* const* a = table.architectures; *a; ++a)
        for (const auto& w : wanted)
            if (w == *a) return true;
    return false;
}

// A plugin's score for the checkpoint. probe is C, but a plugin written in C++ could still let an exception out:
// that plugin scores 0 and the reason is logged, so one bad plugin cannot stop others from serving the model.
int32_t score_of(const PluginRecord& record, const std::string& config_json, const std::string& model_name,
                 const std::vector<std::string>& architectures) {
    const auto& table = *static_cast<const llmatc_model_plugin*>(record.interface);
    if (!table.probe) return lists_architecture(table, architectures) ? kArchitectureMatchScore : 0;
    try {
        int32_t score = table.probe(config_json.data(), config_json.size(), model_name.data(), model_name.size());
        return score > 0 ? score : 0;
    } catch (const std::exception& e) {
        spdlog::warn("model plugin {} ({}): probe threw an exception, skipping it: {}", record.name,
                     record.path.string(), e.what());
    } catch (...) {
        spdlog::warn("model plugin {} ({}): probe threw an exception, skipping it", record.name, record.path.string());
    }
    return 0;
}

std::string supported_architectures(const std::vector<PluginRecord>& plugins) {
    std::string out;
    for (const auto& p : plugins) {
        if (p.kind != LLMATC_PLUGIN_MODEL) continue;
        const auto& table = *static_cast<const llmatc_model_plugin*>(p.interface);
        for (const char* const* a = table.architectures; *a; ++a)
            out += fmt::format("{}{} ({})", out.empty() ? "" : ", ", *a, p.name);
    }
    return out.empty() ? "none (no model plugin was found)" : out;
}

}  // namespace

const PluginRecord& PluginRegistry::select_model_plugin(const std::string& config_json, const std::string& model_name,
                                                        const std::string& forced) const {
    if (!forced.empty()) return find(LLMATC_PLUGIN_MODEL, forced);

    const auto architectures = config_architectures(config_json);
    const PluginRecord* best = nullptr;
    int32_t best_score = 0;
    for (const auto& p : plugins()) {
        if (p.kind != LLMATC_PLUGIN_MODEL) continue;
        int32_t score = score_of(p, config_json, model_name, architectures);
        spdlog::debug("model plugin {} scores {} for {}", p.name, score, model_name);
        if (score > best_score) {  // strictly greater: ties go to the earlier plugin in the search order
            best = &p;
            best_score = score;
        }
    }
    if (best) return *best;

    std::string wanted;
    for (const auto& a : architectures) wanted += (wanted.empty() ? "" : ", ") + a;
    throw Error(LLMATC_ERR_UNSUPPORTED,
                fmt::format("no model plugin supports {}: config.json's architectures are [{}]; supported "
                            "architectures: {}{}",
                            model_name.empty() ? "this checkpoint" : model_name,
                            wanted.empty() ? "none given" : wanted, supported_architectures(plugins()),
                            problems().empty() ? ""
                                               : fmt::format(" ({} plugin file(s) could not be used, see `llm-atc "
                                                             "plugins`)",
                                                             problems().size())));
}

}  // namespace llmatc
