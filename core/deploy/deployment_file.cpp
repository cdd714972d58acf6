// core/deploy/deployment_file.cpp — YAML deployment files onto ServeOptions, with line-numbered errors.
#include "deploy/deployment_file.h"

#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <functional>
#include <limits>
#include <map>

#include "deploy/envs.h"
#include "deploy/paths.h"
#include "util/error.h"

namespace llmatc::deploy {

namespace {

using Setter = std::function<void(const YAML::Node&, cli::ServeOptions&)>;

struct Context {
    std::string file;
};

std::string where(const Context& ctx, const YAML::Node& node) {
    return ctx.file + ":" + std::to_string(node.Mark().line + 1);
}

[[noreturn]] void bad(const Context& ctx, const YAML::Node& node, const std::string& key, const std::string& what) {
    throw Error(LLMATC_ERR_INVALID_ARGUMENT, where(ctx, node) + ": '" + key + "' " + what);
}

std::string scalar(const Context& ctx, const YAML::Node& n, const std::string& key) {
    if (n.IsNull()) return "";
    if (!n.IsScalar()) bad(ctx, n, key, "must be a single value, not a list or mapping");
    return n.Scalar();
}

long long integer(const Context& ctx, const YAML::Node& n, const std::string& key, long long lo, long long hi) {
    const std::string s = scalar(ctx, n, key);
    size_t used = 0;
    long long v = 0;
    try {
        v = std::stoll(s, &used);
    } catch (...) {
        used = 0;
    }
    if (used == 0 || used != s.size()) bad(ctx, n, key, "must be an integer, not '" + s + "'");
    if (v < lo || v > hi) bad(ctx, n, key, "must be between " + std::to_string(lo) + " and " + std::to_string(hi));
    return v;
}

bool boolean(const Context& ctx, const YAML::Node& n, const std::string& key) {
    const std::string s = scalar(ctx, n, key);
    if (s == "true" || s == "True" || s == "yes" || s == "on") return true;
    if (s == "false" || s == "False" || s == "no" || s == "off") return false;
    bad(ctx, n, key, "must be true or false, not '" + s + "'");
}

// The table of keys. Each entry parses and stores one field.
std::map<std::string, std::function<void(const Context&, const YAML::Node&, const std::string&, cli::ServeOptions&)>>
make_setters() {
    using O = cli::ServeOptions;
    std::map<std::string, std::function<void(const Context&, const YAML::Node&, const std::string&, O&)>> t;
    auto str = [&t](const std::string& key, std::string O::*field) {
        t[key] = [field](const Context& c, const YAML::Node& n, const std::string& k, O& o) { o.*field = scalar(c, n, k); };
    };
    auto num = [&t](const std::string& key, int O::*field, long long lo, long long hi) {
        t[key] = [field, lo, hi](const Context& c, const YAML::Node& n, const std::string& k, O& o) {
            o.*field = static_cast<int>(integer(c, n, k, lo, hi));
        };
    };
    auto flag = [&t](const std::string& key, bool O::*field) {
        t[key] = [field](const Context& c, const YAML::Node& n, const std::string& k, O& o) { o.*field = boolean(c, n, k); };
    };
    str("name", &O::name);
    str("source", &O::source);
    str("served_model_name", &O::served_model_name);
    str("model_plugin", &O::model_plugin);
    str("chat_template", &O::chat_template_file);
    str("quantization", &O::quantization);
    str("device", &O::device);
    str("kv_cache_dtype", &O::kv_cache_dtype);
    str("cluster", &O::cluster);
    str("cloud", &O::cloud);
    str("region", &O::region);
    str("zone", &O::zone);
    str("accelerator", &O::accelerator);
    t["accelerators"] = t["accelerator"];
    str("host", &O::host);
    str("api_key", &O::api_key);
    flag("no_api_key", &O::no_api_key);
    flag("detach", &O::detach);
    flag("dryrun", &O::dryrun);
    flag("enable_prefix_caching", &O::enable_prefix_caching);
    flag("log_prompts", &O::log_prompts);
    num("idle_minutes_to_autostop", &O::idle_minutes_to_autostop, -1, 10 * 365 * 24 * 60);
    num("threads", &O::threads, 0, 4096);
    num("http_threads", &O::http_threads, 1, 1024);
    num("max_model_len", &O::max_model_len, 0, std::numeric_limits<int>::max());
    num("max_num_seqs", &O::max_num_seqs, 1, 1 << 20);
    num("max_num_batched_tokens", &O::max_num_batched_tokens, 1, std::numeric_limits<int>::max());
    num("grace_seconds", &O::grace_seconds, 0, 3600);
    t["port"] = [](const Context& c, const YAML::Node& n, const std::string& k, O& o) {
        o.port = static_cast<uint16_t>(integer(c, n, k, 1, 65535));
    };
    t["kv_cache_memory"] = [](const Context& c, const YAML::Node& n, const std::string& k, O& o) {
        o.kv_cache_memory = static_cast<uint64_t>(integer(c, n, k, 0, std::numeric_limits<long long>::max()));
    };
    t["max_body_bytes"] = [](const Context& c, const YAML::Node& n, const std::string& k, O& o) {
        o.max_body_bytes = static_cast<uint64_t>(integer(c, n, k, 1, std::numeric_limits<long long>::max()));
    };
    t["envs"] = [](const Context& c, const YAML::Node& n, const std::string& k, O& o) {
        if (n.IsMap()) {
            std::string pairs;
            for (const auto& kv : n) {
                const std::string key = scalar(c, kv.first, "envs key");
                const std::string value = scalar(c, kv.second, "envs." + key);
                std::map<std::string, std::string> one;
                try {
                    parse_envs("'" + key + "'=x", one);  // validates the name only
                } catch (const Error&) {
                    bad(c, kv.first, "envs." + key, "is not a valid variable name");
                }
                o.envs[key] = value;
            }
        } else {
            try {
                parse_envs(scalar(c, n, k), o.envs);
            } catch (const Error& e) {
                throw Error(LLMATC_ERR_INVALID_ARGUMENT, where(c, n) + ": " + e.what());
            }
        }
    };
    return t;
}

std::string canonical_key(std::string key) {
    for (char& ch : key)
        if (ch == '-') ch = '_';
    return key;
}

size_t edit_distance(const std::string& a, const std::string& b) {
    std::vector<size_t> row(b.size() + 1);
    for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
        size_t prev = row[0];
        row[0] = i;
        for (size_t j = 1; j <= b.size(); ++j) {
            size_t cur = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] == b[j - 1] ? 0 : 1)});
            prev = cur;
        }
    }
    return row[b.size()];
}

