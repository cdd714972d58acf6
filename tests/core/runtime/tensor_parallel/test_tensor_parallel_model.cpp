// tests/core/runtime/tensor_parallel/test_tensor_parallel_model.cpp — the Llama forward sharded over 2 and 4
// in-process CPU ranks reproduces the single-rank logits (F32, 1e-5) through prefill, decode and chunked steps, on a
// random GQA checkpoint built here and on stories260k; bad configurations and failing ranks give clear errors.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "checkpoint/checkpoint.h"
#include "kernels/backend.h"
#include "llama/llama_hparams.h"
#include "llama/llama_host.h"
#include "llama/llama_plugin_abi.h"
#include "plugin_registry/host_services.h"
#include "runtime/tensor_parallel/tensor_parallel_model.h"
#include "util/error.h"

namespace {

using llmatc::tp::TensorParallelModel;

// The llama plugin's table, built from its architecture library (the same functions the .so exports).
const llmatc_model_plugin& llama_plugin() {
    static const llmatc_model_plugin plugin = {sizeof(llmatc_model_plugin), LLMATC_ABI_VERSION,
                                               llmatc::llama::kLlamaArchitectures, nullptr,
                                               llmatc::llama::abi_create, llmatc::llama::abi_destroy,
                                               llmatc::llama::abi_describe, llmatc::llama::abi_forward, nullptr};
    llmatc::llama::g_host = llmatc::process_host();  // error messages through the core's thread-local slot
    return plugin;
}

// F32 tensors held in memory, offered through llmatc_tensor_source.
class MemoryTensors {
public:
    void add(const std::string& name, std::vector<int64_t> shape, std::vector<float> values) {
        tensors_[name] = {std::move(shape), std::move(values)};
    }
    const llmatc_tensor_source* source() { return &table_; }

private:
    struct Tensor {
        std::vector<int64_t> shape;
        std::vector<float> values;
    };
    static llmatc_status get(void* ctx, const char* name, llmatc_tensor_view* out) {
        auto& self = *static_cast<MemoryTensors*>(ctx);
        auto it = self.tensors_.find(name);
        if (it == self.tensors_.end()) {
            llmatc::set_thread_error(std::string("no tensor ") + name);
            return LLMATC_ERR_NOT_FOUND;
        }
        out->dtype = LLMATC_DTYPE_F32;
        out->n_dims = int32_t(it->second.shape.size());
        for (int i = 0; i < LLMATC_MAX_DIMS; ++i)
            out->shape[i] = i < out->n_dims ? it->second.shape[size_t(i)] : 1;
        out->data = it->second.values.data();
        out->nbytes = it->second.values.size() * sizeof(float);
        return LLMATC_OK;
    }
    static int has(void* ctx, const char* name) {
        return static_cast<MemoryTensors*>(ctx)->tensors_.count(name) ? 1 : 0;
    }
    std::map<std::string, Tensor> tensors_;
    llmatc_tensor_source table_{sizeof(llmatc_tensor_source), LLMATC_ABI_VERSION, this, &MemoryTensors::get,
                                &MemoryTensors::has};
};

struct RandomLlama {
    std::string config;
    MemoryTensors tensors;
};

// hidden 64, 8 heads of 8, 4 kv heads (GQA), MLP 96, 2 layers, vocab 128, untied lm_head; weights N(0, 0.08).
std::unique_ptr<RandomLlama> random_llama(uint32_t seed) {
    auto m = std::make_unique<RandomLlama>();
    const int64_t hidden = 64, heads = 8, kv_heads = 4, head_dim = 8, inter = 96, layers = 2, vocab = 128;
    m->config = R"({"architectures": ["LlamaForCausalLM"], "hidden_size": 64, "intermediate_size": 96,
        "num_hidden_layers": 2, "num_attention_heads": 8, "num_key_value_heads": 4, "vocab_size": 128,
        "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "tie_word_embeddings": false, "hidden_act": "silu"})";
    std::mt19937 rng(seed);
    std::normal_distribution<float> normal(0.0f, 0.08f);
    auto matrix = [&](int64_t rows, int64_t cols) {
        std::vector<float> v(size_t(rows * cols));
        for (float& x : v) x = normal(rng);
        return v;
    };
    auto norm = [&](int64_t n) {
        std::vector<float> v(static_cast<size_t>(n));
        for (float& x : v) x = 1.0f + normal(rng);
        return v;
    };
    m->tensors.add("model.embed_tokens.weight", {vocab, hidden}, matrix(vocab, hidden));
    for (int64_t l = 0; l < layers; ++l) {
        const std::string p = "model.layers." + std::to_string(l) + ".";
        m->tensors.add(p + "input_layernorm.weight", {hidden}, norm(hidden));
        m->tensors.add(p + "self_attn.q_proj.weight", {heads * head_dim, hidden}, matrix(heads * head_dim, hidden));
        m->tensors.add(p + "self_attn.k_proj.weight", {kv_heads * head_dim, hidden}, matrix(kv_heads * head_dim, hidden));
        m->tensors.add(p + "self_attn.v_proj.weight", {kv_heads * head_dim, hidden}, matrix(kv_heads * head_dim, hidden));
        m->tensors.add(p + "self_attn.o_proj.weight", {hidden, heads * head_dim}, matrix(hidden, heads * head_dim));
        m->tensors.add(p + "post_attention_layernorm.weight", {hidden}, norm(hidden));
        m->tensors.add(p + "mlp.gate_proj.weight", {inter, hidden}, matrix(inter, hidden));
        m->tensors.add(p + "mlp.up_proj.weight", {inter, hidden}, matrix(inter, hidden));
        m->tensors.add(p + "mlp.down_proj.weight", {hidden, inter}, matrix(hidden, inter));
    }
    m->tensors.add("model.norm.weight", {hidden}, norm(hidden));
    m->tensors.add("lm_head.weight", {vocab, hidden}, matrix(vocab, hidden));
    return m;
}

// An F32 paged KV cache of 16-token blocks on one backend.
class Cache {
public:
    Cache(const llmatc_kernels& k, int32_t layers, int32_t kv_heads, int32_t head_dim, int32_t blocks) : k_(k) {
        const size_t bytes = size_t(blocks) * 16 * size_t(kv_heads) * size_t(head_dim) * sizeof(float);
        for (int32_t l = 0; l < layers; ++l) {
            keys_.push_back(k.alloc(k.ctx, bytes));
            values_.push_back(k.alloc(k.ctx, bytes));
        }
        cache_ = {sizeof(llmatc_kv_cache), LLMATC_ABI_VERSION, LLMATC_DTYPE_F32, layers, kv_heads, head_dim, 16,
                  blocks, keys_.data(), values_.data()};
    }
    ~Cache() {
        for (void* p : keys_) k_.free(k_.ctx, p);
        for (void* p : values_) k_.free(k_.ctx, p);
    }
    const llmatc_kv_cache& get() const { return cache_; }

private:
    const llmatc_kernels& k_;
    std::vector<void*> keys_, values_;
    llmatc_kv_cache cache_{};
};

struct Part {
    std::vector<int32_t> tokens;
    int32_t n_past;
    std::vector<int32_t> blocks;
};

// A step's batch over `parts`, asking for the logits of every row.
struct Step {
    std::vector<int32_t> ids, positions, rows;
    std::vector<llmatc_batch_seq> seqs;
    std::vector<float> logits;
    llmatc_batch batch{};

