// cloud_providers/catalog/node_spec.cpp — parsing the cluster spec JSON that the launcher hands a cloud provider.
#include "node_spec.h"

#include <stdexcept>

#include <rapidjson/document.h>

namespace llmatc::cloud_catalog {

namespace {

std::string str(const rapidjson::Value& o, const char* key) {
    if (!o.IsObject()) return "";
    auto it = o.FindMember(key);
    return it != o.MemberEnd() && it->value.IsString() ? it->value.GetString() : "";
}

}  // namespace

NodeSpec parse_node_spec(std::string_view spec_json) {
    rapidjson::Document d;
    d.Parse(spec_json.data(), spec_json.size());
    if (d.HasParseError() || !d.IsObject()) throw std::invalid_argument("the cluster spec is not a JSON object");
    NodeSpec s;
    s.name = str(d, "name");
    if (s.name.empty()) throw std::invalid_argument("the cluster spec lacks \"name\"");
    s.cloud = str(d, "cloud");
    s.region = str(d, "region");
    s.zone = str(d, "zone");
    if (auto a = d.FindMember("accelerator"); a != d.MemberEnd() && a->value.IsObject()) {
        s.accelerator = str(a->value, "name");
        auto c = a->value.FindMember("count");
        s.accelerator_count = c != a->value.MemberEnd() && c->value.IsInt() ? c->value.GetInt() : 1;
        if (s.accelerator.empty()) throw std::invalid_argument("the cluster spec's \"accelerator\" lacks \"name\"");
    }
    if (auto p = d.FindMember("port"); p != d.MemberEnd() && p->value.IsInt()) s.port = p->value.GetInt();
    if (auto m = d.FindMember("model"); m != d.MemberEnd() && m->value.IsObject()) {
        s.model_name = str(m->value, "name");
        s.model_source = str(m->value, "source");
        if (auto b = m->value.FindMember("bytes"); b != m->value.MemberEnd() && b->value.IsUint64())
            s.model_bytes = b->value.GetUint64();
    }
    if (auto e = d.FindMember("envs"); e != d.MemberEnd() && e->value.IsObject())
        for (const auto& m : e->value.GetObject())
            if (m.value.IsString()) s.envs[m.name.GetString()] = m.value.GetString();
    s.api_key = str(d, "api_key");
    s.home = str(d, "home");
    if (auto h = d.FindMember("ssh"); h != d.MemberEnd()) {
        s.ssh_user = str(h->value, "user");
        s.ssh_private_key = str(h->value, "private_key");
        s.ssh_public_key = str(h->value, "public_key");
    }
    if (auto a = d.FindMember("server_argv"); a != d.MemberEnd() && a->value.IsArray())
        for (const auto& v : a->value.GetArray())
            if (v.IsString()) s.server_argv.emplace_back(v.GetString());
    if (auto r = d.FindMember("dryrun"); r != d.MemberEnd() && r->value.IsBool()) s.dryrun = r->value.GetBool();
    if (auto x = d.FindMember("extra"); x != d.MemberEnd() && x->value.IsObject()) {
        for (const auto& m : x->value.GetObject()) {
            if (m.value.IsString()) s.extra[m.name.GetString()] = m.value.GetString();
            if (std::string_view(m.name.GetString()) == "wait_ready" && m.value.IsBool()) s.wait_ready = m.value.GetBool();
            if (std::string_view(m.name.GetString()) == "ready_timeout_s" && m.value.IsInt())
                s.ready_timeout_s = m.value.GetInt();
        }
    }
    return s;
}

std::vector<std::string> spec_secrets(const NodeSpec& spec) {
    std::vector<std::string> out;
    for (const auto& [k, v] : spec.envs)
        if (!v.empty()) out.push_back(v);
    if (!spec.api_key.empty()) out.push_back(spec.api_key);
    return out;
}

std::string mask(std::string text, const std::vector<std::string>& secrets) {
    for (const auto& s : secrets) {
        if (s.empty()) continue;
        for (size_t at = text.find(s); at != std::string::npos; at = text.find(s, at + 4)) text.replace(at, s.size(), "****");
    }
    return text;
}

}  // namespace llmatc::cloud_catalog
