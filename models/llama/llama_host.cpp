// models/llama/llama_host.cpp — access to the host services table for the Llama architecture code.
#include "llama/llama_host.h"

namespace llmatc::llama {

const llmatc_host* g_host = nullptr;

void host_log(llmatc_log_level level, const char* plugin, const std::string& message) {
    if (g_host && g_host->log) g_host->log(level, plugin, message.data(), message.size());
}

std::string host_last_error() {
    if (!g_host || !g_host->last_error) return "";
    const char* msg = g_host->last_error();
    return msg ? msg : "";
}

}  // namespace llmatc::llama