    Step(const std::vector<Part>& parts, int32_t vocab) {
        for (const Part& p : parts) {
            seqs.push_back({p.blocks.data(), int32_t(p.blocks.size()), p.n_past, int32_t(p.tokens.size()),
                            int32_t(ids.size())});
            for (size_t i = 0; i < p.tokens.size(); ++i) {
                rows.push_back(int32_t(ids.size()));
                ids.push_back(p.tokens[i]);
                positions.push_back(p.n_past + int32_t(i));
            }
        }
        logits.assign(rows.size() * size_t(vocab), std::nanf(""));  // poisoned
        batch = {sizeof(llmatc_batch), LLMATC_ABI_VERSION, int32_t(ids.size()), ids.data(), positions.data(),
                 int32_t(seqs.size()), seqs.data(), int32_t(rows.size()), rows.data(), logits.data(), nullptr,
                 nullptr};
    }
};

// Three steps: a two-sequence prefill, a decode of both, then a chunk of three more tokens for the first.
std::vector<std::vector<Part>> scenario(int32_t vocab) {
    auto tok = [&](int i) { return int32_t((i * 37 + 11) % (vocab - 3)) + 3; };
    std::vector<int32_t> a_blocks = {3, 0}, b_blocks = {1, 4};
    std::vector<int32_t> a_prompt, b_prompt;
    for (int i = 0; i < 11; ++i) a_prompt.push_back(tok(i));
    for (int i = 0; i < 18; ++i) b_prompt.push_back(tok(100 + i));
    return {
        {{a_prompt, 0, a_blocks}, {b_prompt, 0, b_blocks}},
        {{{tok(50)}, 11, a_blocks}, {{tok(51)}, 18, b_blocks}},
        {{{tok(60), tok(61), tok(62)}, 12, a_blocks}},
    };
}

// Logits of every step of the scenario, from the plain model on one CPU backend.
std::vector<std::vector<float>> single_rank_logits(const std::string& config, const llmatc_tensor_source& tensors) {
    const llmatc_model_plugin& plugin = llama_plugin();
    auto backend = llmatc::create_cpu_backend(1);
    llmatc_model_load_params params{sizeof(params), LLMATC_ABI_VERSION, "test", config.data(), config.size(),
                                    &tensors, backend->table(), static_cast<llmatc_dtype>(-1)};
    llmatc_model* model = nullptr;
    llmatc::check_status(plugin.create(&params, &model), "single-rank model");
    llmatc_model_desc desc{};
    desc.struct_size = sizeof(desc);
    plugin.describe(model, &desc);
    std::vector<std::vector<float>> out;
    {
        Cache cache(*backend->table(), desc.n_layers, desc.n_kv_heads, desc.head_dim, 8);
        for (const auto& parts : scenario(desc.vocab_size)) {
            Step step(parts, desc.vocab_size);
            llmatc::check_status(plugin.forward(model, &cache.get(), &step.batch), "single-rank forward");
            out.push_back(step.logits);
        }
    }
    plugin.destroy(model);
    return out;
}

// The same steps through `world` in-process ranks; returns the logits and checks the all-reduce count.
std::vector<std::vector<float>> sharded_logits(const std::string& config, const llmatc_tensor_source& tensors,
                                               int32_t world) {
    std::vector<std::unique_ptr<llmatc::KernelBackend>> backends;
    std::vector<const llmatc_kernels*> tables;
    for (int32_t r = 0; r < world; ++r) {
        backends.push_back(llmatc::create_cpu_backend(1));
        tables.push_back(backends.back()->table());
    }
    TensorParallelModel model(llama_plugin(), config, tensors, tables, static_cast<llmatc_dtype>(-1), "test");
    const llmatc_model_desc& desc = model.rank_desc();
    std::vector<std::unique_ptr<Cache>> caches;
    std::vector<llmatc_kv_cache> views;
    for (int32_t r = 0; r < world; ++r) {
        caches.push_back(std::make_unique<Cache>(model.rank_backend(r), desc.n_layers, desc.n_kv_heads, desc.head_dim, 8));
        views.push_back(caches.back()->get());
    }
    std::vector<std::vector<float>> out;
    const auto steps = scenario(desc.vocab_size);
    for (const auto& parts : steps) {
        Step step(parts, desc.vocab_size);
        model.forward(views, step.batch);
        out.push_back(step.logits);
    }
    // One all-reduce after each attention block and one after each MLP block, per layer and step.
    for (int32_t r = 0; r < world; ++r)
        CHECK(model.all_reduces(r) == uint64_t(world > 1 ? 2 * desc.n_layers * int32_t(steps.size()) : 0));
    return out;
}

void require_close(const std::vector<std::vector<float>>& want, const std::vector<std::vector<float>>& got) {
    REQUIRE(want.size() == got.size());
    for (size_t s = 0; s < want.size(); ++s) {
        REQUIRE(want[s].size() == got[s].size());
        float worst = 0.0f;
        for (size_t i = 0; i < want[s].size(); ++i) {
            REQUIRE(std::isfinite(got[s][i]));
            worst = std::max(worst, std::fabs(want[s][i] - got[s][i]));
        }
        INFO("step " << s << ": max |single - sharded| = " << worst);
        CHECK(worst <= 1e-5f);
    }
}

std::string stories_dir() {
    const char* shared = std::getenv("LLMATC_SHARED");
    return std::string(shared ? shared : "../shared") + "/models/stories260k";
}

}  // namespace

