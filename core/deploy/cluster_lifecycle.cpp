// core/deploy/cluster_lifecycle.cpp — the launcher's cluster operations over state, secrets, SSH config and plugins.
#include "deploy/cluster_lifecycle.h"

#include <pwd.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <spdlog/spdlog.h>

#include "cloud_auth/aws_credentials.h"
#include "deploy/cloud_provider_client.h"
#include "deploy/envs.h"
#include "deploy/model_source.h"
#include "deploy/paths.h"
#include "deploy/ssh_config.h"
#include "deploy/ssh_keys.h"
#include "util/error.h"
#include "util/log.h"

namespace llmatc::deploy {

namespace fs = std::filesystem;
using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

namespace {

// ---- secrets kept beside the cluster (0600): what `start` needs to run the server again ----

struct ClusterSecrets {
    std::string api_key;
    std::map<std::string, std::string> envs;
};

void save_secrets(const std::string& name, const ClusterSecrets& s) {
    rapidjson::StringBuffer buf;
    Writer w(buf);
    w.StartObject();
    w.Key("api_key");
    w.String(s.api_key.c_str());
    w.Key("envs");
    w.StartObject();
    for (const auto& [k, v] : s.envs) {
        w.Key(k.c_str());
        w.String(v.c_str(), static_cast<rapidjson::SizeType>(v.size()));
    }
    w.EndObject();
    w.EndObject();
    write_file_atomically(cluster_dir(name) / "secrets.json", buf.GetString(), 0600);
}

ClusterSecrets load_secrets(const std::string& name) {
    ClusterSecrets s;
    const fs::path path = llmatc_home() / "clusters" / name / "secrets.json";
    if (!fs::exists(path)) return s;
    rapidjson::Document doc;
    const std::string text = read_file(path);
    doc.Parse(text.c_str());
    if (doc.HasParseError() || !doc.IsObject())
        throw Error(LLMATC_ERR_CORRUPT, path.string() + " is not valid JSON: `llm-atc down " + name + "` and launch again");
    if (doc.HasMember("api_key") && doc["api_key"].IsString()) s.api_key = doc["api_key"].GetString();
    if (doc.HasMember("envs") && doc["envs"].IsObject())
        for (const auto& m : doc["envs"].GetObject())
            if (m.value.IsString()) s.envs[m.name.GetString()] = m.value.GetString();
    return s;
}

// ---- JSON helpers ----

std::string json_string(const rapidjson::Value& obj, const char* key) {
    if (!obj.IsObject()) return "";
    auto it = obj.FindMember(key);
    return it != obj.MemberEnd() && it->value.IsString() ? it->value.GetString() : "";
}

// The launch spec without secrets (stored in state), to which with_secrets() adds envs and api_key.
std::string public_spec(const cli::ServeOptions& o, const std::string& cloud, const fs::path& model_dir,
                        const std::vector<std::string>& server_argv, const SshKeyPair& keys, const std::string& user) {
    rapidjson::StringBuffer buf;
    Writer w(buf);
    w.StartObject();
    w.Key("name"); w.String(o.cluster.c_str());
    w.Key("cloud"); w.String(cloud.c_str());
    w.Key("region"); w.String(o.region.c_str());
    w.Key("zone"); w.String(o.zone.c_str());
    w.Key("accelerator");
    if (o.accelerator.empty()) {
        w.Null();
    } else {
        const auto colon = o.accelerator.find(':');
        w.StartObject();
        w.Key("name"); w.String(o.accelerator.substr(0, colon).c_str());
        w.Key("count"); w.Int(colon == std::string::npos ? 1 : std::stoi(o.accelerator.substr(colon + 1)));
        w.EndObject();
    }
    w.Key("port"); w.Int(o.port);
    w.Key("model");
    w.StartObject();
    w.Key("name"); w.String((o.served_model_name.empty() ? o.name : o.served_model_name).c_str());
    w.Key("source"); w.String((o.source.empty() ? o.name : o.source).c_str());
    w.Key("local_dir"); w.String(model_dir.string().c_str());
    w.Key("bytes"); w.Int64(0);
    w.EndObject();
    w.Key("home"); w.String(cluster_dir(o.cluster).string().c_str());
    w.Key("ssh");
    w.StartObject();
    w.Key("user"); w.String(user.c_str());
    w.Key("private_key"); w.String(keys.private_key.string().c_str());
    w.Key("public_key"); w.String(keys.public_key.string().c_str());
    w.EndObject();
    w.Key("server_argv");
    w.StartArray();
    for (const auto& a : server_argv) w.String(a.c_str());
    w.EndArray();
    w.Key("dryrun"); w.Bool(o.dryrun);
    w.Key("extra");
    w.StartObject();
    w.Key("autostop_minutes"); w.Int(o.idle_minutes_to_autostop);
    w.Key("wait_ready"); w.Bool(!o.detach);
    w.Key("bind_host"); w.String(o.host.c_str());
    w.EndObject();
    w.EndObject();
    return buf.GetString();
}

std::string with_secrets(const std::string& spec, const ClusterSecrets& s) {
    rapidjson::Document doc;
    doc.Parse(spec.c_str());
    if (doc.HasParseError() || !doc.IsObject()) throw Error(LLMATC_ERR_CORRUPT, "the stored cluster spec is not JSON");
    auto& a = doc.GetAllocator();
    rapidjson::Value envs(rapidjson::kObjectType);
    for (const auto& [k, v] : s.envs) envs.AddMember(rapidjson::Value(k.c_str(), a), rapidjson::Value(v.c_str(), a), a);
    // The server reads its key from $LLMATC_API_KEY, so it never shows on a command line (ps, /proc/<pid>/cmdline).
    if (!s.api_key.empty()) envs.AddMember("LLMATC_API_KEY", rapidjson::Value(s.api_key.c_str(), a), a);
    doc.RemoveMember("envs");
    doc.AddMember("envs", envs, a);
    doc.RemoveMember("api_key");
    if (s.api_key.empty()) doc.AddMember("api_key", rapidjson::Value(), a);
    else doc.AddMember("api_key", rapidjson::Value(s.api_key.c_str(), a), a);
    rapidjson::StringBuffer buf;
    Writer w(buf);
    doc.Accept(w);
    return buf.GetString();
}

// Copies what the provider reports into the row.
void apply_record(ClusterRow& row, const std::string& record) {
    rapidjson::Document doc;
    doc.Parse(record.c_str());
    if (doc.HasParseError() || !doc.IsObject()) throw Error(LLMATC_ERR_CORRUPT, "the cloud provider returned a record that is not JSON");
    row.record_json = record;
    std::string status = json_string(doc, "status");
    if (status == "TERMINATED") status = "STOPPED";
    if (status == "UP" || status == "STOPPED" || status == "INIT") row.status = status;
    row.ip = json_string(doc, "ip");
    if (auto it = doc.FindMember("port"); it != doc.MemberEnd() && it->value.IsInt()) row.port = it->value.GetInt();
    if (auto r = json_string(doc, "region"); !r.empty()) row.region = r;
    if (auto z = json_string(doc, "zone"); !z.empty()) row.zone = z;
    row.instance_ids.clear();
    if (auto it = doc.FindMember("instance_ids"); it != doc.MemberEnd() && it->value.IsArray())
        for (const auto& v : it->value.GetArray())
            if (v.IsString()) row.instance_ids.emplace_back(v.GetString());
}

std::string current_user() {
    if (const char* u = std::getenv("USER"); u && *u) return u;
    if (const passwd* pw = ::getpwuid(::getuid())) return pw->pw_name;
    return "root";
}

bool is_loopback(const std::string& host) {
    return host == "127.0.0.1" || host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

void update_ssh_config(const ClusterRow& row, const std::string& spec) {
    if (row.ip.empty()) return;
    rapidjson::Document doc;
    doc.Parse(spec.c_str());
    const auto& ssh = doc.HasMember("ssh") ? doc["ssh"] : doc;
    write_ssh_config_entry(default_ssh_config_path(),
                           {row.name, row.ip, json_string(ssh, "user"), json_string(ssh, "private_key"), 22});
}

ClusterRow require_row(ClusterStore& store, const std::string& name) {
    validate_cluster_name(name);
    auto row = store.get(name);
    if (!row) throw Error(LLMATC_ERR_NOT_FOUND, "no cluster named '" + name + "' (see `llm-atc status`)");
    return *row;
}

// What a lifecycle call on an existing cluster works with: its provider (which holds the cluster's secrets, to mask
// them in messages) and its spec with those secrets put back in.
struct ClusterCall {
    CloudProviderClient provider;
    std::string spec;
};

ClusterCall prepare_call(const ClusterRow& row) {
    const auto s = load_secrets(row.name);
    return {CloudProviderClient(row.cloud, secrets_of(s.envs, s.api_key)), with_secrets(row.spec_json, s)};
}

std::vector<std::string> server_argv_for(const cli::ServeOptions& o, const fs::path& model_dir) {
    const cli::ServeOptions defaults;
    std::vector<std::string> argv = {self_executable().string(), "serve", "--name", model_dir.string(),
                                     "--served-model-name", o.served_model_name.empty() ? o.name : o.served_model_name,
                                     "--host", o.host, "--port", std::to_string(o.port)};
    auto add = [&](const char* flag, const std::string& value) {
        argv.push_back(flag);
        argv.push_back(value);
    };
    if (!o.model_plugin.empty()) add("--model-plugin", o.model_plugin);
    if (!o.chat_template_file.empty()) add("--chat-template", fs::absolute(o.chat_template_file).string());
    if (!o.quantization.empty()) add("--quantization", o.quantization);
    if (o.device != defaults.device) add("--device", o.device);
    if (o.threads != defaults.threads) add("--threads", std::to_string(o.threads));
    // Tensor parallelism over the cluster's GPUs: --tensor-parallel-size when given, else the accelerator count.
    int tensor_parallel_size = o.tensor_parallel_size;
    if (tensor_parallel_size == 0 && !o.accelerator.empty()) {
        const auto colon = o.accelerator.find(':');
        tensor_parallel_size = colon == std::string::npos ? 1 : std::stoi(o.accelerator.substr(colon + 1));
    }
    if (tensor_parallel_size > 1) add("--tensor-parallel-size", std::to_string(tensor_parallel_size));
    if (o.gpu_memory_utilization != defaults.gpu_memory_utilization)
        add("--gpu-memory-utilization", std::to_string(o.gpu_memory_utilization));
    if (o.max_model_len != defaults.max_model_len) add("--max-model-len", std::to_string(o.max_model_len));
    if (o.max_num_seqs != defaults.max_num_seqs) add("--max-num-seqs", std::to_string(o.max_num_seqs));
    if (o.max_num_batched_tokens != defaults.max_num_batched_tokens)
        add("--max-num-batched-tokens", std::to_string(o.max_num_batched_tokens));
    if (o.kv_cache_memory != defaults.kv_cache_memory) add("--kv-cache-memory", std::to_string(o.kv_cache_memory));
    if (o.kv_cache_dtype != defaults.kv_cache_dtype) add("--kv-cache-dtype", o.kv_cache_dtype);
    if (o.no_api_key) argv.push_back("--no-api-key");
    return argv;
}

void print_ready(const ClusterRow& row, const std::string& generated_key, bool key_given) {
    const std::string endpoint = endpoint_of(row);
    std::printf("Cluster '%s' is %s on %s.\n", row.name.c_str(), row.status.c_str(), row.cloud.c_str());
    if (!endpoint.empty()) std::printf("  Endpoint: %s\n", endpoint.c_str());
    std::printf("  Model:    %s\n", row.model.c_str());
    if (!generated_key.empty()) std::printf("  API key:  %s   (shown once: keep it; state keeps only its hash)\n", generated_key.c_str());
    else if (key_given) std::printf("  API key:  the one given with --api-key\n");
    std::printf("Next:\n");
    if (!endpoint.empty())
        std::printf("  curl %s%s/models\n", generated_key.empty() && !key_given ? "" : "-H \"Authorization: Bearer $KEY\" ",
                    endpoint.c_str());
    std::printf("  llm-atc status %s    llm-atc logs %s    llm-atc stop %s    llm-atc down %s\n", row.name.c_str(),
                row.name.c_str(), row.name.c_str(), row.name.c_str());
    std::fflush(stdout);
}

}  // namespace

std::string endpoint_of(const ClusterRow& row) {
    if (row.ip.empty() || row.port == 0 || row.status != "UP") return "";
    return "http://" + row.ip + ":" + std::to_string(row.port) + "/v1";
}

fs::path cluster_log_path(const std::string& name) {
    ClusterStore store(llmatc_home());
    require_row(store, name);
    return llmatc_home() / "clusters" / name / "server.log";
}

std::vector<std::string> cluster_secrets(const std::string& name) {
    const auto s = load_secrets(name);
    return secrets_of(s.envs, s.api_key);
}

int launch_cluster(const cli::ServeOptions& options) {
    cli::ServeOptions o = options;
    if (o.cluster.empty())
        throw Error(LLMATC_ERR_INVALID_ARGUMENT, "serving on a cloud needs a cluster name: add -c NAME");
    validate_cluster_name(o.cluster);
    const std::string cloud = o.cloud.empty() ? "local" : o.cloud;
    if (!o.accelerator.empty()) {
        const auto colon = o.accelerator.find(':');
        const std::string count = colon == std::string::npos ? "1" : o.accelerator.substr(colon + 1);
        if (colon == 0 || count.empty() || count.find_first_not_of("0123456789") != std::string::npos || std::stoi(count) < 1)
            throw Error(LLMATC_ERR_INVALID_ARGUMENT, "--accelerator '" + o.accelerator + "': write NAME[:COUNT], e.g. A100:1");
    }
    if (o.idle_minutes_to_autostop < -1 || o.idle_minutes_to_autostop == 0)
        throw Error(LLMATC_ERR_INVALID_ARGUMENT, "--idle-minutes-to-autostop must be a positive number of minutes");
    // Remote clouds bind every address; this machine binds what --host says.
    if (cloud != "local" && is_loopback(o.host)) o.host = "0.0.0.0";
    std::string generated_key;
    if (o.api_key.empty() && !o.no_api_key && !is_loopback(o.host)) generated_key = o.api_key = generate_api_key();
    const auto secrets = secrets_of(o.envs, o.api_key);

    ClusterStore store(llmatc_home());
    auto existing = store.get(o.cluster);
    if (existing) {
        auto conflict = [&](const std::string& what, const std::string& had, const std::string& asked) {
            throw Error(LLMATC_ERR_INVALID_ARGUMENT, "cluster '" + o.cluster + "' exists with " + what + " '" + had +
                                                         "', not '" + asked + "': use another -c name, or `llm-atc down " +
                                                         o.cluster + "` first");
        };
        if (existing->cloud != cloud) conflict("cloud", existing->cloud, cloud);
        if (!o.region.empty() && existing->region != o.region) conflict("region", existing->region, o.region);
        if (!o.zone.empty() && existing->zone != o.zone) conflict("zone", existing->zone, o.zone);
        if (existing->accelerator != o.accelerator) conflict("accelerator", existing->accelerator, o.accelerator);
        // An unset region/zone stays unset in the spec: the provider keeps the node where its record says it is.
    }
    CloudProviderClient provider(cloud, secrets);

    // The model: fetched here for this machine; remote nodes fetch it themselves from the same source.
    std::map<std::string, std::string> env = cloud_auth::process_environment();
    for (const auto& [k, v] : o.envs) env[k] = v;
    const ModelLocation where = classify_model(o.name, o.source);
    const fs::path model_dir = cloud == "local" ? fetch_model(where, env) : fs::path(where.location);

    const SshKeyPair keys = ensure_ssh_key_pair(llmatc_home() / "keys");
    const std::string spec = public_spec(o, cloud, model_dir, server_argv_for(o, model_dir), keys, current_user());
    const ClusterSecrets cluster_secrets_value{o.api_key, o.envs};

    // --dryrun: the provider validates and plans (instance type, zones, price, disk, bootstrap script with secrets
    // masked) and creates nothing; state is not touched either.
    if (o.dryrun) {
        const std::string record = provider.provision(with_secrets(spec, cluster_secrets_value), "");
        rapidjson::Document doc;
        doc.Parse(record.c_str());
        const auto plan = doc.IsObject() ? doc.FindMember("plan") : doc.MemberEnd();
        if (!doc.IsObject() || plan == doc.MemberEnd() || !plan->value.IsObject())
            throw Error(LLMATC_ERR_INTERNAL, "cloud provider '" + cloud + "' returned no plan for --dryrun");
        std::printf("Plan for cluster '%s' (dry run: nothing is created):\n", o.cluster.c_str());
        std::string script;
        for (const auto& m : plan->value.GetObject()) {
            std::string value;
            if (m.value.IsString()) value = m.value.GetString();
            else if (m.value.IsArray())
                for (const auto& v : m.value.GetArray()) value += (value.empty() ? "" : ", ") + std::string(v.IsString() ? v.GetString() : "?");
            else if (m.value.IsNumber()) value = fmt::format("{:g}", m.value.GetDouble());
            if (std::string_view(m.name.GetString()) == "bootstrap_script") script = value;
            else std::printf("  %-21s %s\n", m.name.GetString(), mask_secrets(value, secrets).c_str());
        }
        if (!script.empty()) std::printf("  bootstrap script (secrets masked):\n%s", mask_secrets(script, secrets).c_str());
        std::fflush(stdout);
        return 0;
    }

    if (existing && existing->status == "UP" && existing->spec_json == spec &&
        existing->api_key_hash == api_key_hash(o.api_key)) {
        const std::string record = provider.refresh(with_secrets(spec, cluster_secrets_value), existing->record_json);
        apply_record(*existing, record);
        store.upsert(*existing);
        if (existing->status == "UP") {
            std::printf("Cluster '%s' already serves this deployment; nothing to do.\n", o.cluster.c_str());
            print_ready(*existing, "", !o.api_key.empty());
            return 0;
        }
    }

    // A remote cloud first plans without creating anything, so an unknown accelerator, region or zone is refused
    // before any state is written (the plan costs no API call).
    if (cloud != "local" && !existing) {
        cli::ServeOptions plan_only = o;
        plan_only.dryrun = true;
        provider.provision(with_secrets(public_spec(plan_only, cloud, model_dir, server_argv_for(o, model_dir), keys,
                                                    current_user()),
                                        cluster_secrets_value),
                           "");
    }

    // Recorded before the provider acts, so a failure part-way still shows in `status` and `down` can clean up.
    ClusterRow row = existing ? *existing : ClusterRow{};
    row.name = o.cluster;
    row.cloud = cloud;
    if (!o.region.empty() || !existing) row.region = o.region;
    if (!o.zone.empty() || !existing) row.zone = o.zone;
    row.port = o.port;
    row.model = o.served_model_name.empty() ? o.name : o.served_model_name;
    row.accelerator = o.accelerator;
    row.status = "INIT";
    row.launched_at = static_cast<int64_t>(std::time(nullptr));
    row.autostop_minutes = o.idle_minutes_to_autostop;
    row.api_key_hash = api_key_hash(o.api_key);
    row.spec_json = spec;
    save_secrets(o.cluster, cluster_secrets_value);
    store.upsert(row);

    std::string record;
    try {
        record = provider.provision(with_secrets(spec, cluster_secrets_value), existing ? existing->record_json : "");
    } catch (const Error& e) {
        row.status = "STOPPED";
        store.upsert(row);
        throw Error(e.status(), std::string(e.what()) + " — see `llm-atc logs " + o.cluster + "`; `llm-atc down " +
                                    o.cluster + "` removes what is left");
    }
    apply_record(row, record);
    store.upsert(row);
    update_ssh_config(row, spec);
    spdlog::debug("cluster {} record saved", row.name);
    print_ready(row, generated_key, !options.api_key.empty());
    return row.status == "UP" || o.detach ? 0 : 1;
}

std::vector<ClusterRow> refreshed_clusters(const std::vector<std::string>& names) {
    ClusterStore store(llmatc_home());
    std::vector<ClusterRow> rows;
    if (names.empty()) rows = store.list();
    else
        for (const auto& n : names) rows.push_back(require_row(store, n));
    for (auto& row : rows) {
        try {
            auto [provider, spec] = prepare_call(row);
            apply_record(row, provider.refresh(spec, row.record_json));
            store.upsert(row);
        } catch (const std::exception& e) {
            spdlog::warn("cluster '{}': could not refresh its status: {}", row.name, e.what());
        }
    }
    return rows;
}

std::string stop_cluster(const std::string& name) {
    ClusterStore store(llmatc_home());
    ClusterRow row = require_row(store, name);
    auto [provider, spec] = prepare_call(row);
    apply_record(row, provider.refresh(spec, row.record_json));
    if (row.status == "STOPPED") {
        store.upsert(row);
        return "Cluster '" + name + "' is already stopped.";
    }
    apply_record(row, provider.stop(spec, row.record_json));
    row.status = "STOPPED";
    store.upsert(row);
    return "Stopped cluster '" + name + "' (its state and model cache are kept; `llm-atc start " + name + "` resumes it).";
}

std::string start_cluster(const std::string& name) {
    ClusterStore store(llmatc_home());
    ClusterRow row = require_row(store, name);
    auto [provider, spec] = prepare_call(row);
    apply_record(row, provider.refresh(spec, row.record_json));
    if (row.status == "UP") {
        store.upsert(row);
        update_ssh_config(row, row.spec_json);
        return "Cluster '" + name + "' is already up at " + endpoint_of(row) + ".";
    }
    row.status = "INIT";
    store.upsert(row);
    try {
        apply_record(row, provider.start(spec, row.record_json));
    } catch (const Error&) {
        row.status = "STOPPED";
        store.upsert(row);
        throw;
    }
    store.upsert(row);
    update_ssh_config(row, row.spec_json);
    return "Started cluster '" + name + "': " + (row.status == "UP" ? "UP at " + endpoint_of(row) : row.status) + ".";
}

std::string down_cluster(const std::string& name) {
    validate_cluster_name(name);
    ClusterStore store(llmatc_home());
    auto row = store.get(name);
    const fs::path dir = llmatc_home() / "clusters" / name;
    if (!row) {
        remove_ssh_config_entry(default_ssh_config_path(), name);
        return "No cluster named '" + name + "'; nothing to tear down.";
    }
    auto [provider, spec] = prepare_call(*row);
    provider.terminate(spec, row->record_json);
    remove_ssh_config_entry(default_ssh_config_path(), name);
    store.remove(name);
    std::error_code ec;
    fs::remove_all(dir, ec);
    return "Tore down cluster '" + name + "': its server, state, SSH config entry and files are gone.";
}

}  // namespace llmatc::deploy
