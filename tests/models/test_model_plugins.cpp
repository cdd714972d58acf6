// tests/models/test_model_plugins.cpp — the built llama and vicuna plugin files: entry, probe scores, chat templates,
// and errors reported through the host rather than thrown.
#include <catch2/catch.hpp>

#include <dlfcn.h>

#include <cstdlib>
#include <string>

#include "llmatc/model.h"
#include "llmatc/plugin.h"

namespace {

thread_local std::string t_error;

void test_log(llmatc_log_level, const char*, const char*, size_t) {}
void test_set_error(const char* msg, size_t len) { t_error.assign(msg, len); }
const char* test_last_error() { return t_error.c_str(); }
const void* test_get_service(const char*) { return nullptr; }

const llmatc_host k_host = {sizeof(llmatc_host), LLMATC_ABI_VERSION, test_log, test_set_error, test_last_error,
                            nullptr, test_get_service};

// Loads the plugin file named by environment variable `env` (set by tests/models/meson.build) and runs its entry.
llmatc_plugin_info load_plugin(const char* env) {
    const char* path = std::getenv(env);
    REQUIRE(path != nullptr);
    void* lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    INFO(path << ": " << (lib ? "" : dlerror()));
    REQUIRE(lib != nullptr);
    auto entry = reinterpret_cast<llmatc_plugin_entry_fn>(dlsym(lib, LLMATC_PLUGIN_ENTRY_SYMBOL));
    REQUIRE(entry != nullptr);
    llmatc_plugin_info info{};
    info.struct_size = sizeof(info);
    REQUIRE(entry(&k_host, &info) == LLMATC_OK);
    REQUIRE(info.kind == LLMATC_PLUGIN_MODEL);
    REQUIRE(info.interface != nullptr);
    return info;
}

const llmatc_model_plugin& table(const llmatc_plugin_info& info) {
    return *static_cast<const llmatc_model_plugin*>(info.interface);
}

int32_t probe(const llmatc_model_plugin& p, const std::string& config, const char* name) {
    return p.probe(config.data(), config.size(), name, name ? std::char_traits<char>::length(name) : 0);
}

const std::string k_llama_config = R"({"architectures": ["LlamaForCausalLM"], "hidden_size": 8})";
const std::string k_mistral_config = R"({"architectures": ["MistralForCausalLM"]})";

}  // namespace

TEST_CASE("the llama plugin scores 100 for Llama architectures and 0 otherwise", "[plugins][llama]") {
    const auto info = load_plugin("LLMATC_TEST_LLAMA_PLUGIN");
    CHECK(std::string(info.name) == "llama");
    const auto& p = table(info);
    CHECK(probe(p, k_llama_config, "meta-llama/Llama-2-7b-chat-hf") == 100);
    CHECK(probe(p, k_llama_config, "lmsys/vicuna-7b-v1.5") == 100);
    CHECK(probe(p, R"({"architectures": ["LLaMAForCausalLM"]})", nullptr) == 100);
    CHECK(probe(p, k_mistral_config, "x") == 0);
    CHECK(probe(p, "{broken", "x") == 0);
    bool lists_llama = false;
    for (const char* const* a = p.architectures; *a; ++a) lists_llama |= std::string(*a) == "LlamaForCausalLM";
    CHECK(lists_llama);
}

TEST_CASE("the vicuna plugin wins only for Llama checkpoints named vicuna", "[plugins][vicuna]") {
    const auto info = load_plugin("LLMATC_TEST_VICUNA_PLUGIN");
    CHECK(std::string(info.name) == "vicuna");
    const auto& p = table(info);
    CHECK(probe(p, k_llama_config, "lmsys/vicuna-13b-v1.3") == 150);
    CHECK(probe(p, k_llama_config, "/models/My-VICUNA") == 150);
    CHECK(probe(p, k_llama_config, "meta-llama/Llama-2-7b-hf") == 0);
    CHECK(probe(p, k_llama_config, nullptr) == 0);
    CHECK(probe(p, k_mistral_config, "vicuna") == 0);
}

TEST_CASE("each plugin carries its family's chat template", "[plugins]") {
    const std::string llama = table(load_plugin("LLMATC_TEST_LLAMA_PLUGIN")).chat_template;
    CHECK_THAT(llama, Catch::Contains("'[INST] '") && Catch::Contains("' [/INST]'") &&
                          Catch::Contains("'<<SYS>>\\n' + system_message + '\\n<</SYS>>\\n\\n'"));
    const std::string vicuna = table(load_plugin("LLMATC_TEST_VICUNA_PLUGIN")).chat_template;
    CHECK_THAT(vicuna, Catch::Contains("'USER: '") && Catch::Contains("'ASSISTANT:'") &&
                           Catch::Contains("A chat between a curious user and an artificial intelligence assistant."));
}

TEST_CASE("create reports a bad config through the host instead of throwing", "[plugins][llama]") {
    for (const char* env : {"LLMATC_TEST_LLAMA_PLUGIN", "LLMATC_TEST_VICUNA_PLUGIN"}) {
        const auto& p = table(load_plugin(env));
        const std::string config = R"({"architectures": ["LlamaForCausalLM"], "hidden_size": 64,
            "intermediate_size": 128, "num_hidden_layers": 1, "num_attention_heads": 4, "vocab_size": 32,
            "rope_scaling": {"type": "yarn", "factor": 4}})";
        llmatc_tensor_source no_tensors{};
        llmatc_model_load_params params{};
        params.struct_size = sizeof(params);
        params.abi_version = LLMATC_ABI_VERSION;
        params.model_dir = "/models/yarn";
        params.config_json = config.data();
        params.config_json_len = config.size();
        params.tensors = &no_tensors;
        params.kernels = nullptr;
        llmatc_model* model = reinterpret_cast<llmatc_model*>(&params);  // must be reset to NULL on failure
        t_error.clear();
        CHECK(p.create(&params, &model) == LLMATC_ERR_UNSUPPORTED);
        CHECK(model == nullptr);
        CHECK_THAT(t_error, Catch::Contains("/models/yarn/config.json") && Catch::Contains("unsupported rope_scaling"));

        t_error.clear();
        CHECK(p.create(nullptr, &model) == LLMATC_ERR_INVALID_ARGUMENT);
        CHECK_FALSE(t_error.empty());
    }
}
