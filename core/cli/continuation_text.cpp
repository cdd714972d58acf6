// core/cli/continuation_text.cpp — the text of generated tokens as it reads after their prompt.
#include "cli/continuation_text.h"

#include "util/error.h"

namespace llmatc::cli {

std::string continuation_text(const llmatc_engine_api& api, const std::vector<int32_t>& prompt_ids,
                              const std::vector<int32_t>& token_ids) {
    auto append = [](const char* d, size_t n, void* u) { static_cast<std::string*>(u)->append(d, n); };
    std::vector<int32_t> whole = prompt_ids;
    whole.insert(whole.end(), token_ids.begin(), token_ids.end());
    std::string full, prompt_text;
    check_status(api.detokenize(api.engine, nullptr, 0, whole.data(), whole.size(), 1, append, &full), "decode");
    check_status(api.detokenize(api.engine, nullptr, 0, prompt_ids.data(), prompt_ids.size(), 1, append,
                                &prompt_text),
                 "decode");
    if (full.compare(0, prompt_text.size(), prompt_text) == 0) return full.substr(prompt_text.size());
    std::string text;
    check_status(api.detokenize(api.engine, nullptr, 0, token_ids.data(), token_ids.size(), 1, append, &text),
                 "decode");
    return text;
}

}  // namespace llmatc::cli
