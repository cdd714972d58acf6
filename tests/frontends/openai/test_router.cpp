// tests/frontends/openai/test_router.cpp — the routing layer against the fake engine: shapes, streaming, every bad input.
#include <catch2/catch.hpp>

#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

#include <rapidjson/document.h>

#include "api_error.h"
#include "embeddings.h"
#include "fake_engine.h"
#include "router.h"

using llmatc::openai::HttpRequest;
using llmatc::openai::HttpResponse;
using llmatc::openai::Reply;
using llmatc::openai::Router;
using llmatc::openai::ServerContext;
using llmatc::test::FakeEngine;

namespace {

struct Harness {
    FakeEngine engine;
    std::vector<std::string> logs;
    std::mutex log_mutex;
    Router router;

    explicit Harness(std::string api_key = "", bool log_prompts = false)
        : router(ServerContext{llmatc::openai::EngineClient(engine.api(), &FakeEngine::last_error), std::move(api_key),
                               log_prompts, [this](llmatc_log_level, std::string_view line) {
                                   std::lock_guard lock(log_mutex);
                                   logs.emplace_back(line);
                               }}) {}
};

// The whole response of a request: the immediate one, or the pending one driven to its end (streams concatenated).
struct Result {
    int status = 0;
    std::string content_type;
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
    bool streamed = false;
};

Result drive(Reply reply) {
    Result r;
    if (!reply.pending) {
        r.status = reply.immediate.status;
        r.content_type = reply.immediate.content_type;
        r.body = reply.immediate.body;
        r.headers = reply.immediate.headers;
        return r;
    }
    // The engine may call wake after the reply is gone, so the wake state is shared, not on this stack frame.
    struct WakeState {
        std::mutex m;
        std::condition_variable cv;
        bool woken = false;
    };
    auto state = std::make_shared<WakeState>();
    reply.pending->start([state] {
        std::lock_guard lock(state->m);
        state->woken = true;
        state->cv.notify_all();
    });
    r.streamed = reply.pending->streaming();
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    for (;;) {
        if (reply.pending->poll(r.body)) break;
        std::unique_lock lock(state->m);
        state->cv.wait_until(lock,
                             std::min(deadline, std::chrono::steady_clock::now() + std::chrono::milliseconds(50)),
                             [&] { return state->woken; });
        state->woken = false;
        REQUIRE(std::chrono::steady_clock::now() < deadline);
    }
    if (r.streamed) {
        r.status = 200;
        r.content_type = "text/event-stream";
    } else {
        HttpResponse response = reply.pending->response();
        r.status = response.status;
        r.content_type = response.content_type;
        r.body = response.body;
    }
    return r;
}

Result call(Harness& h, const std::string& method, const std::string& target, const std::string& body = "",
            const std::string& authorization = "") {
    return drive(h.router.route(HttpRequest{method, target, authorization, body}));
}

rapidjson::Document parse(const std::string& text) {
    rapidjson::Document doc;
    doc.Parse(text.data(), text.size());
    INFO(text);
    REQUIRE_FALSE(doc.HasParseError());
    return doc;
}

// The JSON payloads of an SSE body; the last must be [DONE].
std::vector<rapidjson::Document> sse_events(const std::string& body) {
    std::vector<rapidjson::Document> events;
    size_t pos = 0;
    bool saw_done = false;
    while (pos < body.size()) {
        size_t end = body.find("\n\n", pos);
        REQUIRE(end != std::string::npos);
        std::string event = body.substr(pos, end - pos);
        REQUIRE(event.rfind("data: ", 0) == 0);
        std::string data = event.substr(6);
        REQUIRE_FALSE(saw_done);
        if (data == "[DONE]") saw_done = true;
        else events.push_back(parse(data));
        pos = end + 2;
    }
    REQUIRE(saw_done);
    return events;
}

}  // namespace