TEST_CASE("a random GQA Llama sharded over 2 and 4 ranks reproduces the single-rank logits", "[tensor_parallel]") {
    auto model = random_llama(7);
    const auto reference = single_rank_logits(model->config, *model->tensors.source());
    for (int32_t world : {1, 2, 4}) {
        INFO("world size " << world);
        require_close(reference, sharded_logits(model->config, *model->tensors.source(), world));
    }
}

TEST_CASE("stories260k sharded over 2 and 4 ranks reproduces the single-rank logits", "[tensor_parallel]") {
    auto checkpoint = llmatc::Checkpoint::open(stories_dir());
    const std::string config = checkpoint->config_json();
    const auto reference = single_rank_logits(config, *checkpoint->source());
    for (int32_t world : {2, 4}) {
        INFO("world size " << world);
        require_close(reference, sharded_logits(config, *checkpoint->source(), world));
    }
}

TEST_CASE("a configuration that does not divide across the ranks is refused naming the field", "[tensor_parallel]") {
    auto model = random_llama(1);
    std::vector<std::unique_ptr<llmatc::KernelBackend>> backends;
    std::vector<const llmatc_kernels*> tables;
    for (int r = 0; r < 3; ++r) {
        backends.push_back(llmatc::create_cpu_backend(1));
        tables.push_back(backends.back()->table());
    }
    REQUIRE_THROWS_WITH(TensorParallelModel(llama_plugin(), model->config, *model->tensors.source(), tables,
                                            static_cast<llmatc_dtype>(-1), "test"),
                        Catch::Contains("num_attention_heads (8) is not divisible by the tensor-parallel size 3"));
    const std::string other = R"({"architectures": ["GPT2LMHeadModel"], "num_attention_heads": 8})";
    tables.resize(2);
    REQUIRE_THROWS_WITH(TensorParallelModel(llama_plugin(), other, *model->tensors.source(), tables,
                                            static_cast<llmatc_dtype>(-1), "test"),
                        Catch::Contains("no sharding plan for architecture [GPT2LMHeadModel]"));
}

