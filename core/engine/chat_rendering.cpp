// core/engine/chat_rendering.cpp — apply_chat_template: parse the messages JSON and render the served chat template.
#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <string>

#include "engine/engine_impl.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"

namespace llmatc::engine {

std::string EngineImpl::render_chat(std::string_view model, std::string_view messages_json,
                                    bool add_generation_prompt) const {
    const LoadedModel& m = model_named(model);
    if (chat_template_.empty())
        throw Error(LLMATC_ERR_INVALID_ARGUMENT,
                    "the model '" + served_name_ + "' has no chat template (none in tokenizer_config.json and none "
                    "built into the '" + m.plugin_name() + "' plugin); pass --chat-template FILE");
    rapidjson::Document doc;
    doc.Parse(messages_json.data(), messages_json.size());
    if (doc.HasParseError())
        throw Error(LLMATC_ERR_INVALID_ARGUMENT, std::string("messages: invalid JSON at offset ") +
                                                     std::to_string(doc.GetErrorOffset()) + ": " +
                                                     rapidjson::GetParseError_En(doc.GetParseError()));
    if (!doc.IsArray()) throw Error(LLMATC_ERR_INVALID_ARGUMENT, "messages: expected an array of message objects");
    if (doc.Empty()) throw Error(LLMATC_ERR_INVALID_ARGUMENT, "messages: the array is empty");
    const Tokenizer& tok = m.tokenizer();
    return render_chat_template(chat_template_, doc, add_generation_prompt, tok.bos_token(), tok.eos_token());
}

}  // namespace llmatc::engine