TEST_CASE("GET /v1/models lists the served model with max_model_len", "[openai][router]") {
    Harness h;
    Result r = call(h, "GET", "/v1/models");
    REQUIRE(r.status == 200);
    auto doc = parse(r.body);
    REQUIRE(std::string(doc["object"].GetString()) == "list");
    const auto& m = doc["data"][0];
    CHECK(std::string(m["id"].GetString()) == "test-model");
    CHECK(std::string(m["object"].GetString()) == "model");
    CHECK(std::string(m["owned_by"].GetString()) == "llm-atc");
    CHECK(m["max_model_len"].GetInt() == FakeEngine::kMaxModelLen);

    CHECK(call(h, "GET", "/v1/models/test-model").status == 200);
    CHECK(call(h, "GET", "/v1/models/test%2Dmodel").status == 200);  // percent-encoded ids are decoded
    CHECK(call(h, "GET", "/v1/models/other").status == 404);
}

TEST_CASE("completions return text, finish reason and usage", "[openai][router]") {
    Harness h;
    Result r = call(h, "POST", "/v1/completions", R"({"model":"test-model","prompt":"hi","max_tokens":5})");
    REQUIRE(r.status == 200);
    auto doc = parse(r.body);
    CHECK(std::string(doc["object"].GetString()) == "text_completion");
    REQUIRE(doc["choices"].Size() == 1);
    CHECK(std::string(doc["choices"][0]["text"].GetString()) == "abcde");
    CHECK(std::string(doc["choices"][0]["finish_reason"].GetString()) == "length");
    CHECK(doc["choices"][0]["logprobs"].IsNull());
    CHECK(doc["usage"]["prompt_tokens"].GetInt() == 3);  // BOS + 2 bytes
    CHECK(doc["usage"]["completion_tokens"].GetInt() == 5);
    CHECK(doc["usage"]["total_tokens"].GetInt() == 8);

    SECTION("max_tokens defaults to 16") {
        Result d = call(h, "POST", "/v1/completions", R"({"prompt":"hi"})");
        CHECK(parse(d.body)["usage"]["completion_tokens"].GetInt() == 16);
    }
    SECTION("stop strings end the text with finish_reason stop") {
        Result s = call(h, "POST", "/v1/completions", R"({"prompt":"hi","max_tokens":10,"stop":["d"]})");
        auto sd = parse(s.body);
        CHECK(std::string(sd["choices"][0]["text"].GetString()) == "abc");
        CHECK(std::string(sd["choices"][0]["finish_reason"].GetString()) == "stop");
    }
    SECTION("n=2 gives two choices with distinct indices; prompt lists give one set per prompt") {
        Result s = call(h, "POST", "/v1/completions", R"({"prompt":["hi","yo"],"max_tokens":2,"n":2,"seed":1})");
        auto sd = parse(s.body);
        REQUIRE(sd["choices"].Size() == 4);
        for (unsigned i = 0; i < 4; ++i) CHECK(sd["choices"][i]["index"].GetUint() == i);
        // Candidates of one prompt get different seed streams.
        CHECK(std::string(sd["choices"][0]["text"].GetString()) != std::string(sd["choices"][1]["text"].GetString()));
        CHECK(sd["usage"]["prompt_tokens"].GetInt() == 6);
        CHECK(sd["usage"]["completion_tokens"].GetInt() == 8);
    }
    SECTION("token-id prompts are passed through unchanged") {
        Result s = call(h, "POST", "/v1/completions", R"({"prompt":[[1,110,111],[1,112]],"max_tokens":1})");
        REQUIRE(s.status == 200);
        auto sd = parse(s.body);
        CHECK(sd["usage"]["prompt_tokens"].GetInt() == 5);
    }
    SECTION("echo puts the prompt in front, with prompt logprobs when asked") {
        Result s = call(h, "POST", "/v1/completions", R"({"prompt":"hi","max_tokens":2,"echo":true,"logprobs":1})");
        auto sd = parse(s.body);
        const auto& c = sd["choices"][0];
        CHECK(std::string(c["text"].GetString()) == "hiab");
        const auto& lp = c["logprobs"];
        REQUIRE(lp["tokens"].Size() == 5);  // <s> h i a b
        CHECK(lp["token_logprobs"][0].IsNull());
        CHECK(lp["top_logprobs"][0].IsNull());
        CHECK(lp["token_logprobs"][1].GetDouble() == Approx(-1.5));
        CHECK(lp["token_logprobs"][3].GetDouble() == Approx(-0.5));
        CHECK(std::string(lp["tokens"][3].GetString()) == "a");
        CHECK(lp["text_offset"][4].GetUint() == 6);  // "<s>" "h" "i" "a" come before "b"
        auto params = h.engine.submitted_params();
        CHECK(params.back().prompt_logprobs == 1);
        CHECK(params.back().logprobs == 1);
    }
    SECTION("best_of returns the n best candidates") {
        Result s = call(h, "POST", "/v1/completions", R"({"prompt":"hi","max_tokens":2,"n":1,"best_of":3})");
        auto sd = parse(s.body);
        CHECK(sd["choices"].Size() == 1);
        CHECK(h.engine.submitted.load() >= 3);
        CHECK(sd["usage"]["completion_tokens"].GetInt() == 2);
    }
}

