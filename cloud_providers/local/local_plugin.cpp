// cloud_providers/local/local_plugin.cpp — the `local` cloud provider: a "cluster" is the `llm-atc serve` server
// run on this machine as a managed process group, health-checked on /v1/models, its log in the cluster folder.
#include <chrono>
#include <cstring>
#include <exception>
#include <string>
#include <thread>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "llmatc/cloud.h"
#include "llmatc/plugin_export.h"

#include "http_probe.h"
#include "managed_process.h"

namespace {

const llmatc_host* g_host = nullptr;
constexpr const char* kPluginName = "local";

// Thrown inside the plugin, turned into (status, message) at the ABI boundary.
struct PluginError : std::runtime_error {
    PluginError(llmatc_status s, const std::string& m) : std::runtime_error(m), status(s) {}
    llmatc_status status;
};

void log_info(const std::string& msg) {
    if (g_host && g_host->log) g_host->log(LLMATC_LOG_INFO, kPluginName, msg.data(), msg.size());
}

// What the spec says, parsed once per call.
struct Spec {
    std::string name, home, api_key, bind_host;
    int port = 8000;
    int autostop_minutes = -1;
    bool wait_ready = true, dryrun = false;
    int ready_timeout_s = 1800;
    std::vector<std::string> argv;
    std::map<std::string, std::string> envs;
};

struct Record {
    pid_t group = 0, server = 0;
};

std::string str(const rapidjson::Value& o, const char* key, const std::string& fallback = "") {
    auto it = o.FindMember(key);
    return it != o.MemberEnd() && it->value.IsString() ? it->value.GetString() : fallback;
}

Spec parse_spec(const llmatc_cloud_call* call) {
    if (!call || !call->spec_json) throw PluginError(LLMATC_ERR_INVALID_ARGUMENT, "no cluster spec given");
    rapidjson::Document d;
    d.Parse(call->spec_json, call->spec_json_len);
    if (d.HasParseError() || !d.IsObject()) throw PluginError(LLMATC_ERR_INVALID_ARGUMENT, "the cluster spec is not a JSON object");
    Spec s;
    s.name = str(d, "name");
    s.home = str(d, "home");
    s.api_key = str(d, "api_key");
    if (s.name.empty() || s.home.empty()) throw PluginError(LLMATC_ERR_INVALID_ARGUMENT, "the cluster spec lacks \"name\" or \"home\"");
    if (auto it = d.FindMember("port"); it != d.MemberEnd() && it->value.IsInt()) s.port = it->value.GetInt();
    if (auto it = d.FindMember("dryrun"); it != d.MemberEnd() && it->value.IsBool()) s.dryrun = it->value.GetBool();
    if (auto it = d.FindMember("server_argv"); it != d.MemberEnd() && it->value.IsArray())
        for (const auto& a : it->value.GetArray())
            if (a.IsString()) s.argv.emplace_back(a.GetString());
    if (auto it = d.FindMember("envs"); it != d.MemberEnd() && it->value.IsObject())
        for (const auto& m : it->value.GetObject())
            if (m.value.IsString()) s.envs[m.name.GetString()] = m.value.GetString();
    s.bind_host = "127.0.0.1";
    if (auto it = d.FindMember("extra"); it != d.MemberEnd() && it->value.IsObject()) {
        const auto& x = it->value;
        if (auto a = x.FindMember("autostop_minutes"); a != x.MemberEnd() && a->value.IsInt()) s.autostop_minutes = a->value.GetInt();
        if (auto w = x.FindMember("wait_ready"); w != x.MemberEnd() && w->value.IsBool()) s.wait_ready = w->value.GetBool();
        if (auto t = x.FindMember("ready_timeout_s"); t != x.MemberEnd() && t->value.IsInt()) s.ready_timeout_s = t->value.GetInt();
        s.bind_host = str(x, "bind_host", "127.0.0.1");
    }
    return s;
}

Record parse_record(const llmatc_cloud_call* call) {
    Record r;
    if (!call->record_json || call->record_json_len == 0) return r;
    rapidjson::Document d;
    d.Parse(call->record_json, call->record_json_len);
    if (d.HasParseError() || !d.IsObject()) return r;
    if (auto p = d.FindMember("provider"); p != d.MemberEnd() && p->value.IsObject()) {
        if (auto g = p->value.FindMember("pgid"); g != p->value.MemberEnd() && g->value.IsInt()) r.group = g->value.GetInt();
        if (auto s = p->value.FindMember("server_pid"); s != p->value.MemberEnd() && s->value.IsInt()) r.server = s->value.GetInt();
    }
    return r;
}

// The address clients use: loopback, even when the server binds every address.
std::string client_host(const Spec& s) {
    return s.bind_host == "0.0.0.0" || s.bind_host == "::" || s.bind_host.empty() ? "127.0.0.1" : s.bind_host;
}

void emit_record(const llmatc_cloud_call* call, const Spec& s, const char* status, const Record& r) {
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    w.StartObject();
    w.Key("status"); w.String(status);
    const bool running = std::strcmp(status, "UP") == 0 || std::strcmp(status, "INIT") == 0;
    w.Key("ip"); w.String(running ? client_host(s).c_str() : "");
    w.Key("port"); w.Int(s.port);
    w.Key("region"); w.String("local");
    w.Key("zone"); w.String("");
    w.Key("instance_ids");
    w.StartArray();
    if (running && r.group > 0) w.String(("pgid:" + std::to_string(r.group)).c_str());
    w.EndArray();
    w.Key("instance_type"); w.String("this-machine");
    w.Key("hourly_price"); w.Double(0.0);
    w.Key("provider");
    w.StartObject();
    w.Key("pgid"); w.Int(running ? r.group : 0);
    w.Key("server_pid"); w.Int(running ? r.server : 0);
    w.Key("log"); w.String((s.home + "/server.log").c_str());
    w.EndObject();
    w.EndObject();
    call->on_record(buf.GetString(), buf.GetSize(), call->user);
}

void progress(const llmatc_cloud_call* call, const char* phase, const std::string& msg) {
    if (call->on_progress) call->on_progress(phase, msg.data(), msg.size(), call->user);
}

bool healthy(const Spec& s) {
    return llmatc::local_cloud::http_get_status(client_host(s), s.port, "/v1/models", s.api_key, 2000) == 200;
}

// Starts the server group and, unless told not to wait, returns once /v1/models answers 200.
Record launch(const llmatc_cloud_call* call, const Spec& s) {
    using namespace llmatc::local_cloud;
    if (s.argv.empty()) throw PluginError(LLMATC_ERR_INVALID_ARGUMENT, "the cluster spec has no \"server_argv\"");
    if (port_in_use(client_host(s), s.port))
        throw PluginError(LLMATC_ERR_UNAVAILABLE, "port " + std::to_string(s.port) + " on " + client_host(s) +
                                                      " is already in use (another cluster or server?): choose another --port");
    LaunchPlan plan{s.argv, s.envs, s.home + "/server.log", s.home + "/server.pid", s.autostop_minutes};
    progress(call, "provisioning", "starting the server on this machine (log: " + plan.log_path + ")");
    Launched l;
    try {
        l = launch_group(plan);
    } catch (const std::exception& e) {
        throw PluginError(LLMATC_ERR_IO, e.what());
    }
    Record r{l.group, l.server};
    log_info("cluster " + s.name + ": server group " + std::to_string(l.group) + " started");
    if (!s.wait_ready) return r;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(s.ready_timeout_s);
    auto last_note = std::chrono::steady_clock::now();
    while (!healthy(s)) {
        reap_if_child(l.group);
        if (!group_alive(l.group)) {
            std::string tail = tail_file(plan.log_path, 6);
            for (auto& c : tail)
                if (c == '\n') c = ' ';
            throw PluginError(LLMATC_ERR_UNAVAILABLE, "the server exited before it answered on port " +
                                                          std::to_string(s.port) + "; its log ends: " + tail);
        }
        if (std::chrono::steady_clock::now() > deadline) {
            stop_group(l.group, 10);
            throw PluginError(LLMATC_ERR_UNAVAILABLE, "the server did not answer /v1/models within " +
                                                          std::to_string(s.ready_timeout_s) + " s; it was stopped");
        }
        if (std::chrono::steady_clock::now() - last_note > std::chrono::seconds(15)) {
            progress(call, "bootstrap", "waiting for the server to load the model...");
            last_note = std::chrono::steady_clock::now();
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    if (r.server == 0) r.server = read_server_pid(plan.pid_path);
    progress(call, "ready", "the server answers on http://" + client_host(s) + ":" + std::to_string(s.port) + "/v1");
    return r;
}

template <typename F>
llmatc_status guarded(F&& body) {
    try {
        body();
        return LLMATC_OK;
    } catch (const PluginError& e) {
        if (g_host) g_host->set_error(e.what(), std::strlen(e.what()));
        return e.status;
    } catch (const std::exception& e) {
        if (g_host) g_host->set_error(e.what(), std::strlen(e.what()));
        return LLMATC_ERR_INTERNAL;
    } catch (...) {
        static const char msg[] = "unknown exception in the local cloud provider";
        if (g_host) g_host->set_error(msg, sizeof msg - 1);
        return LLMATC_ERR_INTERNAL;
    }
}

llmatc_status local_catalog(llmatc_text_callback sink, void* user) {
    return guarded([&] {
        static const char catalog[] =
            R"({"source":"this machine","date":"","regions":{"local":["local"]},"offers":[{"accelerator":null,)"
            R"("count":0,"instance_type":"this-machine","gpu_memory_gib":0,"vcpus":0,"memory_gib":0,)"
            R"("region":"local","zones":[],"hourly_price":0}]})";
        sink(catalog, sizeof catalog - 1, user);
    });
}

llmatc_status local_provision(const llmatc_cloud_call* call) {
    return guarded([&] {
        const Spec s = parse_spec(call);
        if (s.dryrun) {
            const std::string plan = R"({"status":"INIT","plan":{"cloud":"local","port":)" + std::to_string(s.port) + "}}";
            call->on_record(plan.data(), plan.size(), call->user);
            return;
        }
        const Record old = parse_record(call);
        if (old.group > 0 && llmatc::local_cloud::group_alive(old.group)) {
            progress(call, "provisioning", "stopping the cluster's previous server to relaunch it");
            llmatc::local_cloud::stop_group(old.group, 30);
        }
        const Record r = launch(call, s);
        emit_record(call, s, s.wait_ready ? "UP" : "INIT", r);
    });
}

llmatc_status local_refresh(const llmatc_cloud_call* call) {
    return guarded([&] {
        const Spec s = parse_spec(call);
        const Record r = parse_record(call);
        if (!llmatc::local_cloud::group_alive(r.group)) emit_record(call, s, "STOPPED", r);
        else emit_record(call, s, healthy(s) ? "UP" : "INIT", r);
    });
}

llmatc_status local_stop(const llmatc_cloud_call* call) {
    return guarded([&] {
        const Spec s = parse_spec(call);
        const Record r = parse_record(call);
        llmatc::local_cloud::stop_group(r.group, 30);
        if (llmatc::local_cloud::group_alive(r.group))
            throw PluginError(LLMATC_ERR_UNAVAILABLE, "the server group " + std::to_string(r.group) + " survived SIGKILL");
        emit_record(call, s, "STOPPED", r);
    });
}

llmatc_status local_start(const llmatc_cloud_call* call) {
    return guarded([&] {
        const Spec s = parse_spec(call);
        const Record old = parse_record(call);
        if (llmatc::local_cloud::group_alive(old.group)) {
            emit_record(call, s, healthy(s) ? "UP" : "INIT", old);
            return;
        }
        const Record r = launch(call, s);
        emit_record(call, s, s.wait_ready ? "UP" : "INIT", r);
    });
}

llmatc_status local_terminate(const llmatc_cloud_call* call) {
    return guarded([&] {
        const Spec s = parse_spec(call);
        const Record r = parse_record(call);
        llmatc::local_cloud::stop_group(r.group, 30);
        emit_record(call, s, "TERMINATED", r);
    });
}

const llmatc_cloud_plugin k_local_cloud = {
    sizeof(llmatc_cloud_plugin), LLMATC_ABI_VERSION, local_catalog, local_provision, local_refresh,
    local_stop, local_start, local_terminate,
};

}  // namespace

LLMATC_PLUGIN_DEFINE(g_host, LLMATC_PLUGIN_CLOUD_PROVIDER, "local", "0.1.0",
                     "This machine: the server as a managed background process", &k_local_cloud)
