// core/runtime/loaded_model.cpp — LoadedModel::load: opens a checkpoint, picks its model plugin, creates the kernel
// backend(s), builds the model (one plugin instance, or N tensor-parallel ranks) and loads its tokenizer.
#include "runtime/loaded_model.h"

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <limits>
#include <thread>
#include <utility>

#include <spdlog/spdlog.h>

#include "checkpoint/checkpoint.h"
#include "checkpoint/mapped_file.h"
#include "kernels/backend.h"
#include "kernels/cuda_loader.h"
#include "plugin_registry/plugin_registry.h"
#include "runtime/tensor_parallel/nccl_all_reduce.h"
#include "runtime/tensor_parallel/rank_kv_caches.h"
#include "runtime/tensor_parallel/tensor_parallel_model.h"
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

// What the checkpoint's matrices are stored in: F32 when every matrix (a tensor of 2 or more dimensions) is F32,
// else the dtype of its largest non-F32 matrix. 1-D tensors (norms, biases) are often kept in F32 by checkpoints
// whose matrices are narrower, and GGUF files may keep the embedding in F32 next to quantized layers.
llmatc_dtype matrix_dtype(const Checkpoint& checkpoint) {
    llmatc_dtype narrower = LLMATC_DTYPE_F32;
    uint64_t largest = 0;
    for (const std::string& name : checkpoint.tensor_names()) {
        llmatc_dtype dtype = LLMATC_DTYPE_F32;
        int n_dims = 0;
        uint64_t nbytes = 0;
        if (!checkpoint.tensor_info(name, &dtype, &n_dims, &nbytes)) continue;  // open() validated every tensor
        if (n_dims < 2 || dtype == LLMATC_DTYPE_F32) continue;
        if (dtype == LLMATC_DTYPE_I32 || dtype == LLMATC_DTYPE_I64) continue;  // index buffers, not weights
        if (nbytes > largest) {
            largest = nbytes;
            narrower = dtype;
        }
    }
    return narrower;
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

// The backends of `world_size` tensor-parallel ranks: CUDA devices 0..N-1 (cuda, or auto where CUDA is), else N CPU
// backends sharing the cores. Each rank's CUDA device index goes to *cuda_devices (left empty on the CPU).
std::vector<std::unique_ptr<KernelBackend>> create_rank_backends(const std::string& device, int threads,
                                                                 int world_size, std::vector<int>* cuda_devices) {
    std::vector<std::unique_ptr<KernelBackend>> ranks;
    if (world_size == 1) {
        ranks.push_back(create_backend(device, threads));
        if (std::string(ranks[0]->table()->name) == "cuda") cuda_devices->push_back(0);
        return ranks;
    }
    if (device != "cpu" && device != "cuda" && device != "auto")
        throw Error(LLMATC_ERR_INVALID_ARGUMENT, "unknown device \"" + device + "\" (expected cpu, cuda or auto)");
    std::string why_not;
    const bool use_cuda = device != "cpu" && cuda_device_present(&why_not);
    if (device == "cuda" && !use_cuda) throw Error(LLMATC_ERR_UNAVAILABLE, "--device cuda: " + why_not);
    if (use_cuda) {
        // With a GPU present, auto means CUDA: one device per rank, and no silent fallback to a slow CPU split.
        for (int r = 0; r < world_size; ++r) {
            auto backend = create_cuda_backend(r, &why_not);
            if (!backend)
                throw Error(LLMATC_ERR_UNAVAILABLE, "--tensor-parallel-size " + std::to_string(world_size) +
                                                        " needs one CUDA device per rank: rank " + std::to_string(r) +
                                                        ": " + why_not);
            ranks.push_back(std::move(backend));
            cuda_devices->push_back(r);
        }
        return ranks;
    }
    if (device == "auto") spdlog::info("--device auto: tensor-parallel ranks on the CPU ({})", why_not);
    // CPU ranks run at the same time: each gets its share of the cores, or together they would oversubscribe them.
    const int cores = threads > 0 ? threads : int(std::max(1u, std::thread::hardware_concurrency()));
    const int per_rank = std::max(1, cores / world_size);
    for (int r = 0; r < world_size; ++r) ranks.push_back(create_cpu_backend(per_rank));
    return ranks;
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
    const llmatc_kernels* kernels() const override { return backends_[0]->table(); }
    const Tokenizer& tokenizer() const override { return *tokenizer_; }
    const std::vector<int32_t>& eos_token_ids() const override { return eos_ids_; }
    const std::string& chat_template() const override { return chat_template_; }
    const std::string& plugin_name() const override { return plugin_name_; }
    const std::string& path() const override { return path_; }
    llmatc_dtype weight_dtype() const override { return weight_dtype_; }

    void forward(const llmatc_kv_cache& cache, const llmatc_batch& batch) override {
        if (tensor_parallel_) {
            tensor_parallel_->forward(rank_caches_->for_step(cache), batch);
            return;
        }
        // The context is built only on failure: a step must not allocate.
        const llmatc_status status = plugin_->forward(model_.model, &cache, &batch);
        if (status != LLMATC_OK) check_status(status, "model " + path_ + " (plugin " + plugin_name_ + ")");
    }

    uint64_t kv_cache_budget_bytes() const override;
    bool writes_device_logits() const override { return LLMATC_VERSION_MINOR(plugin_abi_version_) >= 1; }

private:
    void create_single(const std::string& config, llmatc_dtype storage);
    void create_tensor_parallel(const std::string& config, llmatc_dtype storage);

    std::string path_;
    std::string plugin_name_;
    llmatc_dtype weight_dtype_ = LLMATC_DTYPE_F32;
    uint32_t plugin_abi_version_ = 0;  // the ABI the model plugin was built for
    double gpu_memory_utilization_;
    // Declaration order is destruction order reversed: the model's weights live on the backends and may point into
    // the checkpoint's mapped files, so the models go first, even when the constructor throws half-way.
    std::vector<std::unique_ptr<KernelBackend>> backends_;  // [rank]; one without tensor parallelism
    std::vector<int> cuda_devices_;                         // [rank] CUDA device index; empty on the CPU
    KernelsPublication published_kernels_;
    std::unique_ptr<Checkpoint> checkpoint_;
    std::unique_ptr<Tokenizer> tokenizer_;
    const llmatc_model_plugin* plugin_ = nullptr;
    PluginModel model_;                                         // without tensor parallelism
    std::unique_ptr<tp::TensorParallelModel> tensor_parallel_;  // with it
    std::unique_ptr<tp::RankKvCaches> rank_caches_;             // ranks 1..N-1's KV caches
    llmatc_model_desc desc_{};
    std::vector<int32_t> eos_ids_;
    std::string chat_template_;
};

LoadedModelImpl::LoadedModelImpl(const ModelLoadOptions& options)
    : path_(options.path), gpu_memory_utilization_(options.gpu_memory_utilization) {
    if (options.tensor_parallel_size < 1 || options.tensor_parallel_size > 64)
        throw Error(LLMATC_ERR_INVALID_ARGUMENT, "--tensor-parallel-size must be in [1, 64], got " +
                                                     std::to_string(options.tensor_parallel_size));
    if (!(options.gpu_memory_utilization > 0.0 && options.gpu_memory_utilization <= 1.0))
        throw Error(LLMATC_ERR_INVALID_ARGUMENT, "--gpu-memory-utilization must be in (0, 1], got " +
                                                     std::to_string(options.gpu_memory_utilization));
    const auto started = std::chrono::steady_clock::now();
    spdlog::info("loading model from {}", path_);
    const llmatc_dtype storage = weight_storage_for(options.quantization);

    checkpoint_ = Checkpoint::open(path_);
    weight_dtype_ = int(storage) >= 0 ? storage : matrix_dtype(*checkpoint_);
    PluginRegistry& registry = PluginRegistry::instance();
    const std::string& config = checkpoint_->config_json();
    const PluginRecord& record =
        registry.select_model_plugin(config, options.name.empty() ? path_ : options.name, options.force_plugin);
    plugin_ = static_cast<const llmatc_model_plugin*>(record.interface);
    plugin_name_ = record.name;
    plugin_abi_version_ = record.abi_version;
    if (!plugin_ || plugin_->struct_size < offsetof(llmatc_model_plugin, chat_template) || !plugin_->create ||
        !plugin_->destroy || !plugin_->describe || !plugin_->forward)
        throw Error(LLMATC_ERR_INCOMPATIBLE, "model plugin " + plugin_name_ + " (" + record.path.string() +
                                                 ") has an incomplete function table");
    spdlog::info("model plugin: {} ({})", plugin_name_, record.path.string());

    backends_ = create_rank_backends(options.device, options.threads, options.tensor_parallel_size, &cuda_devices_);
    published_kernels_.publish(backends_[0]->table());
    if (backends_.size() > 1) create_tensor_parallel(config, storage);
    else create_single(config, storage);
    // The weights now live in their kernel layouts (or are read in place and fault back in): let the checkpoint's
    // mapped pages and its transient copies (GGUF q/k rows reordered) go, so resident memory is the weights once.
    checkpoint_detail::MappedFile::drop_all_resident_pages();
    checkpoint_->release_transient_copies();

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
                 desc_.architecture ? desc_.architecture : "?", double(desc_.weight_bytes) / 1e6,
                 backends_[0]->table()->name, desc_.n_layers, desc_.vocab_size, seconds);
}

