// frontends/openai/server_context.h — what every endpoint handler gets: the engine, the server's settings, a logger.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "engine_client.h"
#include "llmatc/plugin.h"

namespace llmatc::openai {

struct ServerContext {
    EngineClient engine;
    std::string api_key;    // "" = no key required
    bool log_prompts = false;
    // Writes one log line (through the host's spdlog); never pass secrets or, unless log_prompts, prompt text.
    std::function<void(llmatc_log_level, std::string_view)> log;
};

}  // namespace llmatc::openai
