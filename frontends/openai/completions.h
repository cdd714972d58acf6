// frontends/openai/completions.h — POST /v1/completions: request validation, submission, and the text_completion shapes.
#pragma once

#include "http_types.h"
#include "server_context.h"

namespace llmatc::openai {

// Validates the body, queues one engine request per (prompt, candidate) and returns the pending reply.
// Throws ApiError for a bad request (param named) or a refused submit.
Reply handle_completions(const ServerContext& ctx, const HttpRequest& request);

}  // namespace llmatc::openai
