// cloud_providers/aws/ec2_api.cpp — signing, sending and decoding EC2 Query API calls.
#include "ec2_api.h"

#include <chrono>
#include <sstream>
#include <thread>

#include <boost/property_tree/xml_parser.hpp>

#include "cloud_auth/crypto.h"
#include "cloud_auth/sigv4.h"
#include "http/http_client.h"

namespace llmatc::aws_cloud {

namespace {

constexpr const char* kApiVersion = "2016-11-15";
constexpr int kMaxThrottleRetries = 6;
constexpr long kRequestTimeoutS = 120;  // a whole EC2 call, response included

bool is_throttling(const std::string& code) {
    return code == "RequestLimitExceeded" || code == "Throttling" || code == "ThrottlingException" ||
           code == "RequestThrottled" || code == "ServiceUnavailable" || code == "Unavailable";
}

// What to tell the user for an error code, appended to the message.
std::string advice_for(const std::string& code) {
    if (code == "AuthFailure" || code == "UnauthorizedOperation" || code == "InvalidClientTokenId" ||
        code == "SignatureDoesNotMatch")
        return "check the AWS credentials (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, ~/.aws/credentials, AWS_PROFILE) "
               "and their EC2 permissions";
    if (code == "InsufficientInstanceCapacity" || code == "Unsupported")
        return "try another zone or region (--zone/--region), or another accelerator";
    if (code == "VcpuLimitExceeded" || code == "InstanceLimitExceeded" || code == "MaxSpotInstanceCountExceeded")
        return "ask AWS for a higher EC2 quota for this instance family in this region, or choose another region";
    if (is_throttling(code)) return "the API kept throttling: wait a minute and retry";
    return "see the AWS message above; fix the request or retry";
}

// host[:port] and the base URL (scheme://host[:port]) of an endpoint URL; the path is always "/".
std::pair<std::string, std::string> host_and_base(const std::string& endpoint) {
    const auto scheme_end = endpoint.find("://");
    if (scheme_end == std::string::npos)
        throw std::invalid_argument("aws: endpoint '" + endpoint + "' is not a URL (set AWS_ENDPOINT_URL to http(s)://host[:port])");
    const auto host_start = scheme_end + 3;
    const auto slash = endpoint.find('/', host_start);
    const std::string host = endpoint.substr(host_start, slash == std::string::npos ? std::string::npos : slash - host_start);
    return {host, endpoint.substr(0, host_start) + host};
}

}  // namespace

std::string ec2_endpoint_from(const std::map<std::string, std::string>& env) {
    for (const char* key : {"AWS_ENDPOINT_URL_EC2", "AWS_ENDPOINT_URL"})
        if (auto it = env.find(key); it != env.end() && !it->second.empty()) return it->second;
    return "";
}

std::string text_at(const Xml& node, const std::string& path) {
    auto child = node.get_child_optional(boost::property_tree::ptree::path_type(path, '.'));
    return child ? child->get_value<std::string>() : "";
}

std::vector<const Xml*> items_at(const Xml& node, const std::string& path) {
    std::vector<const Xml*> out;
    auto set = node.get_child_optional(boost::property_tree::ptree::path_type(path, '.'));
    if (!set) return out;
    for (const auto& [name, child] : *set)
        if (name == "item") out.push_back(&child);
    return out;
}

Ec2Api::Ec2Api(std::string region, cloud_auth::AwsCredentials credentials, std::string endpoint,
               std::function<void(const std::string&)> on_note)
    : region_(std::move(region)), credentials_(std::move(credentials)), endpoint_(std::move(endpoint)),
      on_note_(std::move(on_note)) {
    if (endpoint_.empty()) endpoint_ = "https://ec2." + region_ + ".amazonaws.com";
}

Xml Ec2Api::call(const std::string& action, const Params& params) {
    std::string body = "Action=" + cloud_auth::aws_uri_encode(action, true) + "&Version=" + kApiVersion;
    for (const auto& [k, v] : params) body += "&" + cloud_auth::aws_uri_encode(k, true) + "=" + cloud_auth::aws_uri_encode(v, true);
    const auto [host, base] = host_and_base(endpoint_);
    for (int attempt = 0;; ++attempt) {
        const std::string amz_date = cloud_auth::amz_date_now();
        cloud_auth::SigV4Request sig;
        sig.method = "POST";
        sig.path = "/";
        sig.headers = {{"host", host},
                       {"content-type", "application/x-www-form-urlencoded; charset=utf-8"},
                       {"x-amz-date", amz_date}};
        if (!credentials_.session_token.empty()) sig.headers.emplace_back("x-amz-security-token", credentials_.session_token);
        sig.payload_sha256 = cloud_auth::sha256_hex(body);
        const std::string authorization = cloud_auth::sigv4_authorization(sig, credentials_, amz_date, region_, "ec2");
        http::HttpRequest req;
        req.method = "POST";
        req.url = base + "/";
        req.body = body;
        req.follow_redirects = false;
        req.total_timeout_s = kRequestTimeoutS;
        for (const auto& [k, v] : sig.headers)
            if (k != "host") req.headers.emplace_back(k, v);
        req.headers.emplace_back("Authorization", authorization);
        http::HttpResponse resp;
        try {
            resp = http::http_fetch(req);
        } catch (const http::HttpTransportError& e) {
            throw Ec2Error("Transport", action, "aws: EC2 " + action + " in " + region_ + " could not be sent: " +
                                                    e.what() + "; check the network or AWS_ENDPOINT_URL");
        }
        Xml doc;
        std::string code, message;
        try {
            std::istringstream in(resp.body);
            boost::property_tree::read_xml(in, doc, boost::property_tree::xml_parser::trim_whitespace);
        } catch (const std::exception&) {
            doc.clear();
        }
        if (resp.status >= 200 && resp.status < 300 && !doc.empty()) return doc.begin()->second;
        if (!doc.empty()) {
            const Xml& root = doc.begin()->second;
            code = text_at(root, "Errors.Error.Code");
            message = text_at(root, "Errors.Error.Message");
            if (code.empty()) {  // some services answer <ErrorResponse><Error>...
                code = text_at(root, "Error.Code");
                message = text_at(root, "Error.Message");
            }
        }
        if (code.empty()) code = resp.status == 503 ? "ServiceUnavailable" : "HTTP" + std::to_string(resp.status);
        if (is_throttling(code) && attempt < kMaxThrottleRetries) {
            ++throttle_retries_;
            const auto wait = std::chrono::milliseconds(200 << attempt);
            if (on_note_)
                on_note_("EC2 " + action + " throttled (" + code + "); retrying in " + std::to_string(wait.count()) + " ms");
            std::this_thread::sleep_for(wait);
            continue;
        }
        if (message.size() > 300) message = message.substr(0, 300) + "...";
        throw Ec2Error(code, action, "aws: EC2 " + action + " in " + region_ + " failed: " + code +
                                         (message.empty() ? "" : " (" + message + ")") + "; " + advice_for(code));
    }
}

}  // namespace llmatc::aws_cloud
