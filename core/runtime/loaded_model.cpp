// core/runtime/loaded_model.cpp — LoadedModel::load: opens a checkpoint, picks its model plugin, creates the kernel
// backend, builds the model and loads its tokenizer.
#include "runtime/loaded_model.h"

#include <chrono>
#include <cstddef>
#include <utility>

#include <spdlog/spdlog.h>

#include "checkpoint/checkpoint.h"
#include "kernels/backend.h"
#include "plugin_registry/plugin_registry.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"

namespace llmatc {

namespace {

// The weight storage a --quantization value asks for; -1 keeps each tensor's own dtype.
llmatc_dtype weight_storage_for(const std::string& quantization) {
    if (quantization.empty()) return static_cast<llmatc_dtype>(-1);
    if (quantization == "f32") return LLMATC_DTYPE_F32;
    if (quantization == "f16") return LLMATC_DTYPE_F16;
    if (quantization == "bf16") return LLMATC_DTYPE_BF16;
    if (quantization == "q8_0") return LLMATC_DTYPE_Q8_0;
    if (quantization == "q4_0") return LLMATC_DTYPE_Q4_0;
    if (quantization == "q4_k") return LLMATC_DTYPE_Q4_K;
    throw Error(LLMATC_ERR_INVALID_ARGUMENT, "unknown quantization \"" + quantization +
                                                 "\" (expected one of: f32, f16, bf16, q8_0, q4_0, q4_k)");
}

// cuda: the CUDA module on device 0, or an error saying why not; auto: the same, else the CPU (logged).
std::unique_ptr<KernelBackend> create_backend(const std::string& device, int threads) {
    if (device != "cpu" && device != "cuda" && device != "auto")
        throw Error(LLMATC_ERR_INVALID_ARGUMENT, "unknown device \"" + device + "\" (expected cpu, cuda or auto)");
    if (device != "cpu") {
        std::string why_not;
        if (auto cuda = create_cuda_backend(0, &why_not)) return cuda;
        if (device == "cuda") throw Error(LLMATC_ERR_UNAVAILABLE, "--device cuda: " + why_not);
        spdlog::info("--device auto: using the CPU ({})", why_not);
    }
    return create_cpu_backend(threads);
}

// Owns a plugin-created model; frees it through its plugin.
struct PluginModel {
    const llmatc_model_plugin* plugin = nullptr;
    llmatc_model* model = nullptr;
    PluginModel() = default;
    PluginModel(const PluginModel&) = delete;
    PluginModel& operator=(const PluginModel&) = delete;
    ~PluginModel() {
        if (model) plugin->destroy(model);
    }
};

// Makes a backend the one plugins see through host()->kernels, and withdraws it when it goes away.
struct KernelsPublication {
    const llmatc_kernels* kernels = nullptr;
    KernelsPublication() = default;
    KernelsPublication(const KernelsPublication&) = delete;
    KernelsPublication& operator=(const KernelsPublication&) = delete;
    void publish(const llmatc_kernels* table) {
        kernels = table;
        PluginRegistry::instance().set_kernels(table);
    }
    ~KernelsPublication() {
        PluginRegistry& registry = PluginRegistry::instance();
        if (kernels && registry.host()->kernels == kernels) registry.set_kernels(nullptr);
    }
};

class LoadedModelImpl final : public LoadedModel {
public:
    explicit LoadedModelImpl(const ModelLoadOptions& options);

    const llmatc_model_desc& desc() const override { return desc_; }
    const llmatc_kernels* kernels() const override { return backend_->table(); }
    const Tokenizer& tokenizer() const override { return *tokenizer_; }
    const std::vector<int32_t>& eos_token_ids() const override { return eos_ids_; }
    const std::string& chat_template() const override { return chat_template_; }
    const std::string& plugin_name() const override { return plugin_name_; }
    const std::string& path() const override { return path_; }

