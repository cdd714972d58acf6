// core/checkpoint/checkpoint.cpp — Checkpoint::open: finds a directory's configs and weights and serves its tensors.
#include "checkpoint/checkpoint.h"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <spdlog/spdlog.h>

#include <cstring>
#include <deque>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>

#include "checkpoint/dtype.h"
#include "checkpoint/gguf_file.h"
#include "checkpoint/safetensors_file.h"
#include "checkpoint/tensor_entry.h"
#include "checkpoint/torch_bin_file.h"
#include "util/error.h"

namespace llmatc {

namespace fs = std::filesystem;
using checkpoint_detail::SafetensorsFile;
using checkpoint_detail::TensorEntry;
using checkpoint_detail::TorchBinFile;

namespace {

// Index files are small; a bigger one is not an index.
constexpr uintmax_t kMaxJsonBytes = 64ull << 20;

std::string read_text_file(const fs::path& path) {
    std::error_code ec;
    const uintmax_t size = fs::file_size(path, ec);
    if (ec) throw Error(LLMATC_ERR_IO, path.string() + ": cannot read: " + ec.message());
    if (size > kMaxJsonBytes) throw Error(LLMATC_ERR_CORRUPT, path.string() + ": " + std::to_string(size) + " bytes, too big for a JSON config");
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error(LLMATC_ERR_IO, path.string() + ": cannot open for reading");
    std::ostringstream text;
    text << in.rdbuf();
    if (in.bad()) throw Error(LLMATC_ERR_IO, path.string() + ": read error");
    return text.str();
}

// Parses `text` (the contents of `path`) as a JSON object, or throws naming the file, the position and the problem.
void parse_json_object(const fs::path& path, const std::string& text, rapidjson::Document& doc) {
    doc.Parse(text.data(), text.size());
    if (doc.HasParseError()) {
        throw Error(LLMATC_ERR_CORRUPT, path.string() + ": invalid JSON at byte " + std::to_string(doc.GetErrorOffset()) +
                                            ": " + rapidjson::GetParseError_En(doc.GetParseError()));
    }
    if (!doc.IsObject()) throw Error(LLMATC_ERR_CORRUPT, path.string() + ": not a JSON object");
}

// eos_token_id as a number or a list of numbers; nullopt when absent or null.
std::optional<std::vector<int32_t>> read_eos_ids(const fs::path& path, const rapidjson::Document& doc) {
    auto it = doc.FindMember("eos_token_id");
    if (it == doc.MemberEnd() || it->value.IsNull()) return std::nullopt;
    auto bad = [&]() { throw Error(LLMATC_ERR_CORRUPT, path.string() + ": eos_token_id must be a token id or a list of token ids"); };
    std::vector<int32_t> ids;
    if (it->value.IsInt()) {
        ids.push_back(it->value.GetInt());
    } else if (it->value.IsArray()) {
        for (const auto& v : it->value.GetArray()) {
            if (!v.IsInt()) bad();
            ids.push_back(v.GetInt());
        }
    } else {
        bad();
    }
    return ids;
}

bool is_plain_file_name(const std::string& name) {
    return !name.empty() && name != "." && name != ".." && name.find('/') == std::string::npos &&
           name.find('\\') == std::string::npos;
}

// A format's file names: one file, or shards listed by an index.
struct WeightLayout {
    const char* single;
    const char* index;
    const char* shard_prefix;   // shards are <prefix>NNNNN-of-NNNNN<suffix>; named to explain a missing index
    const char* shard_suffix;
    const char* format;
};

constexpr WeightLayout kLayouts[] = {
    {"model.safetensors", "model.safetensors.index.json", "model-", ".safetensors", "safetensors"},
    {"pytorch_model.bin", "pytorch_model.bin.index.json", "pytorch_model-", ".bin", "PyTorch"},
};

// "<prefix>00001-of-00002<suffix>".
bool is_shard_name(const std::string& name, const WeightLayout& layout) {
    const std::string prefix = layout.shard_prefix, suffix = layout.shard_suffix;
    if (name.size() <= prefix.size() + suffix.size() || name.compare(0, prefix.size(), prefix) != 0 ||
        name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0)
        return false;
    const std::string middle = name.substr(prefix.size(), name.size() - prefix.size() - suffix.size());
    const auto of = middle.find("-of-");
    auto digits = [](const std::string& s) {
        return !s.empty() && s.find_first_not_of("0123456789") == std::string::npos;
    };
    return of != std::string::npos && digits(middle.substr(0, of)) && digits(middle.substr(of + 4));
}

// Either reader, behind one small interface for the directory logic.
class TensorFile {
public:
    virtual ~TensorFile() = default;
    virtual const std::vector<TensorEntry>& tensors() const = 0;
    virtual const TensorEntry* find(const std::string& name) const = 0;
};

template <class Reader>
class TensorFileOf final : public TensorFile {
public:
    explicit TensorFileOf(const fs::path& path) : reader_(path) {}
    const std::vector<TensorEntry>& tensors() const override { return reader_.tensors(); }
    const TensorEntry* find(const std::string& name) const override { return reader_.find(name); }

private:
    Reader reader_;
};

std::unique_ptr<TensorFile> open_tensor_file(const fs::path& path, bool safetensors) {
    if (safetensors) return std::make_unique<TensorFileOf<SafetensorsFile>>(path);
    return std::make_unique<TensorFileOf<TorchBinFile>>(path);
}

// The directory's only *.gguf file when it has no config.json (a GGUF checkpoint); nullopt otherwise. Two GGUF
// files are ambiguous and refused.
std::optional<fs::path> lone_gguf_without_config(const fs::path& dir) {
    std::error_code ec;
    if (fs::exists(dir / "config.json", ec)) return std::nullopt;
    std::optional<fs::path> found;
    for (const auto& item : fs::directory_iterator(dir, ec)) {
        if (item.path().extension() != ".gguf") continue;
        if (found)
            throw Error(LLMATC_ERR_INVALID_ARGUMENT, dir.string() + ": holds several .gguf files (" +
                                                         found->filename().string() + ", " +
                                                         item.path().filename().string() + "); keep one per directory");
        found = item.path();
    }
    return found;
}

class DirectoryCheckpoint final : public Checkpoint {
public:
    explicit DirectoryCheckpoint(const fs::path& dir);

