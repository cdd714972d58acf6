// frontends/openai/tokenize_endpoints.h — vLLM's POST /tokenize and POST /detokenize.
#pragma once

#include "http_types.h"
#include "server_context.h"

namespace llmatc::openai {

// {"model"?, "prompt": text, "add_special_tokens"?} or {"model"?, "messages": [...], "add_generation_prompt"?}
// → {"count", "max_model_len", "tokens"}.
HttpResponse handle_tokenize(const ServerContext& ctx, const HttpRequest& request);
// {"model"?, "tokens": [ids]} → {"prompt": text}.
HttpResponse handle_detokenize(const ServerContext& ctx, const HttpRequest& request);

}  // namespace llmatc::openai
