// core/cloud_auth/aws_credentials.h — the AWS credential chain: environment, then the shared credentials file.
#pragma once

#include <map>
#include <string>

namespace llmatc::cloud_auth {

struct AwsCredentials {
    std::string access_key_id;
    std::string secret_access_key;  // secret: never log
    std::string session_token;      // secret: never log; empty for long-term keys
    std::string source;             // where they came from, for messages ("environment", "~/.aws/credentials [dev]")
};

// Looks up credentials the way the AWS CLI does, first match wins:
//   1. AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN) in `env`;
//   2. the profile AWS_PROFILE (default "default") of AWS_SHARED_CREDENTIALS_FILE (default $HOME/.aws/credentials).
// `env` is the environment to consult (the process's merged with --envs). Throws std::runtime_error with an
// actionable one-line message (naming the variable, file, line or profile, never a secret) when none is usable.
AwsCredentials find_aws_credentials(const std::map<std::string, std::string>& env);

// The region for requests: AWS_REGION, AWS_DEFAULT_REGION, the profile's `region` in $HOME/.aws/config, else
// "us-east-1".
std::string find_aws_region(const std::map<std::string, std::string>& env);

// Parses an INI file of the AWS CLI's shape into {section: {key: value}}; "[profile x]" sections become "x".
// Throws std::runtime_error naming the file and line of a malformed line.
std::map<std::string, std::map<std::string, std::string>> parse_aws_ini(const std::string& path);

// The process environment as a map (convenience for callers).
std::map<std::string, std::string> process_environment();

}  // namespace llmatc::cloud_auth
