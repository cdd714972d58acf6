// core/util/log.cpp — spdlog setup and secret masking.
#include "util/log.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace llmatc {

void init_logging(std::string_view level) {
    static bool done = false;
    if (!done) {
        auto logger = spdlog::stderr_color_mt("llm-atc");
        logger->set_pattern("%Y-%m-%d %H:%M:%S.%e %^%l%$ %v");
        spdlog::set_default_logger(logger);
        done = true;
    }
    spdlog::set_level(spdlog::level::from_str(std::string(level)));
}

std::string mask_secrets(std::string_view text, const std::vector<std::string>& secrets) {
    std::string out(text);
    for (const auto& s : secrets) {
        if (s.empty()) continue;
        for (size_t pos = out.find(s); pos != std::string::npos; pos = out.find(s, pos + 4)) out.replace(pos, s.size(), "****");
    }
    return out;
}

}  // namespace llmatc
