// core/util/log.h — process-wide logging setup (spdlog) and the secret-masking helper used before anything is logged.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace llmatc {

// Sets up spdlog's default logger on stderr at `level` ("debug", "info", "warn", "error"). Idempotent.
void init_logging(std::string_view level = "info");

// Returns `text` with every occurrence of each non-empty secret replaced by "****".
std::string mask_secrets(std::string_view text, const std::vector<std::string>& secrets);

}  // namespace llmatc
