// core/util/error.cpp — thread-local error messages and status names.
#include "util/error.h"

namespace llmatc {

namespace {
thread_local std::string t_error;
}

void set_thread_error(std::string message) { t_error = std::move(message); }
const std::string& thread_error() { return t_error; }

void check_status(llmatc_status status, const std::string& context) {
    if (status == LLMATC_OK) return;
    std::string msg = t_error.empty() ? std::string(status_name(status)) : t_error;
    throw Error(status, context.empty() ? msg : context + ": " + msg);
}

const char* status_name(llmatc_status status) {
    switch (status) {
        case LLMATC_OK: return "ok";
        case LLMATC_ERR_INVALID_ARGUMENT: return "invalid argument";
        case LLMATC_ERR_NOT_FOUND: return "not found";
        case LLMATC_ERR_UNSUPPORTED: return "unsupported";
        case LLMATC_ERR_IO: return "i/o error";
        case LLMATC_ERR_CORRUPT: return "corrupt file";
        case LLMATC_ERR_OUT_OF_MEMORY: return "out of memory";
        case LLMATC_ERR_INCOMPATIBLE: return "incompatible ABI";
        case LLMATC_ERR_UNAVAILABLE: return "unavailable";
        case LLMATC_ERR_CANCELLED: return "cancelled";
        case LLMATC_ERR_PERMISSION: return "permission denied";
        case LLMATC_ERR_INTERNAL: return "internal error";
    }
    return "unknown status";
}

}  // namespace llmatc
