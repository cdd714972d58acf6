// core/plugin_registry/host_services.h — the process-wide llmatc_host table handed to every plugin's entry function.
#pragma once

#include <string>

#include "llmatc/kernels.h"
#include "llmatc/plugin.h"

namespace llmatc {

// The one host table of this process. Plugins keep the pointer for the process lifetime, so it is never freed;
// every registry hands out this same table. Its functions are thread-safe:
//   log         -> spdlog, prefixed with the plugin's name
//   set_error   -> llmatc::set_thread_error (core/util/error.h); last_error reads it back
//   get_service -> whatever register_host_service stored under that name (NULL when none)
//   kernels     -> set by set_host_kernels; NULL until the core selects a backend
const llmatc_host* process_host();

// Makes `service` (a table that outlives the process's use of it, e.g. the engine's llmatc_engine_api) available
// through llmatc_host.get_service(name). Registering a name again replaces it; nullptr removes it.
void register_host_service(const std::string& name, const void* service);

// Sets llmatc_host.kernels. Call before any plugin reads it (the core selects the backend before creating models).
void set_host_kernels(const llmatc_kernels* kernels);

}  // namespace llmatc
