// cloud_providers/aws/aws_node.cpp — provisioning and lifecycle of a cluster's EC2 node.
#include "aws_node.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <map>
#include <thread>

#include "accelerator_catalog.h"
#include "cloud_auth/aws_credentials.h"
#include "cloud_auth/crypto.h"
#include "credential_env.h"
#include "ec2_api.h"
#include "failed_launch.h"
#include "json_members.h"
#include "node_plan.h"
#include "node_record.h"
#include "node_serving.h"
#include "poll_interval.h"
#include "provider_text.h"

namespace llmatc::aws_cloud {

namespace cc = llmatc::cloud_catalog;
namespace common = llmatc::cloud_common;
using common::credential_env;

namespace {

constexpr const char* kClusterTag = "llmatc-cluster";

std::string region_for(const cc::NodeSpec& spec, const std::map<std::string, std::string>& env) {
    return spec.region.empty() ? cloud_auth::find_aws_region(env) : spec.region;
}

Ec2Api make_api(const cc::NodeSpec& spec, const std::string& region, const Progress& progress) {
    const auto env = credential_env(spec);
    cloud_auth::AwsCredentials creds;
    try {
        creds = cloud_auth::find_aws_credentials(env);
    } catch (const std::exception& e) {
        throw std::runtime_error(std::string("aws: no usable credentials: ") + e.what());
    }
    return Ec2Api(region, creds, ec2_endpoint_from(env), [progress](const std::string& note) {
        if (progress) progress("provisioning", note);
    });
}

// ---- the record ----

AwsRecord parse_record(const std::string& json) {
    AwsRecord r;
    rapidjson::Document d;
    if (!common::parse_record_object(json, d)) return r;
    r.status = common::string_member(d, "status");
    r.ip = common::string_member(d, "ip");
    if (const rapidjson::Value* v = common::object_member(d, "provider")) {
        auto& x = r.resources;
        x.instance_id = common::string_member(*v, "instance_id");
        x.key_name = common::string_member(*v, "key_name");
        x.security_group_id = common::string_member(*v, "security_group_id");
        x.security_group_name = common::string_member(*v, "security_group_name");
        x.image_id = common::string_member(*v, "image_id");
        x.zone = common::string_member(*v, "zone");
        x.region = common::string_member(*v, "region");
        x.instance_type = common::string_member(*v, "instance_type");
        x.hourly_price = common::number_member(*v, "hourly_price");
        x.tried = common::string_list_member(*v, "tried");
    }
    return r;
}

std::string record_json(const cc::NodeSpec& spec, const AwsRecord& r) {
    const auto& x = r.resources;
    const common::NodeRecordFields fields{r.status, r.status == "TERMINATED" ? "" : r.ip, x.region, x.zone,
                                          x.instance_id, x.instance_type, x.hourly_price, x.tried};
    return common::node_record_json(spec, fields, [&](common::JsonWriter& w) {
        auto s = [&](const char* k, const std::string& v) { w.Key(k); w.String(v.c_str()); };
        s("instance_id", x.instance_id);
        s("key_name", x.key_name);
        s("security_group_id", x.security_group_id);
        s("security_group_name", x.security_group_name);
        s("image_id", x.image_id);
        s("zone", x.zone);
        s("region", x.region);
    });
}

// ---- EC2 pieces ----

struct InstanceState {
    std::string state;  // pending | running | stopping | stopped | shutting-down | terminated | "" (not found)
    std::string ip, zone;
};

InstanceState describe_instance(Ec2Api& api, const std::string& id) {
    InstanceState st;
    if (id.empty()) return st;
    Xml doc;
    try {
        doc = api.call("DescribeInstances", {{"InstanceId.1", id}});
    } catch (const Ec2Error& e) {
        if (e.code == "InvalidInstanceID.NotFound" || e.code == "InvalidInstanceID.Malformed") return st;
        throw;
    }
    for (const Xml* res : items_at(doc, "reservationSet"))
        for (const Xml* inst : items_at(*res, "instancesSet"))
            if (text_at(*inst, "instanceId") == id) {
                st.state = text_at(*inst, "instanceState.name");
                st.ip = text_at(*inst, "ipAddress");
                st.zone = text_at(*inst, "placement.availabilityZone");
            }
    return st;
}

// Waits until the instance reaches one of `wanted`; throws after `timeout_s`.
InstanceState wait_for_state(Ec2Api& api, const std::string& id, std::vector<std::string> wanted, int timeout_s,
                             const Progress& progress, const char* phase) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
    std::string last;
    for (;;) {
        InstanceState st = describe_instance(api, id);
        const bool done = std::find(wanted.begin(), wanted.end(), st.state) != wanted.end();
        if (done && (st.state != "running" || !st.ip.empty())) return st;
        if (st.state != last && progress) progress(phase, "instance " + id + " is " + (st.state.empty() ? "not found" : st.state));
        last = st.state;
        if (std::chrono::steady_clock::now() > deadline)
            throw std::runtime_error("aws: instance " + id + " did not become " + wanted.front() + " within " +
                                     std::to_string(timeout_s) + " s (it is " + st.state + "); `llm-atc status` shows it, "
                                     "`llm-atc down` removes it");
        std::this_thread::sleep_for(std::chrono::milliseconds(common::poll_interval_ms()));
    }
}

void import_key_pair(Ec2Api& api, const std::string& key_name, const std::string& public_key) {
    const Params params = {{"KeyName", key_name}, {"PublicKeyMaterial", cloud_auth::base64(public_key)}};
    try {
        api.call("ImportKeyPair", params);
    } catch (const Ec2Error& e) {
        if (e.code != "InvalidKeyPair.Duplicate") throw;
        // Our name: a leftover of an earlier launch of this cluster. Replace it so it holds this cluster's key.
        api.call("DeleteKeyPair", {{"KeyName", key_name}});
        api.call("ImportKeyPair", params);
    }
}

std::string find_security_group(Ec2Api& api, const std::string& name) {
    Xml doc = api.call("DescribeSecurityGroups", {{"Filter.1.Name", "group-name"}, {"Filter.1.Value.1", name}});
    for (const Xml* g : items_at(doc, "securityGroupInfo"))
        if (text_at(*g, "groupName") == name) return text_at(*g, "groupId");
    return "";
}

std::string create_security_group(Ec2Api& api, const cc::NodeSpec& spec, const std::string& name) {
    std::string id = find_security_group(api, name);
    if (id.empty()) {
        Xml doc = api.call("CreateSecurityGroup",
                           {{"GroupName", name},
                            {"GroupDescription", "llm-atc cluster " + spec.name + ": SSH and the serving port"},
                            {"TagSpecification.1.ResourceType", "security-group"},
                            {"TagSpecification.1.Tag.1.Key", kClusterTag},
                            {"TagSpecification.1.Tag.1.Value", spec.name}});
        id = text_at(doc, "groupId");
        if (id.empty()) throw std::runtime_error("aws: EC2 CreateSecurityGroup returned no groupId");
    }
    // The caller's address cannot be known reliably from here (NAT, VPNs), so both ports are open to all; the
    // server requires the cluster's API key, and SSH takes only the cluster's key.
    for (int port : {22, spec.port}) {
        try {
            api.call("AuthorizeSecurityGroupIngress",
                     {{"GroupId", id},
                      {"IpPermissions.1.IpProtocol", "tcp"},
                      {"IpPermissions.1.FromPort", std::to_string(port)},
                      {"IpPermissions.1.ToPort", std::to_string(port)},
                      {"IpPermissions.1.IpRanges.1.CidrIp", "0.0.0.0/0"},
                      {"IpPermissions.1.IpRanges.1.Description", "llm-atc " + std::string(port == 22 ? "ssh" : "server")}});
        } catch (const Ec2Error& e) {
            if (e.code != "InvalidPermission.Duplicate") throw;
        }
    }
    return id;
}

// A GPU deep-learning image: the newest of the first name pattern that matches (owner amazon), unless
// extra.image_id / LLMATC_AWS_IMAGE_ID names one.
std::pair<std::string, std::string> find_image(Ec2Api& api, const cc::NodeSpec& spec) {
    if (auto it = spec.extra.find("image_id"); it != spec.extra.end() && !it->second.empty()) return {it->second, "given"};
    if (const char* v = std::getenv("LLMATC_AWS_IMAGE_ID"); v && *v) return {v, "LLMATC_AWS_IMAGE_ID"};
    const char* patterns[] = {"Deep Learning Base OSS Nvidia Driver GPU AMI (Ubuntu 22.04)*",
                              "Deep Learning Base*GPU*Ubuntu*", "Deep Learning*", "ubuntu/images/*22.04*", "*"};
    for (const char* pattern : patterns) {
        Xml doc = api.call("DescribeImages", {{"Owner.1", "amazon"},
                                              {"Filter.1.Name", "name"}, {"Filter.1.Value.1", pattern},
                                              {"Filter.2.Name", "architecture"}, {"Filter.2.Value.1", "x86_64"},
                                              {"Filter.3.Name", "state"}, {"Filter.3.Value.1", "available"}});
        std::string best_id, best_name, best_date;
        for (const Xml* img : items_at(doc, "imagesSet")) {
            const std::string date = text_at(*img, "creationDate");
            if (best_id.empty() || date > best_date) {
                best_id = text_at(*img, "imageId");
                best_name = text_at(*img, "name");
                best_date = date;
            }
        }
        if (!best_id.empty()) return {best_id, best_name};
    }
    throw std::runtime_error("aws: EC2 DescribeImages found no x86_64 image owned by amazon in " + api.region() +
                             "; set LLMATC_AWS_IMAGE_ID to an AMI id");
}

bool is_capacity_error(const std::string& code) {
    return code == "InsufficientInstanceCapacity" || code == "Unsupported" || code == "InsufficientCapacity" ||
           code == "InsufficientHostCapacity";
}

Params run_instances_params(const cc::NodeSpec& spec, const cc::NodePlan& plan, const AwsResources& x,
                            const std::string& zone) {
    const std::string rn = cc::resource_name(spec);
    Params p = {{"ImageId", x.image_id},
                {"InstanceType", plan.choice.offer.instance_type},
                {"MinCount", "1"},
                {"MaxCount", "1"},
                {"KeyName", x.key_name},
                {"SecurityGroupId.1", x.security_group_id},
                {"Placement.AvailabilityZone", zone},
                {"BlockDeviceMapping.1.DeviceName", "/dev/sda1"},
                {"BlockDeviceMapping.1.Ebs.VolumeSize", std::to_string(plan.disk_gib)},
                {"BlockDeviceMapping.1.Ebs.VolumeType", "gp3"},
                {"BlockDeviceMapping.1.Ebs.DeleteOnTermination", "true"},
                {"UserData", cloud_auth::base64(plan.script)},
                {"InstanceInitiatedShutdownBehavior", "stop"}};
    int n = 1;
    for (const char* type : {"instance", "volume"}) {
        const std::string t = "TagSpecification." + std::to_string(n++) + ".";
        p.emplace_back(t + "ResourceType", type);
        p.emplace_back(t + "Tag.1.Key", "Name");
        p.emplace_back(t + "Tag.1.Value", rn);
        p.emplace_back(t + "Tag.2.Key", kClusterTag);
        p.emplace_back(t + "Tag.2.Value", spec.name);
    }
    return p;
}

// Live instances tagged with this cluster's name (found even when a record was lost mid-launch).
std::vector<std::string> tagged_instances(Ec2Api& api, const std::string& cluster) {
    Xml doc = api.call("DescribeInstances", {{"Filter.1.Name", std::string("tag:") + kClusterTag},
                                             {"Filter.1.Value.1", cluster},
                                             {"Filter.2.Name", "instance-state-name"},
                                             {"Filter.2.Value.1", "pending"}, {"Filter.2.Value.2", "running"},
                                             {"Filter.2.Value.3", "stopping"}, {"Filter.2.Value.4", "stopped"}});
    std::vector<std::string> ids;
    for (const Xml* res : items_at(doc, "reservationSet"))
        for (const Xml* inst : items_at(*res, "instancesSet")) ids.push_back(text_at(*inst, "instanceId"));
    return ids;
}

// Removes the cluster's instances, security group and key pair; each step tolerates "already gone".
void remove_everything(Ec2Api& api, const cc::NodeSpec& spec, const AwsResources& x, const Progress& progress) {
    std::vector<std::string> ids = tagged_instances(api, spec.name);
    if (!x.instance_id.empty() && std::find(ids.begin(), ids.end(), x.instance_id) == ids.end()) ids.push_back(x.instance_id);
    for (const auto& id : ids) {
        try {
            api.call("TerminateInstances", {{"InstanceId.1", id}});
            progress("provisioning", "terminating instance " + id);
        } catch (const Ec2Error& e) {
            if (e.code != "InvalidInstanceID.NotFound") throw;
        }
    }
    for (const auto& id : ids) {
        const auto st = describe_instance(api, id);
        if (!st.state.empty() && st.state != "terminated") wait_for_state(api, id, {"terminated", ""}, 900, progress, "provisioning");
    }
    const std::string group_name = x.security_group_name.empty() ? cc::resource_name(spec) : x.security_group_name;
    std::string group_id = x.security_group_id.empty() ? find_security_group(api, group_name) : x.security_group_id;
    if (!group_id.empty()) {
        // The group stays "in use" for a little while after its instance terminates.
        for (int attempt = 0;; ++attempt) {
            try {
                api.call("DeleteSecurityGroup", {{"GroupId", group_id}});
                break;
            } catch (const Ec2Error& e) {
                if (e.code == "InvalidGroup.NotFound") break;
                if (e.code != "DependencyViolation" || attempt >= 30) throw;
                std::this_thread::sleep_for(std::chrono::milliseconds(common::poll_interval_ms()));
            }
        }
    }
    try {
        api.call("DeleteKeyPair", {{"KeyName", x.key_name.empty() ? cc::resource_name(spec) : x.key_name}});
    } catch (const Ec2Error& e) {
        if (e.code != "InvalidKeyPair.NotFound") throw;
    }
}

// The login user of the images aws provisions: the AWS deep-learning AMIs are Ubuntu images.
constexpr const char* kLoginUser = "ubuntu";

}  // namespace

