// cloud_providers/common/json_members.cpp — typed, non-throwing reads of JSON object members.
#include "json_members.h"

namespace llmatc::cloud_common {

const rapidjson::Value* object_member(const rapidjson::Value& object, const char* key) {
    if (!object.IsObject()) return nullptr;
    auto it = object.FindMember(key);
    return it != object.MemberEnd() && it->value.IsObject() ? &it->value : nullptr;
}

std::string string_member(const rapidjson::Value& object, const char* key) {
    if (!object.IsObject()) return "";
    auto it = object.FindMember(key);
    return it != object.MemberEnd() && it->value.IsString() ? it->value.GetString() : "";
}

double number_member(const rapidjson::Value& object, const char* key) {
    if (!object.IsObject()) return 0;
    auto it = object.FindMember(key);
    return it != object.MemberEnd() && it->value.IsNumber() ? it->value.GetDouble() : 0;
}

std::vector<std::string> string_list_member(const rapidjson::Value& object, const char* key) {
    std::vector<std::string> out;
    if (!object.IsObject()) return out;
    auto it = object.FindMember(key);
    if (it == object.MemberEnd() || !it->value.IsArray()) return out;
    for (const auto& item : it->value.GetArray())
        if (item.IsString()) out.emplace_back(item.GetString());
    return out;
}

}  // namespace llmatc::cloud_common