TEST_CASE("sampling fields reach the engine", "[openai][router]") {
    Harness h;
    Result r = call(h, "POST", "/v1/completions",
                    R"({"prompt":"x","max_tokens":3,"temperature":0.5,"top_p":0.9,"top_k":7,"min_p":0.1,"seed":42,
                        "presence_penalty":0.5,"frequency_penalty":-0.5,"repetition_penalty":1.2,
                        "logit_bias":{"5":10},"stop_token_ids":[9],"ignore_eos":true,"min_tokens":2,"user":"u"})");
    REQUIRE(r.status == 200);
    auto p = h.engine.submitted_params().back();
    CHECK(p.temperature == Approx(0.5));
    CHECK(p.top_p == Approx(0.9));
    CHECK(p.top_k == 7);
    CHECK(p.min_p == Approx(0.1));
    CHECK(p.has_seed == 1);
    CHECK(p.seed == 42);
    CHECK(p.presence_penalty == Approx(0.5));
    CHECK(p.frequency_penalty == Approx(-0.5));
    CHECK(p.repetition_penalty == Approx(1.2));
    CHECK(p.n_logit_bias == 1);
    CHECK(p.n_stop_token_ids == 1);
    CHECK(p.ignore_eos == 1);
    CHECK(p.min_tokens == 2);
    CHECK(p.max_tokens == 3);
}

TEST_CASE("completion streams are OpenAI server-sent events", "[openai][router][stream]") {
    Harness h;
    Result r = call(h, "POST", "/v1/completions",
                    R"({"prompt":"hi","max_tokens":3,"stream":true,"stream_options":{"include_usage":true}})");
    REQUIRE(r.streamed);
    auto events = sse_events(r.body);
    std::string text;
    std::string finish;
    for (size_t i = 0; i + 1 < events.size(); ++i) {
        CHECK(std::string(events[i]["object"].GetString()) == "text_completion");
        CHECK(events[i]["usage"].IsNull());
        text += events[i]["choices"][0]["text"].GetString();
        if (events[i]["choices"][0]["finish_reason"].IsString()) finish = events[i]["choices"][0]["finish_reason"].GetString();
    }
    CHECK(text == "abc");
    CHECK(finish == "length");
    const auto& usage_chunk = events.back();
    CHECK(usage_chunk["choices"].Size() == 0);
    CHECK(usage_chunk["usage"]["completion_tokens"].GetInt() == 3);
    CHECK(usage_chunk["usage"]["prompt_tokens"].GetInt() == 3);
}