std::string aws_catalog_json() { return cc::catalog_abi_json(cc::aws_catalog()); }

std::string aws_provision(const cc::NodeSpec& spec, const std::string& old_record, const Progress& progress) {
    const auto env = credential_env(spec);
    const std::string region = region_for(spec, env);
    const cc::NodePlan plan = cc::plan_node(spec, cc::aws_catalog(), region);
    const std::string rn = cc::resource_name(spec);
    if (spec.dryrun)
        return cc::plan_record_json(spec, plan, {"key pair " + rn, "security group " + rn + " (tcp 22, " +
                                                     std::to_string(spec.port) + ")", "instance " + rn + " (" +
                                                     plan.choice.offer.instance_type + ", " + std::to_string(plan.disk_gib) +
                                                     " GiB gp3 root volume)"});
    Ec2Api api = make_api(spec, region, progress);
    AwsRecord rec = parse_record(old_record);
    // A record naming a live instance: reuse it (start it when stopped).
    if (!rec.resources.instance_id.empty()) {
        const auto st = describe_instance(api, rec.resources.instance_id);
        if (st.state == "running" || st.state == "pending" || st.state == "stopped" || st.state == "stopping") {
            progress("provisioning", "reusing instance " + rec.resources.instance_id);
            return aws_start(spec, old_record, progress);
        }
    }
    if (!plan.choice.note.empty()) progress("provisioning", plan.choice.note);
    AwsResources x;
    x.region = region;
    x.instance_type = plan.choice.offer.instance_type;
    x.hourly_price = plan.choice.hourly_price;
    x.key_name = rn;
    x.security_group_name = rn;
    try {
        progress("provisioning", "importing key pair " + rn);
        import_key_pair(api, x.key_name, common::read_text_file(spec.ssh_public_key, "aws", "cluster public key"));
        x.security_group_id = create_security_group(api, spec, x.security_group_name);
        progress("provisioning", "security group " + x.security_group_id + " opens tcp 22 and " + std::to_string(spec.port));
        const auto [image, image_name] = find_image(api, spec);
        x.image_id = image;
        progress("provisioning", "image " + image + " (" + image_name + ")");
        for (const auto& zone : plan.choice.zones) {
            progress("provisioning", "launching " + x.instance_type + " in " + zone + " (" +
                                         common::hourly_price_text(x.hourly_price) + ")");
            try {
                Xml doc = api.call("RunInstances", run_instances_params(spec, plan, x, zone));
                auto items = items_at(doc, "instancesSet");
                if (items.empty()) throw std::runtime_error("aws: EC2 RunInstances returned no instance");
                x.instance_id = text_at(*items.front(), "instanceId");
                x.zone = zone;
                x.tried.push_back(zone + ": launched " + x.instance_id);
                break;
            } catch (const Ec2Error& e) {
                if (!is_capacity_error(e.code)) throw;
                x.tried.push_back(zone + ": " + e.code);
                progress("provisioning", zone + " has no capacity (" + e.code + "); trying the next zone");
            }
        }
        if (x.instance_id.empty())
            throw std::runtime_error("aws: no zone of " + region + " had capacity for " + x.instance_type + " (tried: " +
                                     common::join_notes(x.tried) + "); try another --region or accelerator, or retry later");
        const auto st = wait_for_state(api, x.instance_id, {"running"}, 900, progress, "provisioning");
        rec.ip = st.ip;
        progress("provisioning", "instance " + x.instance_id + " is running at " + st.ip + " in " + x.zone);
        common::bootstrap_if_needed(spec, plan, rec.ip, kLoginUser, progress);
    } catch (...) {
        // A failed launch leaves nothing behind: what this call created is removed before the error goes up.
        common::remove_after_failed_launch(spec, progress, [&] { remove_everything(api, spec, x, progress); });
        throw;
    }
    rec.resources = x;
    rec.status = common::wait_until_serving(spec, rec.ip, progress);
    return record_json(spec, rec);
}

