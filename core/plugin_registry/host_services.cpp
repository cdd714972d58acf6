// core/plugin_registry/host_services.cpp — the llmatc_host table: logging, thread errors, named services, kernels.
#include "plugin_registry/host_services.h"

#include <map>
#include <mutex>
#include <shared_mutex>
#include <string_view>

#include <spdlog/spdlog.h>

#include "util/error.h"

namespace llmatc {

namespace {

// Named services; leaked on purpose so plugins may still look them up while static destructors run.
struct ServiceTable {
    std::shared_mutex mutex;
    std::map<std::string, const void*, std::less<>> services;
};

ServiceTable& service_table() {
    static ServiceTable* table = new ServiceTable();
    return *table;
}

spdlog::level::level_enum to_spdlog_level(llmatc_log_level level) {
    switch (level) {
        case LLMATC_LOG_DEBUG: return spdlog::level::debug;
        case LLMATC_LOG_INFO: return spdlog::level::info;
        case LLMATC_LOG_WARN: return spdlog::level::warn;
        case LLMATC_LOG_ERROR: return spdlog::level::err;
    }
    return spdlog::level::info;  // an out-of-range level from a plugin is logged rather than dropped
}

// The C entry points below are called by plugins: none may let an exception escape.
void host_log(llmatc_log_level level, const char* plugin, const char* msg, size_t msg_len) {
    try {
        std::string_view text = msg ? std::string_view(msg, msg_len) : std::string_view();
        spdlog::log(to_spdlog_level(level), "[{}] {}", plugin ? plugin : "plugin", text);
    } catch (...) {
        // Logging must never fail the caller; a formatting or sink error is dropped.
    }
}

void host_set_error(const char* msg, size_t msg_len) {
    try {
        set_thread_error(msg ? std::string(msg, msg_len) : std::string());
    } catch (...) {
        // Out of memory while copying the message: keep the previous message rather than crash the plugin.
    }
}

const char* host_last_error() { return thread_error().c_str(); }

const void* host_get_service(const char* name) {
    if (!name) return nullptr;
    try {
        ServiceTable& table = service_table();
        std::shared_lock lock(table.mutex);
        auto it = table.services.find(std::string_view(name));
        return it == table.services.end() ? nullptr : it->second;
    } catch (...) {
        return nullptr;
    }
}

llmatc_host& mutable_process_host() {
    static llmatc_host* host = [] {
        auto* h = new llmatc_host{};
        h->struct_size = sizeof(llmatc_host);
        h->abi_version = LLMATC_ABI_VERSION;
        h->log = host_log;
        h->set_error = host_set_error;
        h->last_error = host_last_error;
        h->kernels = nullptr;
        h->get_service = host_get_service;
        return h;
    }();
    return *host;
}

}  // namespace

const llmatc_host* process_host() { return &mutable_process_host(); }

void register_host_service(const std::string& name, const void* service) {
    ServiceTable& table = service_table();
    std::unique_lock lock(table.mutex);
    if (service)
        table.services[name] = service;
    else
        table.services.erase(name);
}

void set_host_kernels(const llmatc_kernels* kernels) { mutable_process_host().kernels = kernels; }

}  // namespace llmatc
