// cloud_providers/common/node_record.cpp — the remote providers' cluster record JSON: parsing and writing it.
#include "node_record.h"

namespace llmatc::cloud_common {

bool parse_record_object(const std::string& json, rapidjson::Document& doc) {
    if (json.empty()) return false;
    doc.Parse(json.c_str());
    return !doc.HasParseError() && doc.IsObject();
}

std::string node_record_json(const cloud_catalog::NodeSpec& spec, const NodeRecordFields& fields,
                             const std::function<void(JsonWriter&)>& write_provider_ids) {
    rapidjson::StringBuffer buf;
    JsonWriter w(buf);
    auto s = [&](const char* k, const std::string& v) {
        w.Key(k);
        w.String(v.c_str());
    };
    w.StartObject();
    s("status", fields.status);
    s("ip", fields.ip);
    w.Key("port");
    w.Int(spec.port);
    s("region", fields.region);
    s("zone", fields.zone);
    w.Key("instance_ids");
    w.StartArray();
    if (!fields.instance_id.empty() && fields.status != "TERMINATED") w.String(fields.instance_id.c_str());
    w.EndArray();
    s("instance_type", fields.instance_type);
    w.Key("hourly_price");
    w.Double(fields.hourly_price);
    w.Key("provider");
    w.StartObject();
    write_provider_ids(w);
    s("instance_type", fields.instance_type);
    w.Key("hourly_price");
    w.Double(fields.hourly_price);
    w.Key("tried");
    w.StartArray();
    for (const auto& t : fields.tried) w.String(t.c_str());
    w.EndArray();
    w.EndObject();
    w.EndObject();
    return buf.GetString();
}

}  // namespace llmatc::cloud_common