void LoadedModelImpl::create_single(const std::string& config, llmatc_dtype storage) {
    llmatc_model_load_params params{};
    params.struct_size = sizeof(params);
    params.abi_version = LLMATC_ABI_VERSION;
    params.model_dir = path_.c_str();
    params.config_json = config.data();
    params.config_json_len = config.size();
    params.tensors = checkpoint_->source();
    params.kernels = backends_[0]->table();
    params.weight_storage = storage;
    model_.plugin = plugin_;
    check_status(plugin_->create(&params, &model_.model), "loading " + path_ + " with model plugin " + plugin_name_);

    desc_.struct_size = sizeof(desc_);
    desc_.abi_version = LLMATC_ABI_VERSION;
    check_status(plugin_->describe(model_.model, &desc_), "describing " + path_ + " (plugin " + plugin_name_ + ")");
}

void LoadedModelImpl::create_tensor_parallel(const std::string& config, llmatc_dtype storage) {
    const int32_t world = int32_t(backends_.size());
    std::vector<const llmatc_kernels*> tables;
    for (const auto& backend : backends_) tables.push_back(backend->table());
    tp::AllReduceFactory make_all_reduce;  // empty: the in-process all-reduce through host memory
    std::string all_reduce_name = "in-process (host memory)";
    if (!cuda_devices_.empty()) {
        std::string why_not;
        if (tp::NcclAllReduce::create(tables, &why_not)) {  // a probe: the factory makes the communicators used
            all_reduce_name = "NCCL";
            make_all_reduce = [tables](int32_t) -> std::unique_ptr<tp::AllReduce> {
                std::string why;
                auto nccl = tp::NcclAllReduce::create(tables, &why);
                if (!nccl) throw Error(LLMATC_ERR_INTERNAL, "tensor parallelism: NCCL: " + why);
                return nccl;
            };
        } else {
            spdlog::warn("tensor parallelism: no NCCL ({}); GPU ranks sum through host memory", why_not);
        }
    }
    tensor_parallel_ = std::make_unique<tp::TensorParallelModel>(*plugin_, config, *checkpoint_->source(), tables,
                                                                 storage, path_, std::move(make_all_reduce));
    rank_caches_ = std::make_unique<tp::RankKvCaches>(tables);
    // One rank's description: its share of the KV heads (the cache the engine allocates is rank 0's), its weights.
    desc_ = tensor_parallel_->rank_desc();
    spdlog::info("tensor parallelism: {} ranks on {}, all-reduce {}; each rank holds {} KV heads", world,
                 tables[0]->name, all_reduce_name, desc_.n_kv_heads);
}

