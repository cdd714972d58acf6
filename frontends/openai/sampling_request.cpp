// frontends/openai/sampling_request.cpp — validates OpenAI/vLLM sampling fields and fills llmatc_sampling_params.
#include "sampling_request.h"

#include <cstdlib>
#include <limits>

#include "api_error.h"

namespace llmatc::openai {

SamplingRequest SamplingRequest::parse(const JsonFields& fields, const EngineClient& engine, const ServedModel& model) {
    SamplingRequest r;
    llmatc_sampling_params& p = r.params_;
    p.struct_size = sizeof p;
    p.abi_version = LLMATC_ABI_VERSION;
    engine.api()->default_sampling(engine.api()->engine, &p);

    if (auto v = fields.number("temperature", 0.0, 2.0)) p.temperature = static_cast<float>(*v);
    if (auto v = fields.number("top_p", 0.0, 1.0)) {
        if (*v <= 0.0) throw bad_request("top_p must be in (0, 1]", "top_p");
        p.top_p = static_cast<float>(*v);
    }
    if (auto v = fields.integer("top_k", -1, std::numeric_limits<int32_t>::max())) p.top_k = static_cast<int32_t>(*v);
    if (auto v = fields.number("min_p", 0.0, 1.0)) p.min_p = static_cast<float>(*v);
    if (const rapidjson::Value* seed = fields.get("seed")) {
        if (!seed->IsInt64() && !seed->IsUint64()) throw bad_request("seed must be an integer", "seed");
        p.has_seed = 1;
        p.seed = seed->IsUint64() ? seed->GetUint64() : static_cast<uint64_t>(seed->GetInt64());
    }
    if (auto v = fields.number("presence_penalty", -2.0, 2.0)) p.presence_penalty = static_cast<float>(*v);
    if (auto v = fields.number("frequency_penalty", -2.0, 2.0)) p.frequency_penalty = static_cast<float>(*v);
    if (auto v = fields.number("repetition_penalty", 0.0, 100.0)) {
        if (*v <= 0.0) throw bad_request("repetition_penalty must be greater than 0", "repetition_penalty");
        p.repetition_penalty = static_cast<float>(*v);
    }

    if (const rapidjson::Value* bias = fields.get("logit_bias")) {
        if (!bias->IsObject()) throw bad_request("logit_bias must be an object mapping token ids to biases", "logit_bias");
        for (const auto& m : bias->GetObject()) {
            std::string key(m.name.GetString(), m.name.GetStringLength());
            char* end = nullptr;
            long id = std::strtol(key.c_str(), &end, 10);
            if (key.empty() || *end != '\0' || id < 0 || id >= model.vocab_size) {
                throw bad_request("logit_bias key '" + key + "' is not a token id in [0, " +
                                      std::to_string(model.vocab_size) + ")",
                                  "logit_bias");
            }
            if (!m.value.IsNumber() || m.value.GetDouble() < -100.0 || m.value.GetDouble() > 100.0) {
                throw bad_request("logit_bias values must be numbers in [-100, 100]", "logit_bias");
            }
            r.bias_ids_.push_back(static_cast<int32_t>(id));
            r.bias_values_.push_back(static_cast<float>(m.value.GetDouble()));
        }
    }

    if (const rapidjson::Value* stop = fields.get("stop")) {
        auto add_stop = [&](const rapidjson::Value& s) {
            if (!s.IsString()) throw bad_request("stop must be a string or a list of strings", "stop");
            if (s.GetStringLength() == 0) throw bad_request("stop strings must not be empty", "stop");
            r.stop_.emplace_back(s.GetString(), s.GetStringLength());
        };
        if (stop->IsArray()) {
            for (const auto& s : stop->GetArray()) add_stop(s);
        } else {
            add_stop(*stop);
        }
    }
    if (const rapidjson::Value* ids = fields.get("stop_token_ids")) {
        if (!ids->IsArray()) throw bad_request("stop_token_ids must be a list of token ids", "stop_token_ids");
        if (!ids->Empty()) r.stop_token_ids_ = token_id_list(*ids, model.vocab_size, "stop_token_ids");
    }
    if (auto v = fields.boolean("ignore_eos")) p.ignore_eos = *v ? 1 : 0;
    if (auto v = fields.integer("min_tokens", 0, std::numeric_limits<int32_t>::max())) {
        p.min_tokens = static_cast<int32_t>(*v);
    }
    if (auto v = fields.boolean("skip_special_tokens")) p.skip_special_tokens = *v ? 1 : 0;
    if (auto v = fields.boolean("include_stop_str_in_output")) p.include_stop_str_in_output = *v ? 1 : 0;
    return r;
}

const llmatc_sampling_params& SamplingRequest::params() {
    stop_ptrs_.clear();
    stop_lens_.clear();
    for (const auto& s : stop_) {
        stop_ptrs_.push_back(s.c_str());
        stop_lens_.push_back(s.size());
    }
    params_.n_stop = static_cast<int32_t>(stop_.size());
    params_.stop = stop_ptrs_.empty() ? nullptr : stop_ptrs_.data();
    params_.stop_lens = stop_lens_.empty() ? nullptr : stop_lens_.data();
    params_.n_stop_token_ids = static_cast<int32_t>(stop_token_ids_.size());
    params_.stop_token_ids = stop_token_ids_.empty() ? nullptr : stop_token_ids_.data();
    params_.n_logit_bias = static_cast<int32_t>(bias_ids_.size());
    params_.logit_bias_ids = bias_ids_.empty() ? nullptr : bias_ids_.data();
    params_.logit_bias_values = bias_values_.empty() ? nullptr : bias_values_.data();
    return params_;
}

}  // namespace llmatc::openai
