// core/cloud_auth/sigv4.h — AWS Signature Version 4: canonical request, string to sign, and the Authorization header.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "cloud_auth/aws_credentials.h"

namespace llmatc::cloud_auth {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

// One HTTP request as SigV4 sees it. `path` is the URI path as sent (already percent-encoded, "/" when empty);
// `query` holds raw (unencoded) names and values; `headers` are the headers to sign (names in any case, "host"
// included); `payload_sha256` is the hex SHA-256 of the body, or "UNSIGNED-PAYLOAD".
struct SigV4Request {
    std::string method;
    std::string path;
    std::vector<std::pair<std::string, std::string>> query;
    HeaderList headers;
    std::string payload_sha256;
};

// AWS's UriEncode: keeps A-Z a-z 0-9 - _ . ~ (and "/" when encode_slash is false), %XX (uppercase) for the rest.
std::string aws_uri_encode(std::string_view text, bool encode_slash);

// The query string in canonical order (encoded names sorted, then values), as it should also be sent.
std::string canonical_query_string(const std::vector<std::pair<std::string, std::string>>& query);

// The pieces of the signature, exposed so tests can check each against AWS's published examples.
std::string canonical_request(const SigV4Request& request, std::string* signed_headers_out);
std::string string_to_sign(const std::string& canonical_request, const std::string& amz_date,
                           const std::string& region, const std::string& service);
std::string sigv4_signature(const std::string& secret_access_key, const std::string& string_to_sign,
                            const std::string& amz_date, const std::string& region, const std::string& service);

// The Authorization header value for `request`, which must already carry the x-amz-date header (= amz_date,
// "YYYYMMDDTHHMMSSZ") and, for temporary credentials, x-amz-security-token.
std::string sigv4_authorization(const SigV4Request& request, const AwsCredentials& credentials,
                                const std::string& amz_date, const std::string& region, const std::string& service);

// Signs an S3 request: adds host, x-amz-date, x-amz-content-sha256 (and x-amz-security-token when the credentials
// have one) to request.headers, and returns the headers to send (those plus Authorization), excluding host.
HeaderList sign_s3_request(SigV4Request& request, const std::string& host, const AwsCredentials& credentials,
                           const std::string& region, const std::string& amz_date);

// The current UTC time as SigV4 wants it ("20150830T123600Z").
std::string amz_date_now();

}  // namespace llmatc::cloud_auth
