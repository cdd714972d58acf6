// cloud_providers/catalog/node_plan.cpp — planning one GPU node for a cluster spec.
#include "node_plan.h"

#include <cctype>
#include <cstdlib>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace llmatc::cloud_catalog {

std::string resource_name(const NodeSpec& spec) {
    // Cloud names allow lowercase letters, digits and dashes (GCP is the strictest); cluster names are validated
    // upstream to [A-Za-z0-9._-], so this only lowercases and maps the rest to '-'.
    std::string out = "llmatc-";
    for (char c : spec.name) out += std::isalnum(static_cast<unsigned char>(c)) ? static_cast<char>(std::tolower(c)) : '-';
    return out.substr(0, 60);
}

NodePlan plan_node(const NodeSpec& spec, const Catalog& catalog, const std::string& default_region) {
    if (spec.accelerator.empty())
        throw CatalogError(catalog.cloud + ": a node needs --accelerator NAME[:COUNT] (see `llm-atc show-accelerators "
                           "--cloud " + catalog.cloud + "`)");
    NodePlan p;
    p.choice = choose_instance(catalog, spec.accelerator, spec.accelerator_count,
                               spec.region.empty() ? default_region : spec.region, spec.zone);
    p.model_size = estimate_model_size(spec.model_source.empty() ? spec.model_name : spec.model_source + " " + spec.model_name,
                                       spec.model_bytes);
    p.disk_gib = disk_gib_for(p.model_size.bytes);
    p.tensor_parallel_size = p.choice.offer.count;
    p.bootstrap.cluster = spec.name;
    p.bootstrap.server_argv = spec.server_argv;
    p.bootstrap.envs = spec.envs;
    if (!spec.api_key.empty()) p.bootstrap.envs["LLMATC_API_KEY"] = spec.api_key;
    p.bootstrap.port = spec.port;
    if (auto it = spec.extra.find("runtime_url"); it != spec.extra.end()) p.bootstrap.runtime_url = it->second;
    else if (const char* url = std::getenv("LLMATC_RUNTIME_URL"); url && *url) p.bootstrap.runtime_url = url;
    p.script = bootstrap_script(p.bootstrap, false);
    p.script_masked = bootstrap_script(p.bootstrap, true);
    return p;
}

std::string plan_record_json(const NodeSpec& spec, const NodePlan& p, const std::vector<std::string>& would_create) {
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    auto str = [&](const char* k, const std::string& v) {
        w.Key(k);
        w.String(v.c_str(), static_cast<rapidjson::SizeType>(v.size()));
    };
    w.StartObject();
    str("status", "INIT");
    str("ip", "");
    w.Key("port"); w.Int(spec.port);
    str("region", p.choice.region);
    str("zone", "");
    w.Key("instance_ids"); w.StartArray(); w.EndArray();
    str("instance_type", p.choice.offer.instance_type);
    w.Key("hourly_price"); w.Double(p.choice.hourly_price);
    w.Key("plan");
    w.StartObject();
    str("cloud", spec.cloud);
    str("region", p.choice.region);
    w.Key("zones_to_try");
    w.StartArray();
    for (const auto& z : p.choice.zones) w.String(z.c_str());
    w.EndArray();
    str("instance_type", p.choice.offer.instance_type);
    str("accelerator", p.choice.offer.accelerator + ":" + std::to_string(p.choice.offer.count) + " (" +
                           std::to_string(static_cast<int>(p.choice.offer.gpu_memory_gib)) + " GiB each)");
    if (!p.choice.note.empty()) str("note", p.choice.note);
    w.Key("hourly_price"); w.Double(p.choice.hourly_price);
    w.Key("disk_gib"); w.Int(p.disk_gib);
    str("disk_basis", "2.5 x model weights (" + p.model_size.basis + ") + 50 GiB, rounded up to 10");
    w.Key("tensor_parallel_size"); w.Int(p.tensor_parallel_size);
    str("model", spec.model_source.empty() ? spec.model_name : spec.model_source);
    w.Key("would_create");
    w.StartArray();
    for (const auto& r : would_create) w.String(r.c_str());
    w.EndArray();
    str("bootstrap_script", p.script_masked);
    w.EndObject();
    w.EndObject();
    return buf.GetString();
}

}  // namespace llmatc::cloud_catalog