uint64_t LoadedModelImpl::kv_cache_budget_bytes() const {
    if (cuda_devices_.empty()) return 0;
    uint64_t smallest_free = std::numeric_limits<uint64_t>::max();
    for (int device : cuda_devices_) {
        uint64_t free_bytes = 0, total_bytes = 0;
        std::string why_not;
        if (!cuda_device_memory(device, &free_bytes, &total_bytes, &why_not))
            throw Error(LLMATC_ERR_UNAVAILABLE, "sizing the KV cache: " + why_not);
        smallest_free = std::min(smallest_free, free_bytes);
    }
    const auto budget = uint64_t(double(smallest_free) * gpu_memory_utilization_);
    spdlog::info("KV cache budget: {:.0f}% of {:.1f} MiB free on the GPU = {:.1f} MiB per rank",
                 gpu_memory_utilization_ * 100.0, double(smallest_free) / 1048576.0, double(budget) / 1048576.0);
    return budget;
}

}  // namespace

std::unique_ptr<LoadedModel> LoadedModel::load(const ModelLoadOptions& options) {
    if (options.path.empty()) throw Error(LLMATC_ERR_INVALID_ARGUMENT, "no model directory given");
    return std::make_unique<LoadedModelImpl>(options);
}

}  // namespace llmatc
