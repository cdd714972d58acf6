// frontends/openai/embeddings.h — POST /v1/embeddings: inputs as text or token ids, float or base64 encoding.
#pragma once

#include "http_types.h"
#include "server_context.h"

namespace llmatc::openai {

// Validates the body, then computes the embeddings on a worker thread (the engine's embed blocks) and returns the
// pending reply. Throws ApiError for a bad request.
Reply handle_embeddings(const ServerContext& ctx, const HttpRequest& request);

// Standard base64 of the floats' little-endian IEEE-754 bytes, as OpenAI's encoding_format "base64".
std::string base64_float32(const std::vector<float>& values);

}  // namespace llmatc::openai