    const fs::path& dir() const override { return dir_; }
    const std::string& config_json() const override { return config_json_; }
    const std::vector<int32_t>& eos_token_ids() const override { return eos_ids_; }
    std::vector<std::string> tensor_names() const override {
        std::vector<std::string> names;
        names.reserve(table_.size());
        for (const auto& [name, entry] : table_) names.push_back(name);
        return names;
    }
    const llmatc_tensor_source* source() const override { return &source_; }
    bool tensor_info(const std::string& name, llmatc_dtype* dtype, int* n_dims, uint64_t* nbytes) const override {
        auto it = table_.find(name);
        if (it == table_.end()) return false;
        *dtype = it->second->dtype;
        *n_dims = static_cast<int>(it->second->shape.size());
        *nbytes = it->second->nbytes;
        return true;
    }
    void release_transient_copies() override {
        std::lock_guard<std::mutex> lock(transient_mutex_);
        transient_.clear();
    }

private:
    void read_configs();
    void open_weights();
    void open_single(const fs::path& path, bool safetensors);
    void open_sharded(const fs::path& index_path, bool safetensors);
    // A llama.cpp GGUF file in place of config.json + weights: its metadata supplies config.json.
    void open_gguf(const fs::path& path);
    void add(const TensorEntry& entry);

    static llmatc_status c_get(void* ctx, const char* name, llmatc_tensor_view* out) noexcept;
    static int c_has(void* ctx, const char* name) noexcept;
    static void c_release(void* ctx, const char* name) noexcept;

