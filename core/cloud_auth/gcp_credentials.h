// core/cloud_auth/gcp_credentials.h — Google credentials: service-account keys (JWT RS256 grant) and application
// default credentials (refresh-token grant), turned into the OAuth token request to POST.
#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace llmatc::cloud_auth {

struct GcpCredentials {
    enum class Kind { ServiceAccount, AuthorizedUser } kind = Kind::ServiceAccount;
    std::string client_email;    // service account
    std::string private_key;     // service account, PEM; secret
    std::string client_id;       // authorized user
    std::string client_secret;   // authorized user; secret
    std::string refresh_token;   // authorized user; secret
    std::string token_uri = "https://oauth2.googleapis.com/token";
    std::string project_id;      // service-account keys name their project; "" otherwise
    std::string source;          // the file they came from
};

// Reads GOOGLE_APPLICATION_CREDENTIALS, else $HOME/.config/gcloud/application_default_credentials.json.
// Throws std::runtime_error naming the file and the missing field, or saying how to provide credentials.
GcpCredentials find_gcp_credentials(const std::map<std::string, std::string>& env);

// Parses one credentials JSON file's text; `source` names it in messages.
GcpCredentials parse_gcp_credentials(const std::string& json_text, const std::string& source);

// A signed JWT assertion (RS256) for a service account, valid for an hour from `now_unix`.
std::string service_account_assertion(const GcpCredentials& credentials, const std::string& scope, int64_t now_unix);

// The application/x-www-form-urlencoded body to POST to credentials.token_uri for an access token.
std::string token_request_body(const GcpCredentials& credentials, const std::string& scope, int64_t now_unix);

// Form-URL-encodes one value (RFC 3986 unreserved kept, everything else %XX).
std::string form_encode(const std::string& value);

}  // namespace llmatc::cloud_auth
