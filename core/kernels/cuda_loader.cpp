// core/kernels/cuda_loader.cpp — loads the CUDA backend module (libllmatc-backend-cuda.so) with dlopen where a CUDA
// driver and a device exist, and wraps its backends as KernelBackend. Links nothing of CUDA: the driver is probed
// through dlopen("libcuda.so.1") too.
#include "kernels/cuda_loader.h"

#include <dlfcn.h>

#include <spdlog/spdlog.h>

#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <sstream>
#include <vector>

#include "kernels/backend.h"
#include "util/error.h"

#ifndef LLMATC_CUDA_MODULE_INSTALL_DIR
#error "LLMATC_CUDA_MODULE_INSTALL_DIR must be defined by the build (meson's plugin_install_dir)"
#endif

namespace llmatc {

namespace {

namespace fs = std::filesystem;

// The services the module gets: logging through spdlog and the thread's error message (core/util/error.h).
void module_log(llmatc_log_level level, const char* plugin, const char* msg, size_t len) {
    const std::string_view text(msg ? msg : "", msg ? len : 0);
    const char* who = plugin ? plugin : "cuda";
    switch (level) {
        case LLMATC_LOG_DEBUG: spdlog::debug("{}: {}", who, text); break;
        case LLMATC_LOG_INFO: spdlog::info("{}: {}", who, text); break;
        case LLMATC_LOG_WARN: spdlog::warn("{}: {}", who, text); break;
        default: spdlog::error("{}: {}", who, text); break;
    }
}
void module_set_error(const char* msg, size_t len) { set_thread_error(std::string(msg ? msg : "", msg ? len : 0)); }
const char* module_last_error() { return thread_error().c_str(); }
const void* module_get_service(const char*) { return nullptr; }

const llmatc_host* module_host() {
    static const llmatc_host host = {sizeof(llmatc_host), LLMATC_ABI_VERSION, module_log, module_set_error,
                                     module_last_error, nullptr, module_get_service};
    return &host;
}

struct DriverProbe {
    bool has_device = false;
    std::string why_not;
};

// CUresult and the two driver functions, declared here so that no CUDA header is needed.
using CuInitFn = int (*)(unsigned int);
using CuDeviceGetCountFn = int (*)(int*);

DriverProbe probe_driver() {
    DriverProbe probe;
    void* driver = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!driver) {
        probe.why_not = "no CUDA driver (libcuda.so.1 cannot be loaded)";
        return probe;
    }
    // The driver stays loaded: the module's runtime would load it again anyway.
    auto cu_init = reinterpret_cast<CuInitFn>(dlsym(driver, "cuInit"));
    auto cu_count = reinterpret_cast<CuDeviceGetCountFn>(dlsym(driver, "cuDeviceGetCount"));
    if (!cu_init || !cu_count) {
        probe.why_not = "the CUDA driver libcuda.so.1 lacks cuInit/cuDeviceGetCount";
        return probe;
    }
    if (const int rc = cu_init(0); rc != 0) {
        // 100 is CUDA_ERROR_NO_DEVICE; others (35: driver too old, 999 ...) are reported by number.
        probe.why_not = rc == 100 ? "no CUDA device" : "CUDA driver initialisation failed (CUresult " +
                                                            std::to_string(rc) + ")";
        return probe;
    }
    int count = 0;
    if (cu_count(&count) != 0 || count <= 0) {
        probe.why_not = "no CUDA device";
        return probe;
    }
    probe.has_device = true;
    return probe;
}

const DriverProbe& driver_probe() {
    static const DriverProbe probe = probe_driver();
    return probe;
}

std::vector<fs::path> module_candidates() {
    std::vector<fs::path> out;
    if (const char* exact = std::getenv("LLMATC_CUDA_MODULE"); exact && *exact) out.emplace_back(exact);
    if (const char* path = std::getenv("LLMATC_PLUGIN_PATH"); path && *path) {
        std::stringstream dirs(path);
        std::string dir;
        while (std::getline(dirs, dir, ':'))
            if (!dir.empty()) out.push_back(fs::path(dir) / LLMATC_CUDA_MODULE_FILE);
    }
    // The build tree: the launcher sits at the build root, test programs a few levels below it.
    std::error_code ec;
    const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    if (!ec) {
        fs::path dir = exe.parent_path();
        for (int up = 0; up < 4 && !dir.empty(); ++up, dir = dir.parent_path()) {
            out.push_back(dir / "core" / "kernels" / "cuda" / LLMATC_CUDA_MODULE_FILE);
            if (dir == dir.parent_path()) break;
        }
    }
    out.push_back(fs::path(LLMATC_CUDA_MODULE_INSTALL_DIR) / LLMATC_CUDA_MODULE_FILE);
    return out;
}

struct ModuleLoad {
    llmatc_cuda_module table{};
    bool loaded = false;
    std::string why_not;
};

ModuleLoad load_module() {
    ModuleLoad result;
    std::string tried;
    for (const fs::path& candidate : module_candidates()) {
        std::error_code ec;
        if (!fs::is_regular_file(candidate, ec)) {
            tried += (tried.empty() ? "" : ", ") + candidate.string();
            continue;
        }
        void* handle = dlopen(candidate.c_str(), RTLD_NOW | RTLD_LOCAL);
        if (!handle) {
            const char* err = dlerror();
            result.why_not = "cannot load the CUDA module " + candidate.string() + ": " + (err ? err : "?");
            return result;
        }
        auto entry = reinterpret_cast<llmatc_cuda_module_entry_fn>(dlsym(handle, LLMATC_CUDA_MODULE_ENTRY_SYMBOL));
        if (!entry) {
            result.why_not = "the CUDA module " + candidate.string() + " has no " LLMATC_CUDA_MODULE_ENTRY_SYMBOL;
            return result;
        }
        result.table.struct_size = sizeof(result.table);
        set_thread_error("");
        if (const llmatc_status st = entry(module_host(), &result.table); st != LLMATC_OK) {
            result.why_not = "the CUDA module " + candidate.string() + " refused to load (" + status_name(st) +
                             "): " + thread_error();
            return result;
        }
        spdlog::debug("cuda: loaded module {}", candidate.string());
        result.loaded = true;  // never unloaded: backends and their weights point into it
        return result;
    }
    result.why_not = "the CUDA module " LLMATC_CUDA_MODULE_FILE " was not found (looked at: " + tried +
                     "); this build may lack CUDA (meson -Dcuda=enabled)";
    return result;
}

// Owns one backend made by the module; destroys it through the module.
class CudaKernelBackend final : public KernelBackend {
public:
    CudaKernelBackend(const llmatc_cuda_module* module, const llmatc_kernels* table) : module_(module), table_(table) {}
    ~CudaKernelBackend() override { module_->backend_destroy(table_); }
    const llmatc_kernels* table() const override { return table_; }

private:
    const llmatc_cuda_module* module_;
    const llmatc_kernels* table_;
};

}  // namespace

