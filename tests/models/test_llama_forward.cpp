// tests/models/test_llama_forward.cpp — the Llama forward on stories260k with the real CPU backend: reference logits,
// cache consistency (chunked prefill, decode, several sequences per batch) and weight errors naming the tensor.
#include <catch2/catch.hpp>

#include <rapidjson/document.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <numeric>
#include <sstream>
#include <string>
#include <vector>

#include "llama/llama_error.h"
#include "llama_forward_fixture.h"

namespace {

using llmatc::llama::LlamaError;
using llmatc::llama::LlamaModel;
using llama_test::Fixture;
using llama_test::stories_dir;
using llama_test::TestCache;

rapidjson::Document read_json(const std::string& path) {
    std::ifstream in(path);
    REQUIRE(in.good());
    std::stringstream text;
    text << in.rdbuf();
    rapidjson::Document doc;
    doc.Parse(text.str().c_str());
    REQUIRE_FALSE(doc.HasParseError());
    return doc;
}

struct SeqPart {
    std::vector<int32_t> tokens;
    int32_t n_past;
    std::vector<int32_t> blocks;
};

// Runs one step over `parts` (one per sequence) and returns the logits of every row, [rows, vocab].
std::vector<float> step(LlamaModel& model, const llmatc_kv_cache& cache, const std::vector<SeqPart>& parts) {
    std::vector<int32_t> ids, positions, rows;
    std::vector<llmatc_batch_seq> seqs;
    for (const SeqPart& p : parts) {
        seqs.push_back({p.blocks.data(), int32_t(p.blocks.size()), p.n_past, int32_t(p.tokens.size()),
                        int32_t(ids.size())});
        for (size_t i = 0; i < p.tokens.size(); ++i) {
            rows.push_back(int32_t(ids.size()));
            ids.push_back(p.tokens[i]);
            positions.push_back(p.n_past + int32_t(i));
        }
    }
    const int32_t vocab = model.desc().vocab_size;
    std::vector<float> logits(rows.size() * vocab);
    llmatc_batch batch{sizeof(llmatc_batch), LLMATC_ABI_VERSION, int32_t(ids.size()), ids.data(), positions.data(),
                       int32_t(seqs.size()), seqs.data(), int32_t(rows.size()), rows.data(), logits.data(), nullptr,
                       nullptr};
    model.forward(cache, batch);
    return logits;
}

float max_abs_diff(const float* a, const float* b, size_t n) {
    float worst = 0;
    for (size_t i = 0; i < n; ++i) worst = std::max(worst, std::fabs(a[i] - b[i]));
    return worst;
}

const std::vector<int32_t> k_prompt = {1, 403, 407, 261, 378};  // "Once upon a time"

}  // namespace

TEST_CASE("stories260k reproduces reference.json's first-step logits and greedy continuation", "[llama][forward]") {
    Fixture f;
    auto model = f.model();
    const auto reference = read_json(stories_dir() + "/reference.json");
    const auto& cases = reference["cases"];
    REQUIRE(cases.Size() > 0);
    for (const auto& c : cases.GetArray()) {
        std::vector<int32_t> prompt;
        for (const auto& id : c["prompt_ids"].GetArray()) prompt.push_back(id.GetInt());
        TestCache cache(*f.backend->table(), model->desc(), 4);
        const std::vector<int32_t> blocks = {0, 1, 2, 3};
        std::vector<float> logits = step(*model, cache.get(), {{prompt, 0, blocks}});
        const int32_t vocab = model->desc().vocab_size;
        const float* last = logits.data() + (prompt.size() - 1) * vocab;
        for (const auto& top : c["first_step_top5"].GetArray()) {
            const int32_t id = top["id"].GetInt();
            REQUIRE(id >= 0);
            REQUIRE(id < vocab);
            INFO(c["prompt"].GetString() << " token " << id);
            CHECK(std::fabs(last[id] - float(top["logit"].GetDouble())) < 1e-3f);
        }
        std::vector<int32_t> generated;
        int32_t n_past = int32_t(prompt.size());
        for (size_t i = 0; i < c["generated_ids"].Size(); ++i) {
            const int32_t next = int32_t(std::max_element(last, last + vocab) - last);
            generated.push_back(next);
            logits = step(*model, cache.get(), {{{next}, n_past++, blocks}});
            last = logits.data();
        }
        std::vector<int32_t> expected;
        for (const auto& id : c["generated_ids"].GetArray()) expected.push_back(id.GetInt());
        CHECK(generated == expected);
    }
}

