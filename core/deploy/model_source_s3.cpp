// core/deploy/model_source_s3.cpp — s3://bucket/prefix/: ListObjectsV2 (paginated) and ranged GetObject, SigV4-signed.
#include <boost/property_tree/ptree.hpp>
#include <boost/property_tree/xml_parser.hpp>

#include <sstream>

#include "cloud_auth/aws_credentials.h"
#include "cloud_auth/crypto.h"
#include "cloud_auth/sigv4.h"
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

// Where requests go: AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL (path-style, for MinIO, moto, LocalStack), else
// AWS's virtual-hosted endpoint (path-style for bucket names with dots, which TLS wildcards do not cover).
struct S3Endpoint {
    std::string base;       // scheme://host[:port]
    std::string host;       // what the Host header carries
    std::string path_root;  // "" (virtual-hosted) or "/bucket"
};

S3Endpoint endpoint_for(const std::string& bucket, const std::string& region, const std::map<std::string, std::string>& env) {
    std::string custom = get(env, "AWS_ENDPOINT_URL_S3");
    if (custom.empty()) custom = get(env, "AWS_ENDPOINT_URL");
    if (!custom.empty()) {
        while (!custom.empty() && custom.back() == '/') custom.pop_back();
        const auto scheme_end = custom.find("://");
        if (scheme_end == std::string::npos)
            throw Error(LLMATC_ERR_INVALID_ARGUMENT, "AWS_ENDPOINT_URL '" + custom + "' needs a scheme (http:// or https://)");
        const std::string host = custom.substr(scheme_end + 3, custom.find('/', scheme_end + 3) - scheme_end - 3);
        return {custom, host, "/" + bucket};
    }
    if (bucket.find('.') != std::string::npos) {
        const std::string host = "s3." + region + ".amazonaws.com";
        return {"https://" + host, host, "/" + bucket};
    }
    const std::string host = bucket + ".s3." + region + ".amazonaws.com";
    return {"https://" + host, host, ""};
}

http::HttpRequest signed_get(const S3Endpoint& ep, const std::string& path,
                       const std::vector<std::pair<std::string, std::string>>& query,
                       const cloud_auth::AwsCredentials& creds, const std::string& region) {
    cloud_auth::SigV4Request sreq;
    sreq.method = "GET";
    sreq.path = path;
    sreq.query = query;
    sreq.payload_sha256 = cloud_auth::sha256_hex("");
    http::HttpRequest req;
    req.url = ep.base + path;
    const std::string qs = cloud_auth::canonical_query_string(query);
    if (!qs.empty()) req.url += "?" + qs;
    req.headers = cloud_auth::sign_s3_request(sreq, ep.host, creds, region, cloud_auth::amz_date_now());
    return req;
}

std::string xml_error_message(const std::string& body) {
    try {
        std::istringstream in(body);
        boost::property_tree::ptree tree;
        boost::property_tree::read_xml(in, tree);
        return tree.get<std::string>("Error.Code", "") + ": " + tree.get<std::string>("Error.Message", "");
    } catch (...) {
        return body.substr(0, 200);
    }
}

std::string strip_quotes(std::string s) {
    if (s.size() >= 2 && s.front() == '"' && s.back() == '"') s = s.substr(1, s.size() - 2);
    return s;
}

bool is_hex(const std::string& s, size_t len) {
    return s.size() == len && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

}  // namespace

std::filesystem::path fetch_s3_prefix(const std::string& url, const std::map<std::string, std::string>& env) {
    const auto [bucket, prefix] = split_bucket_url(url, "s3");
    cloud_auth::AwsCredentials creds;
    try {
        creds = cloud_auth::find_aws_credentials(env);
    } catch (const std::exception& e) {
        throw Error(LLMATC_ERR_PERMISSION, std::string(e.what()) + " (needed for " + url + ")");
    }
    const std::string region = cloud_auth::find_aws_region(env);
    const S3Endpoint ep = endpoint_for(bucket, region, env);

    std::vector<ListedObject> objects;
    std::string token;
    do {
        std::vector<std::pair<std::string, std::string>> query = {{"list-type", "2"}, {"prefix", prefix}};
        if (!token.empty()) query.emplace_back("continuation-token", token);
        http::HttpResponse r;
        try {
            r = http::http_fetch(signed_get(ep, ep.path_root.empty() ? "/" : ep.path_root, query, creds, region));
        } catch (const http::HttpTransportError& e) {
            throw Error(LLMATC_ERR_IO, "listing " + url + ": " + e.what());
        }
        if (r.status != 200) {
            const std::string why = "listing " + url + ": HTTP " + std::to_string(r.status) + " " + xml_error_message(r.body);
            if (r.status == 401 || r.status == 403)
                throw Error(LLMATC_ERR_PERMISSION, why + " (credentials from " + creds.source + ")");
            throw Error(r.status == 404 ? LLMATC_ERR_NOT_FOUND : LLMATC_ERR_IO, why);
        }
        boost::property_tree::ptree tree;
        try {
            std::istringstream in(r.body);
            boost::property_tree::read_xml(in, tree);
        } catch (const std::exception& e) {
            throw Error(LLMATC_ERR_CORRUPT, "listing " + url + ": the reply is not ListObjectsV2 XML (" + e.what() + ")");
        }
        const auto& result = tree.get_child("ListBucketResult");
        for (const auto& [tag, node] : result) {
            if (tag != "Contents") continue;
            ListedObject o;
            o.key = node.get<std::string>("Key");
            o.relative = o.key.substr(prefix.size());
            o.size = node.get<int64_t>("Size", -1);
            o.etag = strip_quotes(node.get<std::string>("ETag", ""));
            o.expected.size = o.size;
            // A single-part upload's ETag is the object's MD5; multipart ones ("...-N") are not.
            if (is_hex(o.etag, 32)) o.expected.md5_hex = o.etag;
            objects.push_back(std::move(o));
        }
        token = result.get<std::string>("IsTruncated", "false") == "true"
                    ? result.get<std::string>("NextContinuationToken", "")
                    : "";
    } while (!token.empty());

    const auto dir = bucket_cache_dir("s3", bucket, prefix, env);
    mirror_objects(objects, dir, url, [&, ep = ep, region = region](const ListedObject& o, uint64_t) {
        return signed_get(ep, ep.path_root + "/" + http::url_encode(o.key, true), {}, creds, region);
    });
    return dir;
}

}  // namespace llmatc::deploy
