// core/cloud_auth/aws_credentials.cpp — finds AWS credentials in the environment and the shared credentials file.
#include "cloud_auth/aws_credentials.h"

#include <fstream>
#include <stdexcept>

extern char** environ;

namespace llmatc::cloud_auth {

namespace {

std::string trim(const std::string& s) {
    const auto b = s.find_first_not_of(" \t\r");
    if (b == std::string::npos) return "";
    const auto e = s.find_last_not_of(" \t\r");
    return s.substr(b, e - b + 1);
}

std::string get(const std::map<std::string, std::string>& env, const std::string& key) {
    auto it = env.find(key);
    return it == env.end() ? "" : it->second;
}

std::string home_file(const std::map<std::string, std::string>& env, const std::string& override_var,
                      const std::string& relative) {
    if (auto v = get(env, override_var); !v.empty()) return v;
    return get(env, "HOME") + "/" + relative;
}

}  // namespace

std::map<std::string, std::string> process_environment() {
    std::map<std::string, std::string> env;
    for (char** e = environ; e && *e; ++e) {
        std::string kv(*e);
        auto eq = kv.find('=');
        if (eq != std::string::npos) env[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
    return env;
}

std::map<std::string, std::map<std::string, std::string>> parse_aws_ini(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw std::runtime_error("cannot read " + path);
    std::map<std::string, std::map<std::string, std::string>> sections;
    std::string line, section;
    for (int line_no = 1; std::getline(in, line); ++line_no) {
        line = trim(line);
        if (line.empty() || line[0] == '#' || line[0] == ';') continue;
        if (line.front() == '[') {
            if (line.back() != ']') throw std::runtime_error(path + ":" + std::to_string(line_no) + ": unclosed section header");
            section = trim(line.substr(1, line.size() - 2));
            if (section.rfind("profile ", 0) == 0) section = trim(section.substr(8));
            sections[section];
            continue;
        }
        auto eq = line.find('=');
        if (eq == std::string::npos)
            throw std::runtime_error(path + ":" + std::to_string(line_no) + ": expected 'key = value'");
        if (section.empty())
            throw std::runtime_error(path + ":" + std::to_string(line_no) + ": a key before any [profile] header");
        sections[section][trim(line.substr(0, eq))] = trim(line.substr(eq + 1));
    }
    return sections;
}

AwsCredentials find_aws_credentials(const std::map<std::string, std::string>& env) {
    const std::string id = get(env, "AWS_ACCESS_KEY_ID"), secret = get(env, "AWS_SECRET_ACCESS_KEY");
    if (!id.empty() || !secret.empty()) {
        if (id.empty() || secret.empty())
            throw std::runtime_error(std::string("AWS credentials in the environment are incomplete: ") +
                                     (id.empty() ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY") + " is not set");
        return {id, secret, get(env, "AWS_SESSION_TOKEN"), "environment"};
    }
    const std::string profile = get(env, "AWS_PROFILE").empty() ? "default" : get(env, "AWS_PROFILE");
    const std::string path = home_file(env, "AWS_SHARED_CREDENTIALS_FILE", ".aws/credentials");
    std::ifstream probe(path);
    if (!probe)
        throw std::runtime_error("no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (e.g. with --envs), "
                                 "or create " + path + " with a [" + profile + "] profile");
    const auto sections = parse_aws_ini(path);
    auto it = sections.find(profile);
    if (it == sections.end())
        throw std::runtime_error("AWS profile '" + profile + "' not found in " + path +
                                 (get(env, "AWS_PROFILE").empty() ? "" : " (named by AWS_PROFILE)"));
    const auto& p = it->second;
    auto field = [&](const char* key) {
        auto f = p.find(key);
        return f == p.end() ? std::string() : f->second;
    };
    AwsCredentials creds{field("aws_access_key_id"), field("aws_secret_access_key"), field("aws_session_token"),
                         path + " [" + profile + "]"};
    if (creds.access_key_id.empty() || creds.secret_access_key.empty())
        throw std::runtime_error("AWS profile '" + profile + "' in " + path +
                                 " lacks aws_access_key_id or aws_secret_access_key");
    return creds;
}

std::string find_aws_region(const std::map<std::string, std::string>& env) {
    if (auto r = get(env, "AWS_REGION"); !r.empty()) return r;
    if (auto r = get(env, "AWS_DEFAULT_REGION"); !r.empty()) return r;
    const std::string path = home_file(env, "AWS_CONFIG_FILE", ".aws/config");
    if (std::ifstream(path)) {
        const auto sections = parse_aws_ini(path);
        const std::string profile = get(env, "AWS_PROFILE").empty() ? "default" : get(env, "AWS_PROFILE");
        if (auto it = sections.find(profile); it != sections.end())
            if (auto r = it->second.find("region"); r != it->second.end() && !r->second.empty()) return r->second;
    }
    return "us-east-1";
}

}  // namespace llmatc::cloud_auth
