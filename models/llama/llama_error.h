// models/llama/llama_error.h — the error the Llama architecture code throws; turned into (status, message) at the ABI.
#pragma once

#include <stdexcept>
#include <string>

#include "llmatc/plugin.h"

namespace llmatc::llama {

// Thrown anywhere inside the architecture code; the C ABI wrappers (llama_plugin_abi.cpp) catch it and report
// status() and what() through host->set_error. Plugins link nothing of the core, so this is not llmatc::Error.
class LlamaError : public std::runtime_error {
public:
    LlamaError(llmatc_status status, const std::string& message) : std::runtime_error(message), status_(status) {}
    llmatc_status status() const noexcept { return status_; }

private:
    llmatc_status status_;
};

}  // namespace llmatc::llama
