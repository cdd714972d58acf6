// cloud_providers/common/json_members.h — typed reads of a JSON object's members that never throw: the records and
// the cloud API responses the remote providers read may lack any member or hold it with another type.
#pragma once

#include <string>
#include <vector>

#include <rapidjson/document.h>

namespace llmatc::cloud_common {

// The member `key` of `object` when it is an object (a record's "provider" part); nullptr otherwise.
const rapidjson::Value* object_member(const rapidjson::Value& object, const char* key);

// The member `key` of `object`; the empty value ("", 0, {}) when `object` is not an object, the member is absent,
// or it has another type. string_list_member skips the array's items that are not strings.
std::string string_member(const rapidjson::Value& object, const char* key);
double number_member(const rapidjson::Value& object, const char* key);
std::vector<std::string> string_list_member(const rapidjson::Value& object, const char* key);

}  // namespace llmatc::cloud_common