TEST_CASE("chat completions: message shape, stream with role first, logprobs", "[openai][router][chat]") {
    Harness h;
    SECTION("non-streaming") {
        Result r = call(h, "POST", "/v1/chat/completions",
                        R"({"model":"test-model","messages":[{"role":"system","content":"be brief"},
                            {"role":"user","content":[{"type":"text","text":"hi"},{"type":"text","text":"there"}]}],
                            "max_tokens":4,"logprobs":true,"top_logprobs":2})");
        REQUIRE(r.status == 200);
        auto doc = parse(r.body);
        CHECK(std::string(doc["object"].GetString()) == "chat.completion");
        const auto& c = doc["choices"][0];
        CHECK(std::string(c["message"]["role"].GetString()) == "assistant");
        CHECK(std::string(c["message"]["content"].GetString()) == "abcd");
        CHECK(std::string(c["finish_reason"].GetString()) == "length");
        const auto& content = c["logprobs"]["content"];
        REQUIRE(content.Size() == 4);
        CHECK(std::string(content[0]["token"].GetString()) == "a");
        CHECK(content[0]["bytes"][0].GetInt() == 'a');
        CHECK(content[0]["top_logprobs"].Size() == 2);
        CHECK(std::string(content[0]["top_logprobs"][0]["token"].GetString()) == "b");
        // "<s>system: be brief\nuser: hi\nthere\nassistant:" tokenized without adding specials (the fake maps
        // "<s>" to bytes, so count its 3 bytes).
        std::string rendered = "<s>system: be brief\nuser: hi\nthere\nassistant:";
        CHECK(doc["usage"]["prompt_tokens"].GetInt() == static_cast<int>(rendered.size()));
    }
    SECTION("max_completion_tokens limits output") {
        Result r = call(h, "POST", "/v1/chat/completions",
                        R"({"messages":[{"role":"user","content":"hi"}],"max_completion_tokens":2})");
        auto doc = parse(r.body);
        CHECK(std::string(doc["choices"][0]["message"]["content"].GetString()) == "ab");
    }
    SECTION("streaming") {
        Result r = call(h, "POST", "/v1/chat/completions",
                        R"({"messages":[{"role":"user","content":"hi"}],"max_tokens":3,"n":2,"stream":true,
                            "stream_options":{"include_usage":true}})");
        auto events = sse_events(r.body);
        std::string text[2];
        bool role_first[2] = {false, false};
        bool seen[2] = {false, false};
        int finish_chunks = 0;
        for (size_t i = 0; i + 1 < events.size(); ++i) {
            const auto& choice = events[i]["choices"][0];
            CHECK(std::string(events[i]["object"].GetString()) == "chat.completion.chunk");
            unsigned idx = choice["index"].GetUint();
            REQUIRE(idx < 2);
            if (!seen[idx]) role_first[idx] = choice["delta"].HasMember("role");
            seen[idx] = true;
            if (choice["delta"].HasMember("content")) text[idx] += choice["delta"]["content"].GetString();
            if (choice["finish_reason"].IsString()) {
                ++finish_chunks;
                CHECK(choice["delta"].ObjectEmpty());
            }
        }
        CHECK(role_first[0]);
        CHECK(role_first[1]);
        CHECK(text[0] == "abc");
        CHECK(text[1] == "abc");
        CHECK(finish_chunks == 2);
        CHECK(events.back()["choices"].Size() == 0);
        CHECK(events.back()["usage"]["completion_tokens"].GetInt() == 6);
    }
}

TEST_CASE("embeddings: float and little-endian float32 base64", "[openai][router]") {
    Harness h;
    Result r = call(h, "POST", "/v1/embeddings", R"({"model":"test-model","input":["a","b"]})");
    REQUIRE(r.status == 200);
    auto doc = parse(r.body);
    REQUIRE(doc["data"].Size() == 2);
    CHECK(doc["data"][1]["index"].GetInt() == 1);
    CHECK(doc["data"][0]["embedding"].Size() == FakeEngine::kHidden);
    CHECK(doc["usage"]["prompt_tokens"].GetInt() == 4);

    Result b = call(h, "POST", "/v1/embeddings", R"({"input":[[1,2,3]],"encoding_format":"base64"})");
    auto bd = parse(b.body);
    // Token 1 → component 1 is 1.0: bytes 00000000 0000803f 00000000 00000000.
    CHECK(std::string(bd["data"][0]["embedding"].GetString()) == "AAAAAAAAgD8AAAAAAAAAAA==");
    CHECK(llmatc::openai::base64_float32({1.0f}) == "AACAPw==");
    CHECK(llmatc::openai::base64_float32({1.0f, 2.0f}) == "AACAPwAAAEA=");
}

TEST_CASE("tokenize, detokenize, health, version, metrics", "[openai][router]") {
    Harness h;
    auto t = parse(call(h, "POST", "/tokenize", R"({"prompt":"ab"})").body);
    CHECK(t["count"].GetInt() == 3);
    CHECK(t["tokens"][0].GetInt() == 1);
    CHECK(t["max_model_len"].GetInt() == FakeEngine::kMaxModelLen);
    auto nospecial = parse(call(h, "POST", "/tokenize", R"({"prompt":"ab","add_special_tokens":false})").body);
    CHECK(nospecial["count"].GetInt() == 2);
    auto d = parse(call(h, "POST", "/detokenize", R"({"tokens":[1,100,101]})").body);
    CHECK(std::string(d["prompt"].GetString()) == "ab");

    CHECK(call(h, "GET", "/health").status == 200);
    auto v = parse(call(h, "GET", "/version").body);
    CHECK(std::string(v["version"].GetString()) == "0.1.0-test");
    h.router.record("/v1/completions", 200, 0.5);
    h.router.record("/nope", 404, 0.1);
    Result m = call(h, "GET", "/metrics");
    CHECK(m.content_type.find("text/plain") == 0);
    CHECK(m.body.find("llmatc_num_requests_running") != std::string::npos);
    CHECK(m.body.find("llmatc_http_requests_total{route=\"/v1/completions\",status=\"200\"} 1") != std::string::npos);
    CHECK(m.body.find("route=\"other\",status=\"404\"") != std::string::npos);
}