std::string aws_refresh(const cc::NodeSpec& spec, const std::string& old_record) {
    AwsRecord rec = parse_record(old_record);
    if (rec.resources.instance_id.empty()) {
        rec.status = rec.status.empty() ? "TERMINATED" : rec.status;
        return record_json(spec, rec);
    }
    Ec2Api api = make_api(spec, rec.resources.region.empty() ? spec.region : rec.resources.region, nullptr);
    const auto st = describe_instance(api, rec.resources.instance_id);
    rec.ip = st.ip;
    if (st.state == "running") rec.status = common::running_status(spec, st.ip);
    else if (st.state == "pending") rec.status = "INIT";
    else if (st.state == "stopped" || st.state == "stopping") rec.status = "STOPPED";
    else rec.status = "TERMINATED";
    return record_json(spec, rec);
}

std::string aws_stop(const cc::NodeSpec& spec, const std::string& old_record, const Progress& progress) {
    AwsRecord rec = parse_record(old_record);
    if (rec.resources.instance_id.empty()) {
        rec.status = "STOPPED";
        return record_json(spec, rec);
    }
    Ec2Api api = make_api(spec, rec.resources.region.empty() ? spec.region : rec.resources.region, progress);
    const auto before = describe_instance(api, rec.resources.instance_id);
    if (before.state.empty() || before.state == "terminated" || before.state == "shutting-down") {
        rec.status = "TERMINATED";
        return record_json(spec, rec);
    }
    if (before.state != "stopped") {
        api.call("StopInstances", {{"InstanceId.1", rec.resources.instance_id}});
        progress("provisioning", "stopping instance " + rec.resources.instance_id);
        wait_for_state(api, rec.resources.instance_id, {"stopped"}, 900, progress, "provisioning");
    }
    rec.status = "STOPPED";
    rec.ip = "";
    return record_json(spec, rec);
}

