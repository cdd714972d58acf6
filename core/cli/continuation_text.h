// core/cli/continuation_text.h — the text of generated tokens as it reads after their prompt.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "llmatc/frontend.h"

namespace llmatc::cli {

// Detokenizes prompt + continuation through the engine and returns the part after the prompt's own text, so a new
// word keeps its leading space; falls back to the continuation alone when the whole does not start with the
// prompt's text. Throws llmatc::Error when the engine cannot detokenize.
std::string continuation_text(const llmatc_engine_api& api, const std::vector<int32_t>& prompt_ids,
                              const std::vector<int32_t>& token_ids);

}  // namespace llmatc::cli