TEST_CASE("every bad input gets an OpenAI error with the right status, type and param", "[openai][router][errors]") {
    Harness h;
    struct Case {
        const char* what;
        const char* method;
        const char* target;
        const char* body;
        int status;
        const char* type;
        const char* param;           // nullptr = JSON null
        const char* message_part;
    };
    const Case cases[] = {
        {"malformed JSON", "POST", "/v1/completions", "{\"prompt\": ", 400, "invalid_request_error", nullptr, "malformed JSON"},
        {"body not an object", "POST", "/v1/completions", "[1,2]", 400, "invalid_request_error", nullptr, "JSON object"},
        {"invalid UTF-8", "POST", "/v1/completions", "{\"prompt\":\"\xff\"}", 400, "invalid_request_error", nullptr, "malformed JSON"},
        {"missing prompt", "POST", "/v1/completions", "{}", 400, "invalid_request_error", "prompt", "prompt is required"},
        {"empty prompt list", "POST", "/v1/completions", R"({"prompt":[]})", 400, "invalid_request_error", "prompt", "prompt"},
        {"prompt of wrong type", "POST", "/v1/completions", R"({"prompt":5})", 400, "invalid_request_error", "prompt", "prompt"},
        {"token id out of range", "POST", "/v1/completions", R"({"prompt":[1,99999]})", 400, "invalid_request_error", "prompt", "99999"},
        {"negative token id", "POST", "/v1/completions", R"({"prompt":[[1,-4]]})", 400, "invalid_request_error", "prompt", "-4"},
        {"temperature too high", "POST", "/v1/completions", R"({"prompt":"a","temperature":3})", 400, "invalid_request_error", "temperature", "temperature"},
        {"temperature a string", "POST", "/v1/completions", R"({"prompt":"a","temperature":"hot"})", 400, "invalid_request_error", "temperature", "temperature"},
        {"top_p zero", "POST", "/v1/completions", R"({"prompt":"a","top_p":0})", 400, "invalid_request_error", "top_p", "top_p"},
        {"max_tokens zero", "POST", "/v1/completions", R"({"prompt":"a","max_tokens":0})", 400, "invalid_request_error", "max_tokens", "max_tokens"},
        {"max_tokens float", "POST", "/v1/completions", R"({"prompt":"a","max_tokens":1.5})", 400, "invalid_request_error", "max_tokens", "integer"},
        {"n zero", "POST", "/v1/completions", R"({"prompt":"a","n":0})", 400, "invalid_request_error", "n", "n must"},
        {"best_of below n", "POST", "/v1/completions", R"({"prompt":"a","n":3,"best_of":2})", 400, "invalid_request_error", "best_of", "best_of"},
        {"best_of with stream", "POST", "/v1/completions", R"({"prompt":"a","best_of":2,"stream":true})", 400, "invalid_request_error", "best_of", "streaming"},
        {"logprobs too many", "POST", "/v1/completions", R"({"prompt":"a","logprobs":50})", 400, "invalid_request_error", "logprobs", "logprobs"},
        {"stop of wrong type", "POST", "/v1/completions", R"({"prompt":"a","stop":[1]})", 400, "invalid_request_error", "stop", "stop"},
        {"empty stop string", "POST", "/v1/completions", R"({"prompt":"a","stop":""})", 400, "invalid_request_error", "stop", "empty"},
        {"logit_bias bad key", "POST", "/v1/completions", R"({"prompt":"a","logit_bias":{"x":1}})", 400, "invalid_request_error", "logit_bias", "'x'"},
        {"logit_bias out of range", "POST", "/v1/completions", R"({"prompt":"a","logit_bias":{"5":500}})", 400, "invalid_request_error", "logit_bias", "[-100, 100]"},
        {"penalty out of range", "POST", "/v1/completions", R"({"prompt":"a","presence_penalty":5})", 400, "invalid_request_error", "presence_penalty", "presence_penalty"},
        {"min_tokens above max_tokens", "POST", "/v1/completions", R"({"prompt":"a","max_tokens":2,"min_tokens":5})", 400, "invalid_request_error", "min_tokens", "min_tokens"},
        {"stream_options without stream", "POST", "/v1/completions", R"({"prompt":"a","stream_options":{"include_usage":true}})", 400, "invalid_request_error", "stream_options", "stream"},
        {"suffix", "POST", "/v1/completions", R"({"prompt":"a","suffix":"z"})", 400, "invalid_request_error", "suffix", "suffix"},
        {"prompt longer than the context", "POST", "/v1/completions",
         R"({"prompt":"0123456789012345678901234567890123456789012345678901234567890123456789"})", 400,
         "invalid_request_error", "prompt", "maximum context length is 64 tokens, but the prompt has 71"},
        {"unknown model", "POST", "/v1/completions", R"({"model":"gpt-9","prompt":"a"})", 404, "invalid_request_error", "model", "gpt-9"},
        {"missing messages", "POST", "/v1/chat/completions", "{}", 400, "invalid_request_error", "messages", "messages"},
        {"empty messages", "POST", "/v1/chat/completions", R"({"messages":[]})", 400, "invalid_request_error", "messages", "non-empty"},
        {"bad role", "POST", "/v1/chat/completions", R"({"messages":[{"role":"wizard","content":"x"}]})", 400, "invalid_request_error", "messages[0].role", "wizard"},
        {"missing content", "POST", "/v1/chat/completions", R"({"messages":[{"role":"user"}]})", 400, "invalid_request_error", "messages[0].content", "content"},
        {"image content", "POST", "/v1/chat/completions", R"({"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"x"}}]}]})", 400, "invalid_request_error", "messages[0].content", "text"},
        {"tools", "POST", "/v1/chat/completions", R"({"messages":[{"role":"user","content":"x"}],"tools":[{"type":"function"}]})", 400, "invalid_request_error", "tools", "function calling is not supported"},
        {"functions", "POST", "/v1/chat/completions", R"({"messages":[{"role":"user","content":"x"}],"functions":[{}]})", 400, "invalid_request_error", "functions", "function calling is not supported"},
        {"tool_choice", "POST", "/v1/chat/completions", R"({"messages":[{"role":"user","content":"x"}],"tool_choice":"auto"})", 400, "invalid_request_error", "tool_choice", "function calling is not supported"},
        {"tool role", "POST", "/v1/chat/completions", R"({"messages":[{"role":"tool","content":"x"}]})", 400, "invalid_request_error", "messages[0].role", "function calling is not supported"},
        {"top_logprobs without logprobs", "POST", "/v1/chat/completions", R"({"messages":[{"role":"user","content":"x"}],"top_logprobs":2})", 400, "invalid_request_error", "top_logprobs", "logprobs"},
        {"json response_format", "POST", "/v1/chat/completions", R"({"messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_object"}})", 400, "invalid_request_error", "response_format", "response_format"},
        {"embeddings without input", "POST", "/v1/embeddings", "{}", 400, "invalid_request_error", "input", "input"},
        {"embeddings bad encoding", "POST", "/v1/embeddings", R"({"input":"a","encoding_format":"hex"})", 400, "invalid_request_error", "encoding_format", "encoding_format"},
        {"embeddings wrong dimensions", "POST", "/v1/embeddings", R"({"input":"a","dimensions":7})", 400, "invalid_request_error", "dimensions", "dimensions"},
        {"tokenize without prompt", "POST", "/tokenize", "{}", 400, "invalid_request_error", "prompt", "prompt"},
        {"detokenize bad ids", "POST", "/detokenize", R"({"tokens":["a"]})", 400, "invalid_request_error", "tokens", "tokens"},
        {"unknown path", "GET", "/v2/nothing", "", 404, "invalid_request_error", nullptr, "/v2/nothing"},
        {"wrong method", "GET", "/v1/completions", "", 405, "invalid_request_error", nullptr, "use POST"},
        {"wrong method on models", "DELETE", "/v1/models", "", 405, "invalid_request_error", nullptr, "use GET"},
    };
    for (const Case& c : cases) {
        INFO(c.what);
        Result r = call(h, c.method, c.target, c.body);
        CHECK(r.status == c.status);
        auto doc = parse(r.body);
        REQUIRE(doc.HasMember("error"));
        const auto& e = doc["error"];
        CHECK(std::string(e["type"].GetString()) == c.type);
        if (c.param) {
            REQUIRE(e["param"].IsString());
            CHECK(std::string(e["param"].GetString()) == c.param);
        } else {
            CHECK(e["param"].IsNull());
        }
        CHECK_THAT(std::string(e["message"].GetString()), Catch::Contains(c.message_part));
        CHECK(e.HasMember("code"));
    }
    CHECK(h.engine.submitted.load() == 0);
    // The router still answers after all of that.
    CHECK(call(h, "POST", "/v1/completions", R"({"prompt":"a","max_tokens":1})").status == 200);
}

