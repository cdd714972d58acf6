// cloud_providers/aws/ec2_api.h — EC2's Query API (Action=...&Version=2016-11-15) over HTTPS, signed with SigV4,
// with throttling retried under exponential backoff and errors turned into Ec2Error.
#pragma once

#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <boost/property_tree/ptree.hpp>

#include "cloud_auth/aws_credentials.h"

namespace llmatc::aws_cloud {

using Params = std::vector<std::pair<std::string, std::string>>;
using Xml = boost::property_tree::ptree;

// An error EC2 answered with: its code (e.g. "InsufficientInstanceCapacity"), the Action, and a one-line message
// naming the cloud, the call and what to do.
struct Ec2Error : std::runtime_error {
    Ec2Error(std::string code_, std::string action_, const std::string& message)
        : std::runtime_error(message), code(std::move(code_)), action(std::move(action_)) {}
    std::string code, action;
};

class Ec2Api {
public:
    // `endpoint` "" = https://ec2.<region>.amazonaws.com; `on_note` receives retry notes (may be empty).
    Ec2Api(std::string region, cloud_auth::AwsCredentials credentials, std::string endpoint,
           std::function<void(const std::string&)> on_note);

    // Performs one Action and returns the response document's root element. Retries throttling
    // (RequestLimitExceeded, Throttling, HTTP 503) with backoff; throws Ec2Error for any other error.
    Xml call(const std::string& action, const Params& params);

    const std::string& region() const { return region_; }
    int throttle_retries() const { return throttle_retries_; }

private:
    std::string region_;
    cloud_auth::AwsCredentials credentials_;
    std::string endpoint_;
    std::function<void(const std::string&)> on_note_;
    int throttle_retries_ = 0;
};

// The endpoint to use: AWS_ENDPOINT_URL_EC2, else AWS_ENDPOINT_URL, else "" (the regional AWS endpoint).
std::string ec2_endpoint_from(const std::map<std::string, std::string>& env);

// The text at a '.'-separated path below `node` ("" when absent).
std::string text_at(const Xml& node, const std::string& path);

// The <item> children of the element at `path` ("instancesSet" ...), empty when absent.
std::vector<const Xml*> items_at(const Xml& node, const std::string& path);

}  // namespace llmatc::aws_cloud
