// core/util/error.h — the core's error type (a status plus a message) and the thread-local message behind the C ABI.
#pragma once

#include <stdexcept>
#include <string>

#include "llmatc/plugin.h"

namespace llmatc {

// Thrown inside the core; converted to (status, message) at every C ABI boundary.
class Error : public std::runtime_error {
public:
    Error(llmatc_status status, const std::string& message) : std::runtime_error(message), status_(status) {}
    llmatc_status status() const noexcept { return status_; }

private:
    llmatc_status status_;
};

// The calling thread's last error message (what llmatc_host.set_error stored).
void set_thread_error(std::string message);
const std::string& thread_error();

// Throws Error(status, "<context>: <thread error>") when status is not LLMATC_OK.
void check_status(llmatc_status status, const std::string& context);

// A short name for a status ("invalid argument", "not found" ...).
const char* status_name(llmatc_status status);

}  // namespace llmatc