TEST_CASE("a rank that fails mid-step stops the others and the next step runs", "[tensor_parallel]") {
    auto model = random_llama(3);
    std::vector<std::unique_ptr<llmatc::KernelBackend>> backends;
    std::vector<const llmatc_kernels*> tables;
    for (int r = 0; r < 2; ++r) {
        backends.push_back(llmatc::create_cpu_backend(1));
        tables.push_back(backends.back()->table());
    }
    TensorParallelModel tp(llama_plugin(), model->config, *model->tensors.source(), tables,
                           static_cast<llmatc_dtype>(-1), "test");
    const llmatc_model_desc& d = tp.rank_desc();
    REQUIRE(d.n_kv_heads == 2);
    Cache good0(tp.rank_backend(0), d.n_layers, d.n_kv_heads, d.head_dim, 8);
    Cache good1(tp.rank_backend(1), d.n_layers, d.n_kv_heads, d.head_dim, 8);
    // Rank 1 gets a cache of the wrong shape: it fails at once while rank 0 waits at its first all-reduce.
    Cache wrong(tp.rank_backend(1), d.n_layers, d.n_kv_heads * 2, d.head_dim, 8);
    const auto steps = scenario(d.vocab_size);
    Step first(steps[0], d.vocab_size);
    REQUIRE_THROWS_WITH(tp.forward({good0.get(), wrong.get()}, first.batch),
                        Catch::Contains("tensor-parallel rank 1") && Catch::Contains("KV cache shape"));
    Step retry(steps[0], d.vocab_size);
    tp.forward({good0.get(), good1.get()}, retry.batch);
    REQUIRE(std::all_of(retry.logits.begin(), retry.logits.end(), [](float x) { return std::isfinite(x); }));
}