bool cuda_device_present(std::string* why_not) {
    const DriverProbe& probe = driver_probe();
    if (!probe.has_device && why_not) *why_not = probe.why_not;
    return probe.has_device;
}

const llmatc_cuda_module* cuda_module(std::string* why_not) {
    if (!cuda_device_present(why_not)) return nullptr;
    static std::once_flag once;
    static ModuleLoad load;
    std::call_once(once, [] { load = load_module(); });
    if (!load.loaded) {
        if (why_not) *why_not = load.why_not;
        return nullptr;
    }
    return &load.table;
}

bool cuda_device_memory(int device, uint64_t* free_bytes, uint64_t* total_bytes, std::string* why_not) {
    const llmatc_cuda_module* module = cuda_module(why_not);
    if (!module) return false;
    llmatc_cuda_device_desc desc{};
    desc.struct_size = sizeof(desc);
    desc.abi_version = LLMATC_ABI_VERSION;
    if (module->describe_device(device, &desc) != LLMATC_OK) {
        if (why_not) *why_not = "cannot query CUDA device " + std::to_string(device) + ": " + thread_error();
        return false;
    }
    if (free_bytes) *free_bytes = desc.free_memory_bytes;
    if (total_bytes) *total_bytes = desc.total_memory_bytes;
    return true;
}

std::unique_ptr<KernelBackend> create_cuda_backend(int device, std::string* why_not) {
    const llmatc_cuda_module* module = cuda_module(why_not);
    if (!module) return nullptr;
    int32_t count = 0;
    if (module->device_count(&count) != LLMATC_OK) {
        if (why_not) *why_not = "cannot count CUDA devices: " + thread_error();
        return nullptr;
    }
    if (device < 0 || device >= count) {
        if (why_not)
            *why_not = "CUDA device " + std::to_string(device) + " does not exist (" + std::to_string(count) +
                       " devices)";
        return nullptr;
    }
    const llmatc_kernels* table = nullptr;
    if (module->backend_create(device, &table) != LLMATC_OK || !table) {
        if (why_not) *why_not = "creating the CUDA backend on device " + std::to_string(device) + " failed: " +
                                thread_error();
        return nullptr;
    }
    return std::make_unique<CudaKernelBackend>(module, table);
}

}  // namespace llmatc
