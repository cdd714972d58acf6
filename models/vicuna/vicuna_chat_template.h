// models/vicuna/vicuna_chat_template.h — FastChat's Vicuna v1.1 conversation format as a Jinja template.
#pragma once

namespace llmatc::vicuna {

// FastChat's "vicuna_v1.1" conversation (SeparatorStyle.ADD_COLON_TWO, roles USER/ASSISTANT, sep " ", sep2 "</s>"):
//   <s>{system} USER: {u1} ASSISTANT: {a1}</s>USER: {u2} ASSISTANT:
// FastChat's prompt has no "<s>" because its tokenizer call prepends BOS; the template writes bos_token instead, as
// HF chat templates do, so that encoding the rendered text without special tokens gives the same ids.
// add_generation_prompt appends the open "ASSISTANT:" turn the model completes.
inline constexpr const char* kVicunaChatTemplate =
    R"TPL({% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}{% set system_message = messages[0]['content'] %}{% else %}{% set loop_messages = messages %}{% set system_message = "A chat between a curious user and an artificial intelligence assistant. The assistant gives helpful, detailed, and polite answers to the user's questions." %}{% endif %}{{ bos_token + system_message + ' ' }}{% for message in loop_messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if message['role'] == 'user' %}{{ 'USER: ' + message['content'] + ' ' }}{% elif message['role'] == 'assistant' %}{{ 'ASSISTANT: ' + message['content'] + eos_token }}{% endif %}{% endfor %}{% if add_generation_prompt %}{{ 'ASSISTANT:' }}{% endif %})TPL";

}  // namespace llmatc::vicuna
