// cloud_providers/common/node_record.h — reading and writing the JSON record a remote provider keeps for a cluster:
// the fields the launcher reads from every provider, around the provider's own "provider" object.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "node_spec.h"

namespace llmatc::cloud_common {

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

// Parses `json` into `doc`; false when it is empty, malformed or not an object (a new cluster has no record yet,
// and a record the provider cannot read is treated as none).
bool parse_record_object(const std::string& json, rapidjson::Document& doc);

// The fields every remote provider's record has, whatever its cloud calls its resources.
struct NodeRecordFields {
    std::string status;         // INIT | UP | STOPPED | TERMINATED
    std::string ip;             // written as given: the caller blanks it where the node has no address
    std::string region, zone;
    std::string instance_id;    // listed in "instance_ids" unless empty or the status is TERMINATED
    std::string instance_type;
    double hourly_price = 0;    // USD per hour
    std::vector<std::string> tried;  // the zone failover trail: "us-east-2a: InsufficientInstanceCapacity", ...
};

// The record as JSON: status, ip, port (from spec), region, zone, instance_ids, instance_type, hourly_price, then
// "provider": { what `write_provider_ids` writes (its own keys, as Key/value pairs), instance_type, hourly_price,
// tried }. `write_provider_ids` is called once, inside the open "provider" object.
std::string node_record_json(const cloud_catalog::NodeSpec& spec, const NodeRecordFields& fields,
                             const std::function<void(JsonWriter&)>& write_provider_ids);

}  // namespace llmatc::cloud_common
