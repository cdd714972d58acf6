// frontends/openai/plugin_entry.cpp — the `openai` frontend plugin's C ABI: entry point and llmatc_frontend_plugin table.
#include <memory>
#include <new>
#include <string>

#include "http_server.h"
#include "llmatc/frontend.h"
#include "llmatc/plugin_export.h"
#include "router.h"

namespace {

const llmatc_host* g_host = nullptr;
constexpr char kPluginName[] = "openai";

llmatc_status fail(llmatc_status status, const std::string& message) {
    if (g_host && g_host->set_error) g_host->set_error(message.data(), message.size());
    return status;
}

void host_log(llmatc_log_level level, std::string_view line) {
    if (g_host && g_host->log) g_host->log(level, kPluginName, line.data(), line.size());
}

}  // namespace

// The opaque handle: the router (endpoints) and the server (sockets) it feeds.
struct llmatc_frontend {
    std::shared_ptr<llmatc::openai::Router> router;
    std::unique_ptr<llmatc::openai::HttpServer> server;
};

namespace {

llmatc_status frontend_create(const llmatc_frontend_config* config, const llmatc_engine_api* engine,
                              llmatc_frontend** out) {
    try {
        if (!config || !out) return fail(LLMATC_ERR_INVALID_ARGUMENT, "openai frontend: config and out are required");
        if (config->struct_size < sizeof(llmatc_frontend_config)) {
            return fail(LLMATC_ERR_INCOMPATIBLE, "openai frontend: llmatc_frontend_config is smaller than expected");
        }
        *out = nullptr;
        if (!engine && g_host && g_host->get_service) {
            engine = static_cast<const llmatc_engine_api*>(g_host->get_service("engine"));
        }
        if (!engine) return fail(LLMATC_ERR_INVALID_ARGUMENT, "openai frontend: no engine to serve");
        if (engine->struct_size < sizeof(llmatc_engine_api)) {
            return fail(LLMATC_ERR_INCOMPATIBLE, "openai frontend: the engine table is smaller than expected");
        }

        // config->chat_template is not used here: apply_chat_template takes no template, so `llm-atc serve` gives
        // the override to the engine (EngineOptions.chat_template), which renders every chat with it.
        llmatc::openai::ServerContext context{
            llmatc::openai::EngineClient(engine, g_host ? g_host->last_error : nullptr),
            config->api_key ? config->api_key : "", config->log_prompts != 0, host_log};
        auto router = std::make_shared<llmatc::openai::Router>(std::move(context));

        llmatc::openai::HttpServerOptions options;
        options.host = config->host && *config->host ? config->host : "127.0.0.1";
        options.port = config->port;
        options.n_threads = config->n_threads >= 1 ? config->n_threads : 1;
        if (config->max_body_bytes > 0) options.max_body_bytes = config->max_body_bytes;

        auto frontend = std::make_unique<llmatc_frontend>();
        frontend->router = router;
        frontend->server = std::make_unique<llmatc::openai::HttpServer>(options, router);
        *out = frontend.release();
        return LLMATC_OK;
    } catch (const std::bad_alloc&) {
        return fail(LLMATC_ERR_OUT_OF_MEMORY, "openai frontend: out of memory");
    } catch (const std::exception& e) {
        return fail(LLMATC_ERR_IO, std::string("openai frontend: ") + e.what());
    } catch (...) {
        return fail(LLMATC_ERR_INTERNAL, "openai frontend: unknown error while starting");
    }
}

uint16_t frontend_bound_port(const llmatc_frontend* frontend) {
    try {
        return frontend ? frontend->server->port() : 0;
    } catch (...) {
        return 0;
    }
}

llmatc_status frontend_run(llmatc_frontend* frontend) {
    try {
        if (!frontend) return fail(LLMATC_ERR_INVALID_ARGUMENT, "openai frontend: run without a frontend");
        frontend->server->run();
        return LLMATC_OK;
    } catch (const std::exception& e) {
        return fail(LLMATC_ERR_INTERNAL, std::string("openai frontend: ") + e.what());
    } catch (...) {
        return fail(LLMATC_ERR_INTERNAL, "openai frontend: unknown error while serving");
    }
}

void frontend_stop(llmatc_frontend* frontend, uint32_t grace_ms) {
    try {
        if (frontend) frontend->server->stop(grace_ms);
    } catch (const std::exception& e) {
        host_log(LLMATC_LOG_ERROR, std::string("stopping failed: ") + e.what());
    } catch (...) {
        host_log(LLMATC_LOG_ERROR, "stopping failed");
    }
}

void frontend_destroy(llmatc_frontend* frontend) {
    try {
        delete frontend;
    } catch (...) {
        host_log(LLMATC_LOG_ERROR, "destroying the frontend failed");
    }
}

const llmatc_frontend_plugin kFrontendTable = {
    sizeof(llmatc_frontend_plugin), LLMATC_ABI_VERSION, frontend_create, frontend_bound_port,
    frontend_run,                   frontend_stop,      frontend_destroy,
};

}  // namespace

LLMATC_PLUGIN_DEFINE(g_host, LLMATC_PLUGIN_FRONTEND, "openai", "0.1.0",
                     "OpenAI-compatible HTTP server (completions, chat, embeddings, models; SSE streaming)",
                     &kFrontendTable)