TEST_CASE("a full queue is 503 and earlier candidates are cancelled", "[openai][router][errors]") {
    Harness h;
    h.engine.queue_full = true;
    Result r = call(h, "POST", "/v1/completions", R"({"prompt":"a"})");
    CHECK(r.status == 503);
    auto doc = parse(r.body);
    CHECK(std::string(doc["error"]["type"].GetString()) == "server_error");
    CHECK_THAT(std::string(doc["error"]["message"].GetString()), Catch::Contains("queue is full"));
}

TEST_CASE("an API key guards everything but /health and /metrics", "[openai][router][auth]") {
    Harness h("sekret-key");
    Result missing = call(h, "GET", "/v1/models");
    CHECK(missing.status == 401);
    CHECK(std::string(parse(missing.body)["error"]["code"].GetString()) == "invalid_api_key");
    CHECK(call(h, "GET", "/v1/models", "", "Bearer wrong").status == 401);
    CHECK(call(h, "GET", "/v1/models", "", "Bearer sekret-key-longer").status == 401);
    CHECK(call(h, "GET", "/v1/models", "", "Basic sekret-key").status == 401);
    CHECK(call(h, "GET", "/v1/models", "", "Bearer sekret-key").status == 200);
    CHECK(call(h, "GET", "/v1/models", "", "bearer sekret-key").status == 200);
    CHECK(call(h, "POST", "/tokenize", R"({"prompt":"a"})").status == 401);
    CHECK(call(h, "GET", "/nope").status == 401);  // no key, no hint about which paths exist
    CHECK(call(h, "GET", "/health").status == 200);
    CHECK(call(h, "GET", "/metrics").status == 200);
}