template <typename Table>
[[noreturn]] void unknown_key(const Context& ctx, const YAML::Node& key_node, const std::string& key, const Table& table,
                              const std::string& section) {
    std::string best;
    size_t best_d = 1000;
    for (const auto& [k, _] : table) {
        const size_t d = edit_distance(canonical_key(key), k);
        if (d < best_d) best_d = d, best = k;
    }
    std::string hint = best_d <= 3 ? " (did you mean '" + best + "'?)" : "";
    for (char& ch : hint)
        if (ch == '_') ch = '-';
    throw Error(LLMATC_ERR_INVALID_ARGUMENT, where(ctx, key_node) + ": unknown key '" + key + "'" +
                                                 (section.empty() ? "" : " in '" + section + "'") + hint);
}

}  // namespace

void apply_deployment_yaml(const std::string& text, const std::string& file_label, cli::ServeOptions& options) {
    const Context ctx{file_label};
    YAML::Node root;
    try {
        root = YAML::Load(text);
    } catch (const YAML::Exception& e) {
        throw Error(LLMATC_ERR_INVALID_ARGUMENT, file_label + ":" + std::to_string(e.mark.line + 1) + ": not valid YAML: " + e.msg);
    }
    if (root.IsNull()) return;  // an empty file sets nothing
    if (!root.IsMap()) throw Error(LLMATC_ERR_INVALID_ARGUMENT, where(ctx, root) + ": a deployment file must be a mapping of keys");
    static const auto setters = make_setters();
    static const std::map<std::string, int> resource_keys = {
        {"cloud", 0}, {"region", 0}, {"zone", 0}, {"accelerator", 0}, {"accelerators", 0}};
    std::map<std::string, bool> seen;
    for (const auto& kv : root) {
        const std::string key = scalar(ctx, kv.first, "key");
        const std::string canon = canonical_key(key);
        if (seen[canon]) throw Error(LLMATC_ERR_INVALID_ARGUMENT, where(ctx, kv.first) + ": key '" + key + "' appears twice");
        seen[canon] = true;
        if (canon == "resources") {
            if (!kv.second.IsMap()) bad(ctx, kv.second, key, "must be a mapping (cloud, region, zone, accelerators)");
            for (const auto& r : kv.second) {
                const std::string rkey = scalar(ctx, r.first, "key");
                const std::string rcanon = canonical_key(rkey);
                if (!resource_keys.count(rcanon)) unknown_key(ctx, r.first, rkey, resource_keys, "resources");
                setters.at(rcanon)(ctx, r.second, "resources." + rkey, options);
            }
            continue;
        }
        auto it = setters.find(canon);
        if (it == setters.end()) unknown_key(ctx, kv.first, key, setters, "");
        it->second(ctx, kv.second, key, options);
    }
}

void apply_deployment_file(const std::string& path, cli::ServeOptions& options) {
    if (!std::filesystem::is_regular_file(path))
        throw Error(LLMATC_ERR_NOT_FOUND, "deployment file '" + path + "' does not exist");
    apply_deployment_yaml(read_file(path), path, options);
}

}  // namespace llmatc::deploy
