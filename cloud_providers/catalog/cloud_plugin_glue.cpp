// cloud_providers/catalog/cloud_plugin_glue.cpp — exception-safe ABI wrappers for the aws and gcp plugins.
#include "cloud_plugin_glue.h"

#include <cstring>
#include <stdexcept>

#include "accelerator_catalog.h"

namespace llmatc::cloud_catalog {

namespace {

void set_error(const llmatc_host* host, const std::string& message) {
    if (host && host->set_error) host->set_error(message.data(), message.size());
}

void log_line(const llmatc_host* host, const char* cloud, llmatc_log_level level, const std::string& message) {
    if (host && host->log) host->log(level, cloud, message.data(), message.size());
}

bool mentions_credentials(const std::string& m) {
    return m.find("credentials") != std::string::npos || m.find("AuthFailure") != std::string::npos ||
           m.find("UnauthorizedOperation") != std::string::npos || m.find("SignatureDoesNotMatch") != std::string::npos ||
           m.find("access token") != std::string::npos;
}

}  // namespace

llmatc_status run_cloud_call(const llmatc_host* host, const char* cloud, const llmatc_cloud_call* call,
                             const CloudOperation& op) noexcept {
    std::vector<std::string> secrets;
    try {
        if (!call || !call->spec_json || !call->on_record) {
            set_error(host, std::string(cloud) + ": the call has no spec or no record callback");
            return LLMATC_ERR_INVALID_ARGUMENT;
        }
        const NodeSpec spec = parse_node_spec(std::string_view(call->spec_json, call->spec_json_len));
        secrets = spec_secrets(spec);
        const std::string record = call->record_json ? std::string(call->record_json, call->record_json_len) : "";
        ProgressFn progress = [&](const char* phase, const std::string& message) {
            const std::string line = mask(message, secrets);
            log_line(host, cloud, LLMATC_LOG_DEBUG, line);
            if (call->on_progress) call->on_progress(phase, line.data(), line.size(), call->user);
        };
        const std::string out = op(spec, record, progress);
        call->on_record(out.data(), out.size(), call->user);
        return LLMATC_OK;
    } catch (const CatalogError& e) {
        set_error(host, mask(e.what(), secrets));
        return LLMATC_ERR_INVALID_ARGUMENT;
    } catch (const std::invalid_argument& e) {
        set_error(host, mask(std::string(cloud) + ": " + e.what(), secrets));
        return LLMATC_ERR_INVALID_ARGUMENT;
    } catch (const std::exception& e) {
        const std::string m = mask(e.what(), secrets);
        set_error(host, m);
        return mentions_credentials(m) ? LLMATC_ERR_PERMISSION : LLMATC_ERR_UNAVAILABLE;
    } catch (...) {
        set_error(host, std::string("unknown exception in the ") + cloud + " cloud provider");
        return LLMATC_ERR_INTERNAL;
    }
}

llmatc_status run_catalog_call(const llmatc_host* host, const char* cloud, llmatc_text_callback sink, void* user,
                               const std::function<std::string()>& make) noexcept {
    try {
        if (!sink) {
            set_error(host, std::string(cloud) + ": catalog called without a sink");
            return LLMATC_ERR_INVALID_ARGUMENT;
        }
        const std::string text = make();
        sink(text.data(), text.size(), user);
        return LLMATC_OK;
    } catch (const std::exception& e) {
        set_error(host, std::string(cloud) + ": the accelerator catalog could not be read: " + e.what());
        return LLMATC_ERR_CORRUPT;
    } catch (...) {
        set_error(host, std::string("unknown exception in the ") + cloud + " catalog");
        return LLMATC_ERR_INTERNAL;
    }
}

}  // namespace llmatc::cloud_catalog
