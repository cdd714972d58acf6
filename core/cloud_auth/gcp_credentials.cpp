// core/cloud_auth/gcp_credentials.cpp — finds Google credentials and builds the OAuth 2.0 token request.
#include "cloud_auth/gcp_credentials.h"

#include <fstream>
#include <sstream>
#include <stdexcept>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "cloud_auth/crypto.h"
#include "cloud_auth/sigv4.h"

namespace llmatc::cloud_auth {

namespace {

std::string get(const std::map<std::string, std::string>& env, const std::string& key) {
    auto it = env.find(key);
    return it == env.end() ? "" : it->second;
}

std::string string_field(const rapidjson::Document& doc, const char* key, const std::string& source) {
    auto it = doc.FindMember(key);
    if (it == doc.MemberEnd() || !it->value.IsString() || it->value.GetStringLength() == 0)
        throw std::runtime_error("Google credentials " + source + " lack the string field \"" + key + "\"");
    return it->value.GetString();
}

}  // namespace

std::string form_encode(const std::string& value) { return aws_uri_encode(value, true); }

GcpCredentials parse_gcp_credentials(const std::string& json_text, const std::string& source) {
    rapidjson::Document doc;
    doc.Parse(json_text.c_str(), json_text.size());
    if (doc.HasParseError() || !doc.IsObject())
        throw std::runtime_error("Google credentials " + source + " are not a JSON object");
    GcpCredentials creds;
    creds.source = source;
    const std::string type = string_field(doc, "type", source);
    if (type == "service_account") {
        creds.kind = GcpCredentials::Kind::ServiceAccount;
        creds.client_email = string_field(doc, "client_email", source);
        creds.private_key = string_field(doc, "private_key", source);
    } else if (type == "authorized_user") {
        creds.kind = GcpCredentials::Kind::AuthorizedUser;
        creds.client_id = string_field(doc, "client_id", source);
        creds.client_secret = string_field(doc, "client_secret", source);
        creds.refresh_token = string_field(doc, "refresh_token", source);
    } else {
        throw std::runtime_error("Google credentials " + source + " have type \"" + type +
                                 "\"; supported: service_account, authorized_user");
    }
    if (auto it = doc.FindMember("token_uri"); it != doc.MemberEnd() && it->value.IsString())
        creds.token_uri = it->value.GetString();
    if (auto it = doc.FindMember("project_id"); it != doc.MemberEnd() && it->value.IsString())
        creds.project_id = it->value.GetString();
    return creds;
}

GcpCredentials find_gcp_credentials(const std::map<std::string, std::string>& env) {
    std::string path = get(env, "GOOGLE_APPLICATION_CREDENTIALS");
    const bool named = !path.empty();
    if (!named) path = get(env, "HOME") + "/.config/gcloud/application_default_credentials.json";
    std::ifstream in(path);
    if (!in) {
        if (named) throw std::runtime_error("GOOGLE_APPLICATION_CREDENTIALS names " + path + ", which cannot be read");
        throw std::runtime_error("no Google credentials: set GOOGLE_APPLICATION_CREDENTIALS to a service-account key "
                                 "file (e.g. with --envs), or run `gcloud auth application-default login`");
    }
    std::stringstream text;
    text << in.rdbuf();
    return parse_gcp_credentials(text.str(), path);
}

std::string service_account_assertion(const GcpCredentials& creds, const std::string& scope, int64_t now_unix) {
    rapidjson::StringBuffer claims;
    rapidjson::Writer<rapidjson::StringBuffer> w(claims);
    w.StartObject();
    w.Key("iss"); w.String(creds.client_email.c_str());
    w.Key("scope"); w.String(scope.c_str());
    w.Key("aud"); w.String(creds.token_uri.c_str());
    w.Key("iat"); w.Int64(now_unix);
    w.Key("exp"); w.Int64(now_unix + 3600);
    w.EndObject();
    const std::string signing_input = base64url(R"({"alg":"RS256","typ":"JWT"})") + "." + base64url(claims.GetString());
    try {
        return signing_input + "." + base64url(rs256_sign(creds.private_key, signing_input));
    } catch (const std::exception& e) {
        throw std::runtime_error("Google service-account key in " + creds.source + ": " + e.what());
    }
}

std::string token_request_body(const GcpCredentials& creds, const std::string& scope, int64_t now_unix) {
    if (creds.kind == GcpCredentials::Kind::ServiceAccount)
        return "grant_type=" + form_encode("urn:ietf:params:oauth:grant-type:jwt-bearer") +
               "&assertion=" + service_account_assertion(creds, scope, now_unix);
    return "grant_type=refresh_token&client_id=" + form_encode(creds.client_id) + "&client_secret=" +
           form_encode(creds.client_secret) + "&refresh_token=" + form_encode(creds.refresh_token);
}

}  // namespace llmatc::cloud_auth
