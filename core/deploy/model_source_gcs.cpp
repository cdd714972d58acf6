// core/deploy/model_source_gcs.cpp — gs://bucket/prefix/: the Cloud Storage JSON API (paginated list, alt=media
// downloads with ranges), OAuth tokens from a service-account key or application-default credentials, none with
// STORAGE_EMULATOR_HOST.
#include <openssl/evp.h>

#include <ctime>

#include <rapidjson/document.h>

#include "cloud_auth/crypto.h"
#include "cloud_auth/gcp_credentials.h"
#include "deploy/bucket_download.h"
#include "http/http_client.h"
#include "deploy/model_source.h"
#include "util/error.h"

namespace llmatc::deploy {

namespace {

std::string get(const std::map<std::string, std::string>& env, const std::string& key) {
    auto it = env.find(key);
    return it == env.end() ? "" : it->second;
}

std::string base64_to_hex(const std::string& b64) {
    if (b64.empty() || b64.size() % 4 != 0) return "";
    std::string raw(b64.size(), '\0');
    int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(raw.data()), reinterpret_cast<const unsigned char*>(b64.data()),
                            static_cast<int>(b64.size()));
    if (n < 0) return "";
    size_t pad = 0;
    for (size_t i = b64.size(); i > 0 && b64[i - 1] == '='; --i) ++pad;
    raw.resize(static_cast<size_t>(n) - pad);
    return cloud_auth::to_hex(raw);
}

// An OAuth access token for Cloud Storage reads, or "" against an emulator.
std::string access_token(const std::map<std::string, std::string>& env, const std::string& url) {
    cloud_auth::GcpCredentials creds;
    std::string body;
    try {
        creds = cloud_auth::find_gcp_credentials(env);
        body = cloud_auth::token_request_body(creds, "https://www.googleapis.com/auth/devstorage.read_only",
                                              static_cast<int64_t>(std::time(nullptr)));
    } catch (const std::exception& e) {
        throw Error(LLMATC_ERR_PERMISSION, std::string(e.what()) + " (needed for " + url + ")");
    }
    http::HttpRequest req;
    req.method = "POST";
    req.url = creds.token_uri;
    req.headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
    req.body = body;
    http::HttpResponse r;
    try {
        r = http::http_fetch(req);
    } catch (const http::HttpTransportError& e) {
        throw Error(LLMATC_ERR_IO, std::string("getting a Google access token: ") + e.what());
    }
    rapidjson::Document doc;
    doc.Parse(r.body.c_str());
    if (r.status != 200 || doc.HasParseError() || !doc.IsObject() || !doc.HasMember("access_token") ||
        !doc["access_token"].IsString())
        throw Error(LLMATC_ERR_PERMISSION, "Google refused the credentials in " + creds.source + " (HTTP " +
                                               std::to_string(r.status) + ")");
    return doc["access_token"].GetString();
}

}  // namespace

std::filesystem::path fetch_gcs_prefix(const std::string& url, const std::map<std::string, std::string>& env) {
    const auto [bucket, prefix] = split_bucket_url(url, "gs");
    std::string base = get(env, "STORAGE_EMULATOR_HOST");
    std::string token;
    if (base.empty()) {
        base = "https://storage.googleapis.com";
        token = access_token(env, url);
    } else if (base.find("://") == std::string::npos) {
        base = "http://" + base;
    }
    while (!base.empty() && base.back() == '/') base.pop_back();
    auto with_auth = [&](http::HttpRequest req) {
        if (!token.empty()) req.headers.emplace_back("Authorization", "Bearer " + token);
        return req;
    };

    std::vector<ListedObject> objects;
    std::string page;
    do {
        http::HttpRequest req;
        req.url = base + "/storage/v1/b/" + http::url_encode(bucket, false) + "/o?prefix=" + http::url_encode(prefix, false) +
                  (page.empty() ? "" : "&pageToken=" + http::url_encode(page, false));
        http::HttpResponse r;
        try {
            r = http::http_fetch(with_auth(req));
        } catch (const http::HttpTransportError& e) {
            throw Error(LLMATC_ERR_IO, "listing " + url + ": " + e.what());
        }
        if (r.status != 200) {
            const std::string why = "listing " + url + ": HTTP " + std::to_string(r.status);
            if (r.status == 401 || r.status == 403) throw Error(LLMATC_ERR_PERMISSION, why + " (check the credentials' access)");
            throw Error(r.status == 404 ? LLMATC_ERR_NOT_FOUND : LLMATC_ERR_IO, why + (r.status == 404 ? " (no such bucket)" : ""));
        }
        rapidjson::Document doc;
        doc.Parse(r.body.c_str());
        if (doc.HasParseError() || !doc.IsObject())
            throw Error(LLMATC_ERR_CORRUPT, "listing " + url + ": the reply is not JSON");
        if (auto items = doc.FindMember("items"); items != doc.MemberEnd() && items->value.IsArray()) {
            for (const auto& item : items->value.GetArray()) {
                if (!item.IsObject() || !item.HasMember("name") || !item["name"].IsString()) continue;
                ListedObject o;
                o.key = item["name"].GetString();
                if (o.key.rfind(prefix, 0) != 0) continue;
                o.relative = o.key.substr(prefix.size());
                if (item.HasMember("size") && item["size"].IsString()) o.size = std::stoll(item["size"].GetString());
                else if (item.HasMember("size") && item["size"].IsInt64()) o.size = item["size"].GetInt64();
                if (item.HasMember("md5Hash") && item["md5Hash"].IsString())
                    o.expected.md5_hex = base64_to_hex(item["md5Hash"].GetString());
                o.etag = item.HasMember("etag") && item["etag"].IsString() ? item["etag"].GetString() : o.expected.md5_hex;
                if (o.etag.empty() && item.HasMember("generation") && item["generation"].IsString())
                    o.etag = item["generation"].GetString();
                o.expected.size = o.size;
                objects.push_back(std::move(o));
            }
        }
        auto next = doc.FindMember("nextPageToken");
        page = next != doc.MemberEnd() && next->value.IsString() ? next->value.GetString() : "";
    } while (!page.empty());

    const auto dir = bucket_cache_dir("gs", bucket, prefix, env);
    mirror_objects(objects, dir, url, [&, bucket = bucket](const ListedObject& o, uint64_t) {
        http::HttpRequest req;
        req.url = base + "/storage/v1/b/" + http::url_encode(bucket, false) + "/o/" + http::url_encode(o.key, false) + "?alt=media";
        return with_auth(req);
    });
    return dir;
}

}  // namespace llmatc::deploy
