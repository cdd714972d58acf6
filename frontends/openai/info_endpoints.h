// frontends/openai/info_endpoints.h — the read-only server endpoints: /v1/models, /health, /version.
#pragma once

#include <string_view>

#include "http_types.h"
#include "server_context.h"

namespace llmatc::openai {

// GET /v1/models → {"object": "list", "data": [model...]}.
HttpResponse handle_list_models(const ServerContext& ctx);
// GET /v1/models/{id} → the model, or 404.
HttpResponse handle_get_model(const ServerContext& ctx, std::string_view id);
// GET /health → 200 with an empty body while the engine can serve, else 503.
HttpResponse handle_health(const ServerContext& ctx);
// GET /version → {"version": "..."}.
HttpResponse handle_version(const ServerContext& ctx);

}  // namespace llmatc::openai
