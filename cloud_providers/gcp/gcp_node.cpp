// cloud_providers/gcp/gcp_node.cpp — provisioning and lifecycle of a cluster's Compute Engine node.
#include "gcp_node.h"

#include <cctype>
#include <chrono>
#include <cstdlib>
#include <thread>
#include <vector>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "accelerator_catalog.h"
#include "cloud_auth/aws_credentials.h"
#include "compute_api.h"
#include "credential_env.h"
#include "failed_launch.h"
#include "json_members.h"
#include "node_plan.h"
#include "node_record.h"
#include "node_serving.h"
#include "provider_text.h"

namespace llmatc::gcp_cloud {

namespace cc = llmatc::cloud_catalog;
namespace common = llmatc::cloud_common;
using common::credential_env;
using common::string_member;
using Writer = common::JsonWriter;

namespace {

constexpr const char* kDefaultRegion = "us-central1";
constexpr const char* kDefaultImage = "projects/deeplearning-platform-release/global/images/family/common-cu123-debian-11-py310";
constexpr int kOperationTimeoutS = 900;

struct GcpRecord {
    std::string status, ip, instance, firewall, zone, region, project, instance_type;
    double hourly_price = 0;
    std::vector<std::string> tried;
};

GcpRecord parse_record(const std::string& json) {
    GcpRecord r;
    rapidjson::Document d;
    if (!common::parse_record_object(json, d)) return r;
    r.status = string_member(d, "status");
    r.ip = string_member(d, "ip");
    if (const rapidjson::Value* v = common::object_member(d, "provider")) {
        r.instance = string_member(*v, "instance");
        r.firewall = string_member(*v, "firewall");
        r.zone = string_member(*v, "zone");
        r.region = string_member(*v, "region");
        r.project = string_member(*v, "project");
        r.instance_type = string_member(*v, "instance_type");
        r.hourly_price = common::number_member(*v, "hourly_price");
        r.tried = common::string_list_member(*v, "tried");
    }
    return r;
}

std::string record_json(const cc::NodeSpec& spec, const GcpRecord& r) {
    // A stopped GCE VM gives up its ephemeral external address: a STOPPED record has none.
    const common::NodeRecordFields fields{r.status, r.status == "TERMINATED" || r.status == "STOPPED" ? "" : r.ip,
                                          r.region, r.zone, r.instance, r.instance_type, r.hourly_price, r.tried};
    return common::node_record_json(spec, fields, [&](Writer& w) {
        auto s = [&](const char* k, const std::string& v) { w.Key(k); w.String(v.c_str()); };
        s("instance", r.instance);
        s("firewall", r.firewall);
        s("zone", r.zone);
        s("region", r.region);
        s("project", r.project);
    });
}

std::string project_of(const cc::NodeSpec& spec) {
    auto it = spec.extra.find("project");
    return it == spec.extra.end() ? "" : it->second;
}

ComputeApi make_api(const cc::NodeSpec& spec, const std::string& project, const Progress& progress) {
    return ComputeApi(credential_env(spec), project.empty() ? project_of(spec) : project,
                      [progress](const std::string& note) {
                          if (progress) progress("provisioning", note);
                      });
}

// The node's login user: the ssh-keys metadata item creates it on the node.
std::string login_user(const cc::NodeSpec& spec) { return spec.ssh_user.empty() ? "llmatc" : spec.ssh_user; }

// The cluster's public key as one line, for the "user:key" ssh-keys metadata item.
std::string read_public_key(const std::string& path) {
    std::string text = common::read_text_file(path, "gcp", "cluster public key");
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
        w.Key("value"); w.String((login_user(spec) + ":" + read_public_key(spec.ssh_public_key)).c_str());
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
        v.status = string_member(d, "status");
        if (d.HasMember("networkInterfaces") && d["networkInterfaces"].IsArray() && !d["networkInterfaces"].Empty()) {
            const auto& ni = d["networkInterfaces"][0];
            if (ni.HasMember("accessConfigs") && ni["accessConfigs"].IsArray() && !ni["accessConfigs"].Empty())
                v.ip = string_member(ni["accessConfigs"][0], "natIP");
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
            progress("provisioning", "creating " + r.instance_type + " with " + std::to_string(plan.choice.offer.count) + "x " +
                                         plan.choice.offer.accelerator + " in " + zone + " (" +
                                         common::hourly_price_text(r.hourly_price) + ")");
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
                                     common::join_notes(r.tried) + "); try another --region or accelerator, or retry later");
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
        common::bootstrap_if_needed(spec, plan, r.ip, login_user(spec), progress);
    } catch (...) {
        common::remove_after_failed_launch(spec, progress, [&] {
            if (!r.instance.empty()) delete_instance(api, r.zone, r.instance, progress);
            delete_firewall(api, name);
        });
        throw;
    }
    r.status = common::wait_until_serving(spec, r.ip, progress);
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
    if (v.status == "RUNNING") r.status = common::running_status(spec, v.ip);
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
    if (common::running_status(spec, r.ip) != "UP")
        common::bootstrap_if_needed(spec, cc::plan_node(spec, cc::gcp_catalog(), r.region.empty() ? kDefaultRegion : r.region),
                                    r.ip, login_user(spec), progress);
    r.status = common::wait_until_serving(spec, r.ip, progress);
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
