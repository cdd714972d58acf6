// cloud_providers/gcp/gcp_node.cpp — provisioning and lifecycle of a cluster's Compute Engine node.
#include "gcp_node.h"

#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>
#include <vector>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "accelerator_catalog.h"
#include "cloud_auth/aws_credentials.h"
#include "compute_api.h"
#include "http/http_client.h"
#include "node_plan.h"
#include "ssh_bootstrap.h"

namespace llmatc::gcp_cloud {

namespace cc = llmatc::cloud_catalog;
using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

namespace {

constexpr const char* kDefaultRegion = "us-central1";
constexpr const char* kDefaultImage = "projects/deeplearning-platform-release/global/images/family/common-cu123-debian-11-py310";
constexpr int kOperationTimeoutS = 900;

struct GcpRecord {
    std::string status, ip, instance, firewall, zone, region, project, instance_type;
    double hourly_price = 0;
    std::vector<std::string> tried;
};

std::string str(const rapidjson::Value& o, const char* key) {
    if (!o.IsObject()) return "";
    auto it = o.FindMember(key);
    return it != o.MemberEnd() && it->value.IsString() ? it->value.GetString() : "";
}

GcpRecord parse_record(const std::string& json) {
    GcpRecord r;
    if (json.empty()) return r;
    rapidjson::Document d;
    d.Parse(json.c_str());
    if (d.HasParseError() || !d.IsObject()) return r;
    r.status = str(d, "status");
    r.ip = str(d, "ip");
    if (auto p = d.FindMember("provider"); p != d.MemberEnd() && p->value.IsObject()) {
        const auto& v = p->value;
        r.instance = str(v, "instance");
        r.firewall = str(v, "firewall");
        r.zone = str(v, "zone");
        r.region = str(v, "region");
        r.project = str(v, "project");
        r.instance_type = str(v, "instance_type");
        if (auto h = v.FindMember("hourly_price"); h != v.MemberEnd() && h->value.IsNumber()) r.hourly_price = h->value.GetDouble();
        if (auto t = v.FindMember("tried"); t != v.MemberEnd() && t->value.IsArray())
            for (const auto& s : t->value.GetArray())
                if (s.IsString()) r.tried.emplace_back(s.GetString());
    }
    return r;
}

std::string record_json(const cc::NodeSpec& spec, const GcpRecord& r) {
    rapidjson::StringBuffer buf;
    Writer w(buf);
    auto s = [&](const char* k, const std::string& v) { w.Key(k); w.String(v.c_str()); };
    w.StartObject();
    s("status", r.status);
    s("ip", r.status == "TERMINATED" || r.status == "STOPPED" ? "" : r.ip);
    w.Key("port"); w.Int(spec.port);
    s("region", r.region);
    s("zone", r.zone);
    w.Key("instance_ids");
    w.StartArray();
    if (!r.instance.empty() && r.status != "TERMINATED") w.String(r.instance.c_str());
    w.EndArray();
    s("instance_type", r.instance_type);
    w.Key("hourly_price"); w.Double(r.hourly_price);
    w.Key("provider");
    w.StartObject();
    s("instance", r.instance);
    s("firewall", r.firewall);
    s("zone", r.zone);
    s("region", r.region);
    s("project", r.project);
    s("instance_type", r.instance_type);
    w.Key("hourly_price"); w.Double(r.hourly_price);
    w.Key("tried");
    w.StartArray();
    for (const auto& t : r.tried) w.String(t.c_str());
    w.EndArray();
    w.EndObject();
    w.EndObject();
    return buf.GetString();
}

std::string project_of(const cc::NodeSpec& spec) {
    auto it = spec.extra.find("project");
    return it == spec.extra.end() ? "" : it->second;
}

// The process environment with the cluster's --envs over it: credentials may be given either way.
std::map<std::string, std::string> credential_env(const cc::NodeSpec& spec) {
    auto env = cloud_auth::process_environment();
    for (const auto& [k, v] : spec.envs) env[k] = v;
    return env;
}

ComputeApi make_api(const cc::NodeSpec& spec, const std::string& project, const Progress& progress) {
    return ComputeApi(credential_env(spec), project.empty() ? project_of(spec) : project,
                      [progress](const std::string& note) {
                          if (progress) progress("provisioning", note);
                      });
}

std::string read_text(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("gcp: cannot read the cluster public key " + path);
    std::ostringstream s;
    s << in.rdbuf();
    std::string text = s.str();
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    return text;
}

// GCP label values: lowercase letters, digits, '-' and '_', at most 63.
std::string label_value(const std::string& v) {
    std::string out;
    for (char c : v) {
        const char l = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        out += std::isalnum(static_cast<unsigned char>(l)) || l == '_' || l == '-' ? l : '-';
    }
    return out.substr(0, 63);
}

std::string firewall_body(const cc::NodeSpec& spec, const std::string& name) {
    rapidjson::StringBuffer buf;
    Writer w(buf);
    w.StartObject();
    w.Key("name"); w.String(name.c_str());
    w.Key("description"); w.String(("llm-atc cluster " + spec.name + ": SSH and the serving port").c_str());
    w.Key("network"); w.String("global/networks/default");
    w.Key("direction"); w.String("INGRESS");
    w.Key("allowed");
    w.StartArray();
    w.StartObject();
    w.Key("IPProtocol"); w.String("tcp");
    w.Key("ports");
    w.StartArray();
    w.String("22");
    w.String(std::to_string(spec.port).c_str());
    w.EndArray();
    w.EndObject();
    w.EndArray();
    // Open to all (the caller's address is not knowable from here); the server requires the cluster's API key.
    w.Key("sourceRanges"); w.StartArray(); w.String("0.0.0.0/0"); w.EndArray();
    w.Key("targetTags"); w.StartArray(); w.String(name.c_str()); w.EndArray();
    w.EndObject();
    return buf.GetString();
}

std::string instance_body(const cc::NodeSpec& spec, const cc::NodePlan& plan, const std::string& name,
                          const std::string& zone, const std::string& image) {
    rapidjson::StringBuffer buf;
    Writer w(buf);
    const auto& offer = plan.choice.offer;
    w.StartObject();
    w.Key("name"); w.String(name.c_str());
    w.Key("machineType"); w.String(("zones/" + zone + "/machineTypes/" + offer.instance_type).c_str());
    w.Key("guestAccelerators");
    w.StartArray();
    w.StartObject();
    w.Key("acceleratorType"); w.String(("zones/" + zone + "/acceleratorTypes/" + offer.accelerator_type).c_str());
    w.Key("acceleratorCount"); w.Int(offer.count);
    w.EndObject();
    w.EndArray();
    // GPU VMs cannot live-migrate: host maintenance must stop them.
    w.Key("scheduling");
    w.StartObject();
    w.Key("onHostMaintenance"); w.String("TERMINATE");
    w.Key("automaticRestart"); w.Bool(true);
    w.EndObject();
    w.Key("disks");
    w.StartArray();
    w.StartObject();
    w.Key("boot"); w.Bool(true);
    w.Key("autoDelete"); w.Bool(true);
    w.Key("initializeParams");
    w.StartObject();
    w.Key("sourceImage"); w.String(image.c_str());
    w.Key("diskSizeGb"); w.String(std::to_string(plan.disk_gib).c_str());
    w.Key("diskType"); w.String(("zones/" + zone + "/diskTypes/pd-balanced").c_str());
    w.EndObject();
    w.EndObject();
    w.EndArray();
    w.Key("networkInterfaces");
    w.StartArray();
    w.StartObject();
    w.Key("network"); w.String("global/networks/default");
    w.Key("accessConfigs");
    w.StartArray();
    w.StartObject();
    w.Key("name"); w.String("External NAT");
    w.Key("type"); w.String("ONE_TO_ONE_NAT");
    w.EndObject();
    w.EndArray();
    w.EndObject();
    w.EndArray();
    w.Key("metadata");
    w.StartObject();
    w.Key("items");
    w.StartArray();
    w.StartObject();
    w.Key("key"); w.String("startup-script");
    w.Key("value"); w.String(plan.script.c_str(), static_cast<rapidjson::SizeType>(plan.script.size()));
    w.EndObject();
    if (!spec.ssh_public_key.empty()) {
        w.StartObject();
        w.Key("key"); w.String("ssh-keys");
        w.Key("value"); w.String(((spec.ssh_user.empty() ? "llmatc" : spec.ssh_user) + ":" + read_text(spec.ssh_public_key)).c_str());
        w.EndObject();
    }
    w.EndArray();
    w.EndObject();
    w.Key("labels");
    w.StartObject();
    w.Key("llmatc-cluster"); w.String(label_value(spec.name).c_str());
    w.EndObject();
    w.Key("tags"); w.StartObject(); w.Key("items"); w.StartArray(); w.String(name.c_str()); w.EndArray(); w.EndObject();
    w.EndObject();
    return buf.GetString();
}

struct InstanceView {
    std::string status;  // PROVISIONING STAGING RUNNING STOPPING STOPPED SUSPENDED TERMINATED, "" = not found
    std::string ip;
};

InstanceView get_instance(ComputeApi& api, const std::string& zone, const std::string& name) {
    InstanceView v;
    try {
        auto d = api.request("GET", "zones/" + zone + "/instances/" + name, "", "instances.get");
        v.status = str(d, "status");
        if (d.HasMember("networkInterfaces") && d["networkInterfaces"].IsArray() && !d["networkInterfaces"].Empty()) {
            const auto& ni = d["networkInterfaces"][0];
            if (ni.HasMember("accessConfigs") && ni["accessConfigs"].IsArray() && !ni["accessConfigs"].Empty())
                v.ip = str(ni["accessConfigs"][0], "natIP");
        }
    } catch (const ComputeError& e) {
        if (e.http_status != 404) throw;
    }
    return v;
}

bool is_failover_error(const std::string& code) {
    return code == "ZONE_RESOURCE_POOL_EXHAUSTED" || code == "ZONE_RESOURCE_POOL_EXHAUSTED_WITH_DETAILS" ||
           code == "QUOTA_EXCEEDED" || code == "quotaExceeded" || code == "resourcePoolExhausted" ||
           code == "UNSUPPORTED_OPERATION" || code == "STOCKOUT";
}

std::string running_status(const cc::NodeSpec& spec, const std::string& ip) {
    return http::http_status_probe(ip, spec.port, "/v1/models", spec.api_key, 1500) == 200 ? "UP" : "INIT";
}

std::string wait_until_serving(const cc::NodeSpec& spec, const std::string& ip, const Progress& progress) {
    if (!spec.wait_ready) return running_status(spec, ip);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(spec.ready_timeout_s);
    progress("bootstrap", "waiting for the server on " + ip + ":" + std::to_string(spec.port));
    while (std::chrono::steady_clock::now() < deadline) {
        if (running_status(spec, ip) == "UP") {
            progress("ready", "the server answers on http://" + ip + ":" + std::to_string(spec.port) + "/v1");
            return "UP";
        }
        std::this_thread::sleep_for(std::chrono::seconds(2));
    }
    progress("bootstrap", "the server did not answer in time; the node keeps running (status INIT)");
    return "INIT";
}

void delete_instance(ComputeApi& api, const std::string& zone, const std::string& name, const Progress& progress) {
    try {
        auto op = api.request("DELETE", "zones/" + zone + "/instances/" + name, "", "instances.delete");
        progress("provisioning", "deleting instance " + name + " in " + zone);
        api.wait_operation(op, zone, "instances.delete", kOperationTimeoutS);
    } catch (const ComputeError& e) {
        if (e.http_status != 404) throw;
    }
}

void delete_firewall(ComputeApi& api, const std::string& name) {
    try {
        auto op = api.request("DELETE", "global/firewalls/" + name, "", "firewalls.delete");
        api.wait_operation(op, "", "firewalls.delete", kOperationTimeoutS);
    } catch (const ComputeError& e) {
        if (e.http_status != 404) throw;
    }
}

// Without a runtime URL for the node to fetch, the launcher uploads its own runtime over SSH and starts it.
void bootstrap_if_needed(const cc::NodeSpec& spec, const cc::NodePlan& plan, const std::string& ip, const Progress& progress) {
    if (!plan.bootstrap.runtime_url.empty() || spec.server_argv.empty()) return;
    // The ssh-keys metadata item creates this user on the node.
    cc::bootstrap_over_ssh(cc::node_ssh_target(spec, ip, spec.ssh_user.empty() ? "llmatc" : spec.ssh_user),
                           spec.server_argv.front(), plan.script, cc::remote_prefix(), 600,
                           [&](const std::string& m) { progress("bootstrap", m); });
}

std::string join(const std::vector<std::string>& v) {
    std::string out;
    for (const auto& s : v) out += (out.empty() ? "" : "; ") + s;
    return out;
}

}  // namespace

std::string gcp_catalog_json() { return cc::catalog_abi_json(cc::gcp_catalog()); }

std::string gcp_provision(const cc::NodeSpec& spec, const std::string& old_record, const Progress& progress) {
    const cc::NodePlan plan = cc::plan_node(spec, cc::gcp_catalog(), kDefaultRegion);
    const std::string name = cc::resource_name(spec);
    if (spec.dryrun)
        return cc::plan_record_json(spec, plan, {"firewall rule " + name + " (tcp 22, " + std::to_string(spec.port) + ")",
                                                 "instance " + name + " (" + plan.choice.offer.instance_type + " + " +
                                                     plan.choice.offer.accelerator_type + " x" +
                                                     std::to_string(plan.choice.offer.count) + ", " +
                                                     std::to_string(plan.disk_gib) + " GB pd-balanced boot disk)"});
    GcpRecord rec = parse_record(old_record);
    ComputeApi api = make_api(spec, rec.project, progress);
    if (!rec.instance.empty() && !rec.zone.empty()) {
        const auto v = get_instance(api, rec.zone, rec.instance);
        if (!v.status.empty()) {
            progress("provisioning", "reusing instance " + rec.instance + " in " + rec.zone);
            return gcp_start(spec, old_record, progress);
        }
    }
    if (!plan.choice.note.empty()) progress("provisioning", plan.choice.note);
    GcpRecord r;
    r.region = plan.choice.region;
    r.project = api.project();
    r.instance_type = plan.choice.offer.instance_type;
    r.hourly_price = plan.choice.hourly_price;
    r.firewall = name;
    std::string image = kDefaultImage;
    if (auto it = spec.extra.find("image"); it != spec.extra.end() && !it->second.empty()) image = it->second;
    else if (const char* v = std::getenv("LLMATC_GCP_IMAGE"); v && *v) image = v;
    try {
        try {
            auto op = api.request("POST", "global/firewalls", firewall_body(spec, name), "firewalls.insert");
            api.wait_operation(op, "", "firewalls.insert", kOperationTimeoutS);
            progress("provisioning", "firewall rule " + name + " opens tcp 22 and " + std::to_string(spec.port));
        } catch (const ComputeError& e) {
            if (e.http_status != 409) throw;  // alreadyExists: ours from an earlier launch of this cluster
        }
        for (const auto& zone : plan.choice.zones) {
            char price[32];
            std::snprintf(price, sizeof price, "$%.2f/h", r.hourly_price);
            progress("provisioning", "creating " + r.instance_type + " with " + std::to_string(plan.choice.offer.count) + "x " +
                                         plan.choice.offer.accelerator + " in " + zone + " (" + price + ")");
            try {
                auto op = api.request("POST", "zones/" + zone + "/instances", instance_body(spec, plan, name, zone, image),
                                      "instances.insert");
                api.wait_operation(op, zone, "instances.insert", kOperationTimeoutS);
                r.instance = name;
                r.zone = zone;
                r.tried.push_back(zone + ": created " + name);
                break;
            } catch (const ComputeError& e) {
                if (!is_failover_error(e.code)) throw;
                r.tried.push_back(zone + ": " + e.code);
                progress("provisioning", zone + ": " + e.code + "; trying the next zone");
                delete_instance(api, zone, name, progress);  // a failed insert may leave a husk behind
            }
        }
        if (r.instance.empty())
            throw std::runtime_error("gcp: no zone of " + r.region + " could create " + r.instance_type + " (tried: " +
                                     join(r.tried) + "); try another --region or accelerator, or retry later");
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(kOperationTimeoutS);
        InstanceView v = get_instance(api, r.zone, r.instance);
        while (v.status != "RUNNING" || v.ip.empty()) {
            if (std::chrono::steady_clock::now() > deadline)
                throw std::runtime_error("gcp: instance " + r.instance + " did not reach RUNNING with an address (it is " +
                                         v.status + ")");
            std::this_thread::sleep_for(std::chrono::seconds(1));
            v = get_instance(api, r.zone, r.instance);
        }
        r.ip = v.ip;
        progress("provisioning", "instance " + r.instance + " is running at " + r.ip + " in " + r.zone);
        bootstrap_if_needed(spec, plan, r.ip, progress);
    } catch (...) {
        try {
            progress("provisioning", "launch failed; removing what was created");
            if (!r.instance.empty()) delete_instance(api, r.zone, r.instance, progress);
            delete_firewall(api, name);
        } catch (const std::exception& cleanup) {
            progress("provisioning", std::string("cleanup after the failed launch also failed: ") + cleanup.what() +
                                         "; `llm-atc down " + spec.name + "` retries it");
        }
        throw;
    }
    r.status = wait_until_serving(spec, r.ip, progress);
    return record_json(spec, r);
}

std::string gcp_refresh(const cc::NodeSpec& spec, const std::string& old_record) {
    GcpRecord r = parse_record(old_record);
    if (r.instance.empty()) {
        if (r.status.empty()) r.status = "TERMINATED";
        return record_json(spec, r);
    }
    ComputeApi api = make_api(spec, r.project, nullptr);
    const auto v = get_instance(api, r.zone, r.instance);
    r.ip = v.ip;
    if (v.status == "RUNNING") r.status = running_status(spec, v.ip);
    else if (v.status == "PROVISIONING" || v.status == "STAGING" || v.status == "REPAIRING") r.status = "INIT";
    else if (v.status.empty()) r.status = "TERMINATED";
    else r.status = "STOPPED";  // STOPPING, STOPPED, SUSPENDED, TERMINATED (GCE's word for a stopped VM)
    return record_json(spec, r);
}

std::string gcp_stop(const cc::NodeSpec& spec, const std::string& old_record, const Progress& progress) {
    GcpRecord r = parse_record(old_record);
    if (r.instance.empty()) {
        r.status = "STOPPED";
        return record_json(spec, r);
    }
    ComputeApi api = make_api(spec, r.project, progress);
    const auto v = get_instance(api, r.zone, r.instance);
    if (v.status.empty()) {
        r.status = "TERMINATED";
        return record_json(spec, r);
    }
    if (v.status != "TERMINATED" && v.status != "STOPPED") {
        auto op = api.request("POST", "zones/" + r.zone + "/instances/" + r.instance + "/stop", "", "instances.stop");
        progress("provisioning", "stopping instance " + r.instance);
        api.wait_operation(op, r.zone, "instances.stop", kOperationTimeoutS);
    }
    r.status = "STOPPED";
    r.ip = "";
    return record_json(spec, r);
}

std::string gcp_start(const cc::NodeSpec& spec, const std::string& old_record, const Progress& progress) {
    GcpRecord r = parse_record(old_record);
    if (r.instance.empty())
        throw std::runtime_error("gcp: cluster " + spec.name + " has no instance to start; launch it again with serve");
    ComputeApi api = make_api(spec, r.project, progress);
    auto v = get_instance(api, r.zone, r.instance);
    if (v.status.empty())
        throw std::runtime_error("gcp: instance " + r.instance + " of cluster " + spec.name + " is gone; `llm-atc down " +
                                 spec.name + "` and serve again");
    if (v.status != "RUNNING") {
        auto op = api.request("POST", "zones/" + r.zone + "/instances/" + r.instance + "/start", "", "instances.start");
        progress("provisioning", "starting instance " + r.instance);
        api.wait_operation(op, r.zone, "instances.start", kOperationTimeoutS);
        v = get_instance(api, r.zone, r.instance);
    }
    r.ip = v.ip;
    if (running_status(spec, r.ip) != "UP")
        bootstrap_if_needed(spec, cc::plan_node(spec, cc::gcp_catalog(), r.region.empty() ? kDefaultRegion : r.region),
                            r.ip, progress);
    r.status = wait_until_serving(spec, r.ip, progress);
    return record_json(spec, r);
}

std::string gcp_terminate(const cc::NodeSpec& spec, const std::string& old_record, const Progress& progress) {
    GcpRecord r = parse_record(old_record);
    if (r.instance.empty() && r.project.empty()) {
        // A launch that never got credentials created nothing; without them there is nothing we could look up.
        try {
            cloud_auth::find_gcp_credentials(credential_env(spec));
        } catch (const std::exception&) {
            progress("provisioning", "no Google credentials and no resources recorded: nothing to remove (if an "
                                     "earlier launch did create some, they carry the label llmatc-cluster=" +
                                     label_value(spec.name) + ")");
            r.status = "TERMINATED";
            return record_json(spec, r);
        }
    }
    ComputeApi api = make_api(spec, r.project, progress);
    if (!r.instance.empty() && !r.zone.empty()) delete_instance(api, r.zone, r.instance, progress);
    delete_firewall(api, r.firewall.empty() ? cc::resource_name(spec) : r.firewall);
    r.status = "TERMINATED";
    r.ip = "";
    return record_json(spec, r);
}

}  // namespace llmatc::gcp_cloud