TEST_CASE("chunked prefill, decode steps and shuffled blocks give the one-shot prefill's logits", "[llama][forward]") {
    Fixture f;
    auto model = f.model();
    std::vector<int32_t> tokens = k_prompt;
    for (int32_t t : {432, 383, 286, 261, 376, 298, 315, 421, 395, 317, 426, 338, 401, 396, 267, 337, 410, 408, 419})
        tokens.push_back(t);  // 24 tokens: crosses a block boundary

    TestCache one_cache(*f.backend->table(), model->desc(), 2);
    const auto one_shot = step(*model, one_cache.get(), {{tokens, 0, {0, 1}}});

    // Same tokens as a 7-token chunk, a 10-token chunk, then single decode steps, in blocks 3 and 1 of a bigger cache.
    TestCache cache(*f.backend->table(), model->desc(), 4);
    const std::vector<int32_t> blocks = {3, 1};
    std::vector<float> pieced;
    size_t done = 0;
    for (size_t chunk : {size_t(7), size_t(10), size_t(1), size_t(1), size_t(1), size_t(1), size_t(1), size_t(1),
                         size_t(1)}) {
        std::vector<int32_t> part(tokens.begin() + done, tokens.begin() + done + chunk);
        const auto logits = step(*model, cache.get(), {{part, int32_t(done), blocks}});
        pieced.insert(pieced.end(), logits.begin(), logits.end());
        done += chunk;
    }
    REQUIRE(done == tokens.size());
    CHECK(max_abs_diff(one_shot.data(), pieced.data(), one_shot.size()) < 1e-4f);
}

TEST_CASE("sequences batched together compute what they compute alone", "[llama][forward]") {
    Fixture f;
    auto model = f.model();
    const std::vector<int32_t> a = k_prompt, b = {1, 378, 261, 403, 407, 266, 268};
    TestCache alone(*f.backend->table(), model->desc(), 2);
    const auto logits_a = step(*model, alone.get(), {{a, 0, {0}}});
    const auto logits_b = step(*model, alone.get(), {{b, 0, {1}}});

    TestCache together(*f.backend->table(), model->desc(), 2);
    const auto both = step(*model, together.get(), {{a, 0, {1}}, {b, 0, {0}}});
    CHECK(max_abs_diff(both.data(), logits_a.data(), logits_a.size()) < 1e-5f);
    CHECK(max_abs_diff(both.data() + logits_a.size(), logits_b.data(), logits_b.size()) < 1e-5f);
}

namespace {

// Wraps the checkpoint's tensor source, hiding one tensor or reporting a wrong shape for it.
struct AlteredSource {
    const llmatc_tensor_source* real;
    std::string name;
    bool hide;
    llmatc_tensor_source table{sizeof(llmatc_tensor_source), LLMATC_ABI_VERSION, this, get, has};

    static llmatc_status get(void* ctx, const char* n, llmatc_tensor_view* out) {
        auto* self = static_cast<AlteredSource*>(ctx);
        if (self->hide && self->name == n) return LLMATC_ERR_NOT_FOUND;
        const llmatc_status st = self->real->get(self->real->ctx, n, out);
        if (st == LLMATC_OK && self->name == n) out->shape[0] += 1;
        return st;
    }
    static int has(void* ctx, const char* n) {
        auto* self = static_cast<AlteredSource*>(ctx);
        return (self->hide && self->name == n) ? 0 : self->real->has(self->real->ctx, n);
    }
};

std::string create_error(const Fixture& f, AlteredSource& source, llmatc_status expected) {
    try {
        LlamaModel model(f.params(&source.table));
    } catch (const LlamaError& e) {
        CHECK(e.status() == expected);
        return e.what();
    }
    FAIL("the model was created");
    return "";
}

}  // namespace

TEST_CASE("a missing or mis-shaped tensor is named with the checkpoint", "[llama][weights]") {
    Fixture f;
    AlteredSource missing{f.checkpoint->source(), "model.layers.3.mlp.up_proj.weight", true};
    CHECK_THAT(create_error(f, missing, LLMATC_ERR_NOT_FOUND),
               Catch::Contains("missing tensor \"model.layers.3.mlp.up_proj.weight\"") &&
                   Catch::Contains(stories_dir()) && Catch::Contains("[172, 64]"));
    AlteredSource misshaped{f.checkpoint->source(), "model.layers.0.self_attn.k_proj.weight", false};
    CHECK_THAT(create_error(f, misshaped, LLMATC_ERR_CORRUPT),
               Catch::Contains("\"model.layers.0.self_attn.k_proj.weight\"") && Catch::Contains("[33, 64]") &&
                   Catch::Contains("expected [32, 64]"));
}

TEST_CASE("a KV cache of another shape is refused", "[llama][forward]") {
    Fixture f;
    auto model = f.model();
    llmatc_model_desc wrong = model->desc();
    wrong.n_kv_heads += 1;
    TestCache cache(*f.backend->table(), wrong, 1);
    try {
        step(*model, cache.get(), {{k_prompt, 0, {0}}});
        FAIL("the step ran");
    } catch (const LlamaError& e) {
        CHECK(e.status() == LLMATC_ERR_INVALID_ARGUMENT);
        CHECK_THAT(std::string(e.what()), Catch::Contains("KV cache shape"));
    }
}