    void forward(const llmatc_kv_cache& cache, const llmatc_batch& batch) override {
        check_status(plugin_->forward(model_.model, &cache, &batch),
                     "model " + path_ + " (plugin " + plugin_name_ + ")");
    }

private:
    std::string path_;
    std::string plugin_name_;
    // Declaration order is destruction order reversed: the model's weights live on the backend and may point into
    // the checkpoint's mapped files, so model_ goes first, even when the constructor throws half-way.
    std::unique_ptr<KernelBackend> backend_;
    KernelsPublication published_kernels_;
    std::unique_ptr<Checkpoint> checkpoint_;
    std::unique_ptr<Tokenizer> tokenizer_;
    const llmatc_model_plugin* plugin_ = nullptr;
    PluginModel model_;
    llmatc_model_desc desc_{};
    std::vector<int32_t> eos_ids_;
    std::string chat_template_;
};

LoadedModelImpl::LoadedModelImpl(const ModelLoadOptions& options) : path_(options.path) {
    const auto started = std::chrono::steady_clock::now();
    spdlog::info("loading model from {}", path_);
    const llmatc_dtype storage = weight_storage_for(options.quantization);

    checkpoint_ = Checkpoint::open(path_);
    PluginRegistry& registry = PluginRegistry::instance();
    const std::string& config = checkpoint_->config_json();
    const PluginRecord& record =
        registry.select_model_plugin(config, options.name.empty() ? path_ : options.name, options.force_plugin);
    plugin_ = static_cast<const llmatc_model_plugin*>(record.interface);
    plugin_name_ = record.name;
    if (!plugin_ || plugin_->struct_size < offsetof(llmatc_model_plugin, chat_template) || !plugin_->create ||
        !plugin_->destroy || !plugin_->describe || !plugin_->forward)
        throw Error(LLMATC_ERR_INCOMPATIBLE, "model plugin " + plugin_name_ + " (" + record.path.string() +
                                                 ") has an incomplete function table");
    spdlog::info("model plugin: {} ({})", plugin_name_, record.path.string());

    backend_ = create_backend(options.device, options.threads);
    const llmatc_kernels* kernels = backend_->table();
    published_kernels_.publish(kernels);

    llmatc_model_load_params params{};
    params.struct_size = sizeof(params);
    params.abi_version = LLMATC_ABI_VERSION;
    params.model_dir = path_.c_str();
    params.config_json = config.data();
    params.config_json_len = config.size();
    params.tensors = checkpoint_->source();
    params.kernels = kernels;
    params.weight_storage = storage;
    model_.plugin = plugin_;
    check_status(plugin_->create(&params, &model_.model), "loading " + path_ + " with model plugin " + plugin_name_);

    desc_.struct_size = sizeof(desc_);
    desc_.abi_version = LLMATC_ABI_VERSION;
    check_status(plugin_->describe(model_.model, &desc_), "describing " + path_ + " (plugin " + plugin_name_ + ")");

    tokenizer_ = Tokenizer::load(path_);
    if (tokenizer_->vocab_size() > desc_.vocab_size)
        throw Error(LLMATC_ERR_CORRUPT, path_ + ": tokenizer.model has " + std::to_string(tokenizer_->vocab_size()) +
                                            " tokens but the model's vocab_size is " +
                                            std::to_string(desc_.vocab_size));
    eos_ids_ = checkpoint_->eos_token_ids();
    if (eos_ids_.empty() && tokenizer_->eos_id() >= 0) eos_ids_.push_back(tokenizer_->eos_id());
    chat_template_ = tokenizer_->chat_template();
    if (chat_template_.empty() && plugin_->chat_template) chat_template_ = plugin_->chat_template;

    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    spdlog::info("loaded {} ({}): {:.1f} MB of weights on {}, {} layers, vocab {}, in {:.2f} s", path_,
                 desc_.architecture ? desc_.architecture : "?", double(desc_.weight_bytes) / 1e6, kernels->name,
                 desc_.n_layers, desc_.vocab_size, seconds);
}

}  // namespace

std::unique_ptr<LoadedModel> LoadedModel::load(const ModelLoadOptions& options) {
    if (options.path.empty()) throw Error(LLMATC_ERR_INVALID_ARGUMENT, "no model directory given");
    return std::make_unique<LoadedModelImpl>(options);
}

}  // namespace llmatc