    fs::path dir_;
    std::string config_json_;
    std::vector<int32_t> eos_ids_;
    std::vector<std::unique_ptr<TensorFile>> files_;
    std::unique_ptr<checkpoint_detail::GgufFile> gguf_;
    std::map<std::string, const TensorEntry*> table_;  // sorted: tensor_names() comes out ordered
    std::deque<TensorEntry> realigned_;                 // copies of tensors stored misaligned in their file
    std::vector<std::unique_ptr<uint64_t[]>> realigned_bytes_;
    // GGUF q/k weights in Hugging Face row order, by name, made on request, with the number of gets not yet
    // released (c_get and c_release run on a const object from any thread).
    struct TransientCopy {
        std::unique_ptr<uint8_t[]> bytes;
        int users = 0;
    };
    mutable std::mutex transient_mutex_;
    mutable std::map<std::string, TransientCopy> transient_;
    llmatc_tensor_source source_{};
};

DirectoryCheckpoint::DirectoryCheckpoint(const fs::path& dir) : dir_(dir) {
    std::error_code ec;
    if (!fs::exists(dir_, ec)) throw Error(LLMATC_ERR_NOT_FOUND, "checkpoint directory " + dir_.string() + " does not exist");
    if (!fs::is_directory(dir_, ec)) throw Error(LLMATC_ERR_INVALID_ARGUMENT, "checkpoint " + dir_.string() + " is not a directory");
    if (auto gguf = lone_gguf_without_config(dir_)) {
        open_gguf(*gguf);
    } else {
        read_configs();
        open_weights();
    }
    source_.struct_size = sizeof(llmatc_tensor_source);
    source_.abi_version = LLMATC_ABI_VERSION;
    source_.ctx = this;
    source_.get = &DirectoryCheckpoint::c_get;
    source_.release = &DirectoryCheckpoint::c_release;
    source_.has = &DirectoryCheckpoint::c_has;
}

void DirectoryCheckpoint::read_configs() {
    const fs::path config = dir_ / "config.json";
    std::error_code ec;
    if (!fs::is_regular_file(config, ec)) {
        throw Error(LLMATC_ERR_NOT_FOUND, config.string() + " is missing: a Hugging Face checkpoint directory needs config.json");
    }
    config_json_ = read_text_file(config);
    rapidjson::Document config_doc;
    parse_json_object(config, config_json_, config_doc);
    std::optional<std::vector<int32_t>> eos = read_eos_ids(config, config_doc);

    // generation_config.json is optional; when present it must be valid, and its eos_token_id takes precedence.
    const fs::path generation = dir_ / "generation_config.json";
    if (fs::exists(generation, ec)) {
        rapidjson::Document gen_doc;
        parse_json_object(generation, read_text_file(generation), gen_doc);
        if (auto gen_eos = read_eos_ids(generation, gen_doc)) eos = std::move(gen_eos);
    }
    if (eos) eos_ids_ = std::move(*eos);
}

void DirectoryCheckpoint::open_gguf(const fs::path& path) {
    gguf_ = std::make_unique<checkpoint_detail::GgufFile>(path);
    config_json_ = gguf_->config_json();
    eos_ids_ = gguf_->eos_token_ids();
    for (const TensorEntry& entry : gguf_->tensors()) add(entry);
    spdlog::info("checkpoint {}: {} tensors from {} (GGUF; config.json synthesised from its metadata)", dir_.string(),
                 table_.size(), path.filename().string());
}

void DirectoryCheckpoint::open_weights() {
    std::error_code ec;
    for (const WeightLayout& layout : kLayouts) {
        const bool safetensors = layout.single == std::string("model.safetensors");
        // Hugging Face's own order: the single file first, then the index.
        if (fs::exists(dir_ / layout.single, ec)) {
            open_single(dir_ / layout.single, safetensors);
            spdlog::info("checkpoint {}: {} tensors from {} ({})", dir_.string(), table_.size(), layout.single, layout.format);
            return;
        }
        if (fs::exists(dir_ / layout.index, ec)) {
            open_sharded(dir_ / layout.index, safetensors);
            spdlog::info("checkpoint {}: {} tensors from {} {} shards", dir_.string(), table_.size(), files_.size(), layout.format);
            return;
        }
    }
    // Nothing found: say what was looked for, and point out shards whose index is missing.
    std::string message = dir_.string() + ": no weights found; looked for model.safetensors, model.safetensors.index.json, "
                                          "pytorch_model.bin and pytorch_model.bin.index.json";
    for (const WeightLayout& layout : kLayouts) {
        for (const auto& item : fs::directory_iterator(dir_, ec)) {
            const std::string name = item.path().filename().string();
            if (is_shard_name(name, layout)) {
                message += " (found shard " + name + " but not its index " + layout.index + ")";
                break;
            }
        }
    }
    throw Error(LLMATC_ERR_NOT_FOUND, message);
}

// The readers have validated the entry (dtype, dimensions, bounds). Views promise data aligned to the element size,
// so consumers may read it as float/uint16_t without undefined behaviour: torch.save aligns entries to 64 bytes and
// safetensors writers pad the header to 8, but an archive re-zipped by another tool or an odd header length can
// leave a tensor misaligned. Such a tensor is copied once into an aligned buffer; all others stay in the mapping.
void DirectoryCheckpoint::add(const TensorEntry& entry) {
    const size_t alignment = dtype_element_size(entry.dtype);
    if (alignment > 1 && reinterpret_cast<uintptr_t>(entry.data) % alignment != 0) {
        auto bytes = std::make_unique<uint64_t[]>((entry.nbytes + 7) / 8);
        std::memcpy(bytes.get(), entry.data, entry.nbytes);
        TensorEntry& copy = realigned_.emplace_back(entry);
        copy.data = bytes.get();
        realigned_bytes_.push_back(std::move(bytes));
        spdlog::debug("checkpoint {}: tensor '{}' is misaligned in its file; copied ({} bytes)", dir_.string(),
                      entry.name, entry.nbytes);
        table_.emplace(entry.name, &copy);
        return;
    }
    table_.emplace(entry.name, &entry);
}

void DirectoryCheckpoint::open_single(const fs::path& path, bool safetensors) {
    files_.push_back(open_tensor_file(path, safetensors));
    for (const TensorEntry& entry : files_.back()->tensors()) add(entry);
}

// The index's weight_map decides which tensors exist and where: each must be in the shard it names. Tensors a
// shard holds beyond its index entries are ignored, as transformers does.
void DirectoryCheckpoint::open_sharded(const fs::path& index_path, bool safetensors) {
    rapidjson::Document index;
    parse_json_object(index_path, read_text_file(index_path), index);
    auto map_it = index.FindMember("weight_map");
    if (map_it == index.MemberEnd() || !map_it->value.IsObject()) {
        throw Error(LLMATC_ERR_CORRUPT, index_path.string() + ": missing \"weight_map\" object");
    }
    std::map<std::string, TensorFile*> shards;
    for (auto it = map_it->value.MemberBegin(); it != map_it->value.MemberEnd(); ++it) {
        const std::string tensor = it->name.GetString();
        if (!it->value.IsString()) {
            throw Error(LLMATC_ERR_CORRUPT, index_path.string() + ": weight_map entry for tensor '" + tensor + "' is not a file name");
        }
        const std::string shard_name = it->value.GetString();
        if (!is_plain_file_name(shard_name)) {
            throw Error(LLMATC_ERR_CORRUPT, index_path.string() + ": tensor '" + tensor + "' names shard '" + shard_name +
                                                "', which is not a file name inside the checkpoint directory");
        }
        auto shard_it = shards.find(shard_name);
        if (shard_it == shards.end()) {
            const fs::path shard_path = dir_ / shard_name;
            std::error_code ec;
            if (!fs::exists(shard_path, ec)) {
                throw Error(LLMATC_ERR_NOT_FOUND, index_path.string() + ": shard file " + shard_path.string() +
                                                      " (holding tensor '" + tensor + "') is missing");
            }
            files_.push_back(open_tensor_file(shard_path, safetensors));
            shard_it = shards.emplace(shard_name, files_.back().get()).first;
        }
        const TensorEntry* entry = shard_it->second->find(tensor);
        if (entry == nullptr) {
            throw Error(LLMATC_ERR_CORRUPT, index_path.string() + ": tensor '" + tensor + "' is listed in shard " +
                                                shard_name + ", but " + (dir_ / shard_name).string() + " has no such tensor");
        }
        add(*entry);
    }
}

llmatc_status DirectoryCheckpoint::c_get(void* ctx, const char* name, llmatc_tensor_view* out) noexcept {
    try {
        if (ctx == nullptr || name == nullptr || out == nullptr) {
            set_thread_error("tensor source get: NULL argument");
            return LLMATC_ERR_INVALID_ARGUMENT;
        }
        const auto* self = static_cast<const DirectoryCheckpoint*>(ctx);
        auto it = self->table_.find(name);
        if (it == self->table_.end()) {
            set_thread_error("tensor '" + std::string(name) + "' is not in checkpoint " + self->dir_.string());
            return LLMATC_ERR_NOT_FOUND;
        }
        const TensorEntry& e = *it->second;
        llmatc_tensor_view view{};
        view.struct_size = sizeof(llmatc_tensor_view);
        view.abi_version = LLMATC_ABI_VERSION;
        view.dtype = e.dtype;
        // The ABI has no 0-d tensors: a scalar is a 1-element vector. Trailing unused dimensions are 1.
        view.n_dims = e.shape.empty() ? 1 : static_cast<int32_t>(e.shape.size());
        for (int i = 0; i < LLMATC_MAX_DIMS; ++i) view.shape[i] = i < static_cast<int>(e.shape.size()) ? e.shape[i] : 1;
        view.data = e.data;
        view.nbytes = e.nbytes;
        if (e.interleaved_rotary_heads > 0) {
            std::lock_guard<std::mutex> lock(self->transient_mutex_);
            TransientCopy& copy = self->transient_[it->first];
            if (!copy.bytes) {
                copy.bytes = std::make_unique<uint8_t[]>(size_t(e.nbytes));
                checkpoint_detail::unpermute_rotary_rows(e, copy.bytes.get());
                // Only the copy is read from now on: the file's pages of it need not stay resident.
                checkpoint_detail::MappedFile::drop_resident_pages(e.data, e.nbytes);
            }
            ++copy.users;
            view.data = copy.bytes.get();
            view.flags = LLMATC_TENSOR_TRANSIENT;
        }
        *out = view;
        return LLMATC_OK;
    } catch (const std::exception& ex) {
        set_thread_error(std::string("tensor source get: ") + ex.what());
        return LLMATC_ERR_INTERNAL;
    } catch (...) {
        set_thread_error("tensor source get: unknown exception");
        return LLMATC_ERR_INTERNAL;
    }
}

void DirectoryCheckpoint::c_release(void* ctx, const char* name) noexcept {
    if (ctx == nullptr || name == nullptr) return;
    const auto* self = static_cast<const DirectoryCheckpoint*>(ctx);
    try {
        // The backend holds its own copy (or reads the mapping in place and faults pages back in): the file's pages
        // of this tensor need not stay resident. MADV_PAGEOUT in the backend skips pages another process maps too
        // (a second engine on the same file); this does not.
        auto entry = self->table_.find(name);
        if (entry != self->table_.end())
            checkpoint_detail::MappedFile::drop_resident_pages(entry->second->data, entry->second->nbytes);
        std::lock_guard<std::mutex> lock(self->transient_mutex_);
        auto it = self->transient_.find(name);
        if (it != self->transient_.end() && --it->second.users <= 0) self->transient_.erase(it);
    } catch (...) {
        // only the std::string key can throw (allocation); the copy then stays until release_transient_copies
    }
}

int DirectoryCheckpoint::c_has(void* ctx, const char* name) noexcept {
    try {
        if (ctx == nullptr || name == nullptr) return 0;
        return static_cast<const DirectoryCheckpoint*>(ctx)->table_.count(name) ? 1 : 0;
    } catch (...) {
        return 0;  // only std::string's allocation can throw here; "absent" is the safe answer
    }
}

}  // namespace

std::unique_ptr<Checkpoint> Checkpoint::open(const fs::path& dir) {
    return std::make_unique<DirectoryCheckpoint>(dir);
}

}  // namespace llmatc
