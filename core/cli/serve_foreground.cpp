// core/cli/serve_foreground.cpp — `llm-atc serve` on this machine: model → engine → `openai` frontend, until a signal.
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>

#include <pthread.h>
#include <spdlog/spdlog.h>

#include "cli/serve_options.h"
#include "deploy/model_source.h"
#include "engine/engine.h"
#include "plugin_registry/plugin_registry.h"
#include "runtime/loaded_model.h"
#include "util/error.h"

namespace llmatc::cli {

namespace {

std::string read_chat_template(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error(LLMATC_ERR_NOT_FOUND, "--chat-template: cannot read " + path);
    std::ostringstream text;
    text << in.rdbuf();
    if (text.str().empty()) throw Error(LLMATC_ERR_INVALID_ARGUMENT, "--chat-template: " + path + " is empty");
    return text.str();
}

// Owns a created frontend and destroys it through its plugin's table.
struct FrontendHandle {
    const llmatc_frontend_plugin* table = nullptr;
    llmatc_frontend* frontend = nullptr;
    ~FrontendHandle() {
        if (frontend) table->destroy(frontend);
    }
};

// Waits for SIGINT/SIGTERM on its own thread (the signals are blocked in every other thread): the first asks the
// frontend to stop with the grace period, a second one stops it at once.
class SignalWatcher {
public:
    SignalWatcher(const FrontendHandle& handle, uint32_t grace_ms) : handle_(handle), grace_ms_(grace_ms) {
        thread_ = std::thread([this] { watch(); });
    }
    ~SignalWatcher() {
        done_.store(true);
        thread_.join();
    }

private:
    void watch() {
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGINT);
        sigaddset(&set, SIGTERM);
        int received = 0;
        while (!done_.load()) {
            timespec timeout{0, 200 * 1000 * 1000};  // wake up to notice that serving ended on its own
            int sig = sigtimedwait(&set, nullptr, &timeout);
            if (sig < 0) continue;
            ++received;
            if (received == 1) {
                spdlog::info("{} received: finishing in-flight requests (up to {} s), then exiting",
                             sig == SIGINT ? "SIGINT" : "SIGTERM", grace_ms_ / 1000.0);
                handle_.table->stop(handle_.frontend, grace_ms_);
            } else {
                spdlog::warn("second signal: stopping now");
                handle_.table->stop(handle_.frontend, 0);
            }
        }
    }

    const FrontendHandle& handle_;
    uint32_t grace_ms_;
    std::atomic<bool> done_{false};
    std::thread thread_;
};

}  // namespace

int serve_foreground(const ServeOptions& o) {
    // Block the stop signals before any thread exists (kernel threads, the engine's step thread, HTTP threads), so
    // only the watcher's sigtimedwait receives them.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

    // --envs apply to this process (e.g. HF_TOKEN for the download); their values are never logged.
    for (const auto& [key, value] : o.envs) setenv(key.c_str(), value.c_str(), 1);

    const std::string chat_template = o.chat_template_file.empty() ? "" : read_chat_template(o.chat_template_file);

    ModelLoadOptions load;
    load.path = deploy::resolve_model_dir(o.name, o.source).string();
    load.name = o.name;
    load.force_plugin = o.model_plugin;
    load.quantization = o.quantization;
    load.device = o.device;
    load.threads = o.threads;
    load.tensor_parallel_size = o.tensor_parallel_size > 0 ? o.tensor_parallel_size : 1;
    load.gpu_memory_utilization = o.gpu_memory_utilization;
    std::unique_ptr<LoadedModel> model = LoadedModel::load(load);
    const std::string plugin_name = model->plugin_name();

    EngineOptions engine_options;
    engine_options.served_model_name = o.served_model_name.empty() ? o.name : o.served_model_name;
    engine_options.chat_template = chat_template;
    engine_options.max_model_len = o.max_model_len;
    engine_options.max_num_seqs = o.max_num_seqs;
    // Auto: on the CPU a 512-token prefill chunk already runs the GEMMs at full speed, and every token more per
    // step is activation memory (gate/up alone: 2 x 4 x intermediate bytes per token).
    const bool on_cpu = std::string(model->kernels()->name) == "cpu";
    engine_options.max_num_batched_tokens = o.max_num_batched_tokens > 0 ? o.max_num_batched_tokens
                                            : on_cpu                     ? 512
                                                                         : 2048;
    engine_options.kv_cache_memory = o.kv_cache_memory;
    engine_options.kv_cache_dtype = o.kv_cache_dtype;
    engine_options.enable_prefix_caching = o.enable_prefix_caching;
    std::unique_ptr<Engine> engine = Engine::create(std::move(model), engine_options);

    PluginRegistry& registry = PluginRegistry::instance();
    registry.register_service("engine", engine->api());
    const PluginRecord& record = registry.find(LLMATC_PLUGIN_FRONTEND, "openai");

    FrontendHandle handle;
    handle.table = static_cast<const llmatc_frontend_plugin*>(record.interface);
    llmatc_frontend_config config{};
    config.struct_size = sizeof config;
    config.abi_version = LLMATC_ABI_VERSION;
    config.host = o.host.c_str();
    config.port = o.port;
    config.api_key = o.api_key.empty() ? nullptr : o.api_key.c_str();
    config.chat_template = chat_template.empty() ? nullptr : chat_template.c_str();
    config.n_threads = o.http_threads;
    config.max_body_bytes = o.max_body_bytes;
    config.log_prompts = o.log_prompts ? 1 : 0;
    check_status(handle.table->create(&config, engine->api(), &handle.frontend), "starting the openai frontend");

    llmatc_model_info info{};
    info.struct_size = sizeof info;
    info.abi_version = LLMATC_ABI_VERSION;
    const llmatc_engine_api* api = engine->api();
    check_status(api->model_info(api->engine, 0, &info), "reading the served model");
    const uint16_t port = handle.table->bound_port(handle.frontend);
    spdlog::info("llm-atc {} serving '{}' (model plugin {}, max_model_len {}) at http://{}:{}/v1 — API key {}",
                 LLMATC_VERSION, info.id ? info.id : "", plugin_name, info.max_model_len,
                 o.host.find(':') != std::string::npos ? "[" + o.host + "]" : o.host, port,
                 o.api_key.empty() ? "not required" : "required");
    const bool any_address = o.host == "0.0.0.0" || o.host == "::";
    spdlog::info("try: curl http://{}:{}/v1/models", any_address ? "127.0.0.1" : o.host, port);

    llmatc_status served;
    {
        SignalWatcher watcher(handle, static_cast<uint32_t>(o.grace_seconds) * 1000u);
        served = handle.table->run(handle.frontend);
    }
    const std::string run_error = served == LLMATC_OK ? "" : thread_error();
    engine->shutdown();
    if (served != LLMATC_OK) {
        spdlog::error("the openai frontend stopped with an error: {}", run_error);
        return 1;
    }
    spdlog::info("server stopped");
    return 0;
}

}  // namespace llmatc::cli