TEST_CASE("prompts are logged only with log_prompts", "[openai][router]") {
    Harness quiet;
    call(quiet, "POST", "/v1/completions", R"({"prompt":"secret words","max_tokens":1})");
    for (const auto& line : quiet.logs) CHECK(line.find("secret words") == std::string::npos);
    Harness loud("", true);
    call(loud, "POST", "/v1/completions", R"({"prompt":"secret words","max_tokens":1})");
    bool found = false;
    for (const auto& line : loud.logs) found = found || line.find("secret words") != std::string::npos;
    CHECK(found);
}

TEST_CASE("cancelling a pending reply cancels its engine requests", "[openai][router][cancel]") {
    Harness h;
    h.engine.step_delay_ms = 20;
    Reply reply = h.router.route(HttpRequest{"POST", "/v1/completions", "", R"({"prompt":"a","max_tokens":500,"n":2,"stream":true})"});
    REQUIRE(reply.pending);
    reply.pending->start([] {});
    std::this_thread::sleep_for(std::chrono::milliseconds(60));
    reply.pending->cancel();
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (h.engine.running.load() > 0 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    CHECK(h.engine.cancelled.load() == 2);
    CHECK(h.engine.running.load() == 0);
    std::string out;
    // The stream still terminates properly after a cancel (finish_reason "abort").
    for (int i = 0; i < 100 && !reply.pending->poll(out); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    CHECK(out.find("\"abort\"") != std::string::npos);
    CHECK(out.find("data: [DONE]") != std::string::npos);
}