std::string aws_start(const cc::NodeSpec& spec, const std::string& old_record, const Progress& progress) {
    AwsRecord rec = parse_record(old_record);
    if (rec.resources.instance_id.empty())
        throw std::runtime_error("aws: cluster " + spec.name + " has no instance to start; launch it again with serve");
    Ec2Api api = make_api(spec, rec.resources.region.empty() ? spec.region : rec.resources.region, progress);
    auto st = describe_instance(api, rec.resources.instance_id);
    if (st.state.empty() || st.state == "terminated" || st.state == "shutting-down")
        throw std::runtime_error("aws: instance " + rec.resources.instance_id + " of cluster " + spec.name +
                                 " is gone; `llm-atc down " + spec.name + "` and serve again");
    if (st.state == "stopping") st = wait_for_state(api, rec.resources.instance_id, {"stopped"}, 900, progress, "provisioning");
    if (st.state == "stopped") {
        api.call("StartInstances", {{"InstanceId.1", rec.resources.instance_id}});
        progress("provisioning", "starting instance " + rec.resources.instance_id);
    }
    const bool was_running = st.state == "running";
    st = wait_for_state(api, rec.resources.instance_id, {"running"}, 900, progress, "provisioning");
    rec.ip = st.ip;
    if (!was_running || common::running_status(spec, rec.ip) != "UP")
        common::bootstrap_if_needed(spec, cc::plan_node(spec, cc::aws_catalog(), api.region()), rec.ip, kLoginUser,
                                    progress);
    rec.status = common::wait_until_serving(spec, rec.ip, progress);
    return record_json(spec, rec);
}

std::string aws_terminate(const cc::NodeSpec& spec, const std::string& old_record, const Progress& progress) {
    AwsRecord rec = parse_record(old_record);
    const auto env = credential_env(spec);
    const std::string region = !rec.resources.region.empty() ? rec.resources.region : region_for(spec, env);
    rec.resources.region = region;
    const bool created_nothing = rec.resources.instance_id.empty() && rec.resources.security_group_id.empty();
    if (created_nothing) {
        // A launch that never got credentials created nothing; without them there is nothing we could look up.
        try {
            cloud_auth::find_aws_credentials(env);
        } catch (const std::exception&) {
            progress("provisioning", "no AWS credentials and no resources recorded: nothing to remove (if an earlier "
                                     "launch did create some, they carry the tag llmatc-cluster=" + spec.name + ")");
            rec.status = "TERMINATED";
            return record_json(spec, rec);
        }
    }
    Ec2Api api = make_api(spec, region, progress);
    remove_everything(api, spec, rec.resources, progress);
    rec.status = "TERMINATED";
    rec.ip = "";
    return record_json(spec, rec);
}

}  // namespace llmatc::aws_cloud