TEST_CASE("scattered logit rows and the hidden output agree with the all-rows logits", "[llama][forward]") {
    Fixture f;
    auto model = f.model();
    const int32_t vocab = model->desc().vocab_size, hidden_size = model->desc().hidden_size;
    TestCache full_cache(*f.backend->table(), model->desc(), 1);
    const auto all_rows = step(*model, full_cache.get(), {{k_prompt, 0, {0}}});

    TestCache cache(*f.backend->table(), model->desc(), 1);
    const std::vector<int32_t> blocks = {0};
    const llmatc_batch_seq seq{blocks.data(), 1, 0, int32_t(k_prompt.size()), 0};
    std::vector<int32_t> positions(k_prompt.size());
    std::iota(positions.begin(), positions.end(), 0);
    const std::vector<int32_t> rows = {1, 3, 4};
    std::vector<float> logits(rows.size() * vocab), hidden(k_prompt.size() * hidden_size);
    const llmatc_batch batch{sizeof(llmatc_batch), LLMATC_ABI_VERSION, int32_t(k_prompt.size()), k_prompt.data(),
                             positions.data(), 1, &seq, int32_t(rows.size()), rows.data(), logits.data(),
                             hidden.data(), nullptr};
    model->forward(cache.get(), batch);
    for (size_t i = 0; i < rows.size(); ++i)
        CHECK(max_abs_diff(logits.data() + i * vocab, all_rows.data() + size_t(rows[i]) * vocab, vocab) < 1e-5f);

    // stories260k ties lm_head to the embeddings: logits = hidden · embed_tokens^T, computed here on the host.
    llmatc_tensor_view embed{};
    embed.struct_size = sizeof(embed);
    const llmatc_tensor_source* source = f.checkpoint->source();
    REQUIRE(source->get(source->ctx, "model.embed_tokens.weight", &embed) == LLMATC_OK);
    REQUIRE(embed.dtype == LLMATC_DTYPE_F32);
    const auto* table = static_cast<const float*>(embed.data);
    for (size_t row = 0; row < k_prompt.size(); ++row) {
        float worst = 0;
        for (int32_t token = 0; token < vocab; ++token) {
            double dot = 0;
            for (int32_t k = 0; k < hidden_size; ++k)
                dot += double(hidden[row * hidden_size + k]) * table[size_t(token) * hidden_size + k];
            worst = std::max(worst, std::fabs(float(dot) - all_rows[row * vocab + token]));
        }
        INFO("row " << row);
        CHECK(worst < 1e-4f);
    }
}

TEST_CASE("with device_logits the logits go to backend memory only; a 1.0-sized batch never reads the field",
          "[llama][forward]") {
    Fixture f;
    auto model = f.model();
    const llmatc_kernels& k = *f.backend->table();
    const int32_t vocab = model->desc().vocab_size;
    std::vector<int32_t> positions(k_prompt.size()), rows = {int32_t(k_prompt.size()) - 1}, blocks = {0};
    for (size_t i = 0; i < positions.size(); ++i) positions[i] = int32_t(i);
    const llmatc_batch_seq seq{blocks.data(), 1, 0, int32_t(k_prompt.size()), 0};
    auto run = [&](float* host_logits, float* device_logits, uint32_t struct_size) {
        TestCache cache(k, model->desc(), 1);
        llmatc_batch batch{};
        batch.struct_size = struct_size;
        batch.abi_version = LLMATC_ABI_VERSION;
        batch.n_tokens = int32_t(k_prompt.size());
        batch.token_ids = k_prompt.data();
        batch.positions = positions.data();
        batch.n_seqs = 1;
        batch.seqs = &seq;
        batch.n_logit_rows = 1;
        batch.logit_rows = rows.data();
        batch.logits = host_logits;
        batch.device_logits = device_logits;
        model->forward(cache.get(), batch);
    };
    std::vector<float> on_host(size_t(vocab), 0.0f);
    run(on_host.data(), nullptr, sizeof(llmatc_batch));

    auto* device = static_cast<float*>(k.alloc(k.ctx, size_t(vocab) * sizeof(float)));
    REQUIRE(device != nullptr);
    std::vector<float> untouched(size_t(vocab), -7.0f);
    std::vector<float> from_device(static_cast<size_t>(vocab));
    run(untouched.data(), device, sizeof(llmatc_batch));
    REQUIRE(k.to_host(k.ctx, from_device.data(), device, from_device.size() * sizeof(float)) == LLMATC_OK);
    CHECK(from_device == on_host);
    CHECK(std::all_of(untouched.begin(), untouched.end(), [](float v) { return v == -7.0f; }));

    // A caller built for ABI 1.0 has no device_logits: whatever lies past its struct is not read.
    std::vector<float> old_caller(size_t(vocab), 0.0f);
    run(old_caller.data(), device, uint32_t(offsetof(llmatc_batch, device_logits)));
    CHECK(old_caller == on_host);
    k.free(k.ctx, device);
}
