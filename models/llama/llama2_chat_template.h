// models/llama/llama2_chat_template.h — Llama-2 chat's conversation format as a Jinja template (HF chat_template syntax).
#pragma once

namespace llmatc::llama {

// The template of meta-llama/Llama-2-7b-chat-hf's tokenizer_config.json, character for character: an optional
// system message wrapped in <<SYS>> inside the first [INST], user turns as "<s>[INST] ... [/INST]", assistant turns
// as " ... </s>". The "\n" escapes are Jinja string escapes (as in the JSON file once decoded), not C++ newlines.
inline constexpr const char* kLlama2ChatTemplate =
    R"TPL({% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}{% set system_message = messages[0]['content'] %}{% else %}{% set loop_messages = messages %}{% set system_message = false %}{% endif %}{% for message in loop_messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if loop.index0 == 0 and system_message != false %}{% set content = '<<SYS>>\n' + system_message + '\n<</SYS>>\n\n' + message['content'] %}{% else %}{% set content = message['content'] %}{% endif %}{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ ' '  + content.strip() + ' ' + eos_token }}{% endif %}{% endfor %})TPL";

}  // namespace llmatc::llama
