// frontends/openai/chat.h — POST /v1/chat/completions: message validation, the chat template, and the chat.completion shapes.
#pragma once

#include <string>

#include "http_types.h"
#include "json_fields.h"
#include "server_context.h"

namespace llmatc::openai {

// Validates the body, renders the messages, queues n engine requests and returns the pending reply.
// Throws ApiError for a bad request (param named), function calling, or a refused submit.
Reply handle_chat_completions(const ServerContext& ctx, const HttpRequest& request);

// Checks an OpenAI messages array (roles system/user/assistant; content a string or a list of text parts) and returns
// it as JSON with every content flattened to a string (text parts joined by "\n"), ready for the chat template.
std::string normalized_messages_json(const rapidjson::Value* messages);

}  // namespace llmatc::openai
