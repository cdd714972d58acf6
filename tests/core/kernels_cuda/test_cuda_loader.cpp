// tests/core/kernels_cuda/test_cuda_loader.cpp — what runs on machines without a GPU: the loader explains why there
// is no CUDA backend, --device cuda fails clearly and --device auto falls back to the CPU, and the CUDA module
// (when built) loads, negotiates its ABI and reports devices without touching a GPU at load time.
#include <catch2/catch.hpp>

#include <dlfcn.h>

#include <cstdlib>
#include <string>

#include "kernels/backend.h"
#include "kernels/cuda_loader.h"
#include "plugin_registry/host_services.h"
#include "runtime/loaded_model.h"
#include "util/error.h"

namespace {

std::string stories_dir() {
    const char* shared = std::getenv("LLMATC_SHARED");
    return std::string(shared ? shared : "../shared") + "/models/stories260k";
}

llmatc::ModelLoadOptions stories_on(const std::string& device) {
    llmatc::ModelLoadOptions o;
    o.path = stories_dir();
    o.device = device;
    o.threads = 1;
    return o;
}

}  // namespace

TEST_CASE("without a usable GPU the loader says why, and never throws", "[cuda_loader]") {
    std::string why;
    const bool present = llmatc::cuda_device_present(&why);
    std::string why_backend;
    auto backend = llmatc::create_cuda_backend(0, &why_backend);
    if (!present) {
        REQUIRE_FALSE(why.empty());
        REQUIRE(backend == nullptr);
        REQUIRE(why_backend == why);
    } else if (!backend) {
        REQUIRE_FALSE(why_backend.empty());  // a device, but no module (or it failed): still explained
    } else {
        REQUIRE(std::string(backend->table()->name) == "cuda");
    }
    std::string why_bad_index;
    REQUIRE(llmatc::create_cuda_backend(1 << 20, &why_bad_index) == nullptr);
    REQUIRE_FALSE(why_bad_index.empty());
}

TEST_CASE("--device cuda without a GPU is a clear error; --device auto falls back to the CPU", "[cuda_loader]") {
    std::string why;
    if (llmatc::cuda_device_present(&why)) {
        WARN("a CUDA device is present here; the no-GPU behaviour is not exercised");
        return;
    }
    try {
        llmatc::LoadedModel::load(stories_on("cuda"));
        FAIL("--device cuda loaded without a GPU");
    } catch (const llmatc::Error& e) {
        REQUIRE(e.status() == LLMATC_ERR_UNAVAILABLE);
        REQUIRE_THAT(e.what(), Catch::Contains("--device cuda") && Catch::Contains(why));
    }
    auto model = llmatc::LoadedModel::load(stories_on("auto"));
    REQUIRE(std::string(model->kernels()->name) == "cpu");
    REQUIRE_THROWS_WITH(llmatc::LoadedModel::load(stories_on("tpu")), Catch::Contains("unknown device \"tpu\""));
}

TEST_CASE("the CUDA module loads without a GPU, negotiates its ABI and counts devices", "[cuda_module]") {
    const char* path = std::getenv("LLMATC_TEST_CUDA_MODULE");
    if (!path || !*path) {
        WARN("this build has no CUDA module (-Dcuda=disabled or no nvcc); skipped");
        return;
    }
    void* handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    INFO("dlopen: " << (handle ? "ok" : dlerror()));
    REQUIRE(handle != nullptr);
    auto entry = reinterpret_cast<llmatc_cuda_module_entry_fn>(dlsym(handle, LLMATC_CUDA_MODULE_ENTRY_SYMBOL));
    REQUIRE(entry != nullptr);

    // A host of another major version is refused, naming both versions.
    llmatc_host future = *llmatc::process_host();
    future.abi_version = LLMATC_MAKE_VERSION(2, 0);
    llmatc_cuda_module table{};
    table.struct_size = sizeof(table);
    REQUIRE(entry(&future, &table) == LLMATC_ERR_INCOMPATIBLE);
    const std::string ours = std::to_string(LLMATC_ABI_VERSION_MAJOR) + "." + std::to_string(LLMATC_ABI_VERSION_MINOR);
    REQUIRE_THAT(llmatc::thread_error(), Catch::Contains(ours) && Catch::Contains("2.0"));

    table = llmatc_cuda_module{};
    table.struct_size = sizeof(table);
    REQUIRE(entry(llmatc::process_host(), &table) == LLMATC_OK);
    REQUIRE(table.device_count);
    REQUIRE(table.backend_create);
    REQUIRE(table.backend_destroy);
    int32_t count = -1;
    REQUIRE(table.device_count(&count) == LLMATC_OK);
    REQUIRE(count >= 0);
    const llmatc_kernels* backend = nullptr;
    REQUIRE(table.backend_create(count, &backend) == LLMATC_ERR_NOT_FOUND);  // one past the last device
    REQUIRE_THAT(llmatc::thread_error(), Catch::Contains("device " + std::to_string(count) + " does not exist"));
    REQUIRE(backend == nullptr);

    // backend_device is always there; the NCCL functions all together or not at all (a build without NCCL).
    REQUIRE(table.backend_device);
    REQUIRE(table.backend_device(nullptr, &count) == LLMATC_ERR_INVALID_ARGUMENT);
    const int nccl_slots = (table.nccl_group_create ? 1 : 0) + (table.nccl_group_destroy ? 1 : 0) +
                           (table.nccl_all_reduce_sum ? 1 : 0) + (table.nccl_group_abort ? 1 : 0);
    REQUIRE((nccl_slots == 0 || nccl_slots == 4));
    if (nccl_slots == 4) {
        llmatc_nccl_group* group = nullptr;
        REQUIRE(table.nccl_group_create(0, nullptr, &group) == LLMATC_ERR_INVALID_ARGUMENT);
        REQUIRE(group == nullptr);
        REQUIRE(table.nccl_all_reduce_sum(nullptr, 0, nullptr, nullptr, 1) == LLMATC_ERR_INVALID_ARGUMENT);
    } else {
        WARN("this CUDA module was built without NCCL");
    }
}
