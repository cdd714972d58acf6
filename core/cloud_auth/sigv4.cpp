// core/cloud_auth/sigv4.cpp — AWS Signature Version 4, following AWS's "Create a signed AWS API request" steps.
#include "cloud_auth/sigv4.h"

#include <algorithm>
#include <cctype>
#include <ctime>
#include <map>

#include "cloud_auth/crypto.h"

namespace llmatc::cloud_auth {

namespace {

std::string lowercase(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

// Header values are trimmed and inner runs of spaces collapse to one, as the canonical form requires.
std::string trim_header_value(const std::string& value) {
    std::string out;
    bool in_space = false;
    for (char c : value) {
        if (c == ' ' || c == '\t') {
            in_space = true;
            continue;
        }
        if (in_space && !out.empty()) out.push_back(' ');
        in_space = false;
        out.push_back(c);
    }
    return out;
}

}  // namespace

std::string aws_uri_encode(std::string_view text, bool encode_slash) {
    static const char digits[] = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : text) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || (c == '/' && !encode_slash)) {
            out.push_back(static_cast<char>(c));
        } else {
            out.push_back('%');
            out.push_back(digits[c >> 4]);
            out.push_back(digits[c & 15]);
        }
    }
    return out;
}

std::string canonical_query_string(const std::vector<std::pair<std::string, std::string>>& query) {
    std::vector<std::pair<std::string, std::string>> encoded;
    for (const auto& [k, v] : query) encoded.emplace_back(aws_uri_encode(k, true), aws_uri_encode(v, true));
    std::sort(encoded.begin(), encoded.end());
    std::string out;
    for (const auto& [k, v] : encoded) {
        if (!out.empty()) out.push_back('&');
        out += k + "=" + v;
    }
    return out;
}

std::string canonical_request(const SigV4Request& request, std::string* signed_headers_out) {
    std::map<std::string, std::string> headers;  // sorted by lowercase name; repeated names join with ","
    for (const auto& [name, value] : request.headers) {
        auto& slot = headers[lowercase(name)];
        slot = slot.empty() ? trim_header_value(value) : slot + "," + trim_header_value(value);
    }
    std::string canonical_headers, signed_headers;
    for (const auto& [name, value] : headers) {
        canonical_headers += name + ":" + value + "\n";
        if (!signed_headers.empty()) signed_headers.push_back(';');
        signed_headers += name;
    }
    if (signed_headers_out) *signed_headers_out = signed_headers;
    return request.method + "\n" + (request.path.empty() ? "/" : request.path) + "\n" +
           canonical_query_string(request.query) + "\n" + canonical_headers + "\n" + signed_headers + "\n" +
           request.payload_sha256;
}

std::string string_to_sign(const std::string& canonical, const std::string& amz_date, const std::string& region,
                           const std::string& service) {
    const std::string scope = amz_date.substr(0, 8) + "/" + region + "/" + service + "/aws4_request";
    return "AWS4-HMAC-SHA256\n" + amz_date + "\n" + scope + "\n" + sha256_hex(canonical);
}

std::string sigv4_signature(const std::string& secret_access_key, const std::string& to_sign,
                            const std::string& amz_date, const std::string& region, const std::string& service) {
    std::string key = hmac_sha256("AWS4" + secret_access_key, amz_date.substr(0, 8));
    key = hmac_sha256(key, region);
    key = hmac_sha256(key, service);
    key = hmac_sha256(key, "aws4_request");
    return to_hex(hmac_sha256(key, to_sign));
}

std::string sigv4_authorization(const SigV4Request& request, const AwsCredentials& credentials,
                                const std::string& amz_date, const std::string& region, const std::string& service) {
    std::string signed_headers;
    const std::string canonical = canonical_request(request, &signed_headers);
    const std::string signature = sigv4_signature(credentials.secret_access_key,
                                                  string_to_sign(canonical, amz_date, region, service), amz_date,
                                                  region, service);
    return "AWS4-HMAC-SHA256 Credential=" + credentials.access_key_id + "/" + amz_date.substr(0, 8) + "/" + region +
           "/" + service + "/aws4_request, SignedHeaders=" + signed_headers + ", Signature=" + signature;
}

HeaderList sign_s3_request(SigV4Request& request, const std::string& host, const AwsCredentials& credentials,
                           const std::string& region, const std::string& amz_date) {
    HeaderList to_send = {{"x-amz-date", amz_date}, {"x-amz-content-sha256", request.payload_sha256}};
    if (!credentials.session_token.empty()) to_send.emplace_back("x-amz-security-token", credentials.session_token);
    request.headers.emplace_back("host", host);
    for (const auto& h : to_send) request.headers.push_back(h);
    to_send.emplace_back("Authorization", sigv4_authorization(request, credentials, amz_date, region, "s3"));
    return to_send;
}

std::string amz_date_now() {
    std::time_t now = std::time(nullptr);
    std::tm utc{};
    gmtime_r(&now, &utc);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &utc);
    return buf;
}

}  // namespace llmatc::cloud_auth
