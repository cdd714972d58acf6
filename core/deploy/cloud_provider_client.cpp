// core/deploy/cloud_provider_client.cpp — the C++ side of the cloud-provider ABI.
#include "deploy/cloud_provider_client.h"

#include <cstdio>

#include <spdlog/spdlog.h>

#include "plugin_registry/plugin_registry.h"
#include "util/error.h"
#include "util/log.h"

namespace llmatc::deploy {

namespace {

struct CallState {
    std::string record;
    bool got_record = false;
    const std::vector<std::string>* secrets;
};

void on_record(const char* text, size_t len, void* user) {
    auto* s = static_cast<CallState*>(user);
    s->record.assign(text, len);
    s->got_record = true;
}

void on_progress(const char* phase, const char* message, size_t len, void* user) {
    auto* s = static_cast<CallState*>(user);
    std::fprintf(stderr, "[%s] %s\n", phase ? phase : "", mask_secrets(std::string_view(message, len), *s->secrets).c_str());
}

}  // namespace

CloudProviderClient::CloudProviderClient(const std::string& cloud, std::vector<std::string> secrets)
    : cloud_(cloud), secrets_(std::move(secrets)) {
    const PluginRecord& rec = PluginRegistry::instance().find(LLMATC_PLUGIN_CLOUD_PROVIDER, cloud);
    plugin_ = static_cast<const llmatc_cloud_plugin*>(rec.interface);
    if (!plugin_ || plugin_->struct_size < sizeof(llmatc_cloud_plugin))
        throw Error(LLMATC_ERR_INCOMPATIBLE, "cloud provider '" + cloud + "' (" + rec.path.string() +
                                                 ") has an incomplete function table");
}

std::string CloudProviderClient::call(Op op, const char* what, const std::string& spec, const std::string& record) {
    if (!op) throw Error(LLMATC_ERR_UNSUPPORTED, "cloud provider '" + cloud_ + "' cannot " + what);
    CallState state{"", false, &secrets_};
    llmatc_cloud_call c{};
    c.struct_size = sizeof c;
    c.abi_version = LLMATC_ABI_VERSION;
    c.spec_json = spec.c_str();
    c.spec_json_len = spec.size();
    c.record_json = record.empty() ? nullptr : record.c_str();
    c.record_json_len = record.size();
    c.on_record = on_record;
    c.on_progress = on_progress;
    c.user = &state;
    set_thread_error("");
    const llmatc_status st = op(&c);
    if (st != LLMATC_OK) {
        const std::string msg = thread_error().empty() ? status_name(st) : thread_error();
        throw Error(st, "cloud '" + cloud_ + "' could not " + what + ": " + mask_secrets(msg, secrets_));
    }
    if (!state.got_record)
        throw Error(LLMATC_ERR_INTERNAL, "cloud provider '" + cloud_ + "' returned no record from " + what);
    return state.record;
}

std::string CloudProviderClient::provision(const std::string& s, const std::string& r) { return call(plugin_->provision, "provision", s, r); }
std::string CloudProviderClient::refresh(const std::string& s, const std::string& r) { return call(plugin_->refresh, "refresh", s, r); }
std::string CloudProviderClient::stop(const std::string& s, const std::string& r) { return call(plugin_->stop, "stop", s, r); }
std::string CloudProviderClient::start(const std::string& s, const std::string& r) { return call(plugin_->start, "start", s, r); }
std::string CloudProviderClient::terminate(const std::string& s, const std::string& r) { return call(plugin_->terminate, "terminate", s, r); }

}  // namespace llmatc::deploy
