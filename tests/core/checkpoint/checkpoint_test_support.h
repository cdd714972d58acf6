// tests/core/checkpoint/checkpoint_test_support.h — helpers shared by the checkpoint tests: temp dirs, file writers.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace ckpt_test {

// A fresh directory under the system temp dir, removed with everything in it when the object dies.
class TempDir {
public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::filesystem::path& path() const { return path_; }
    std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

private:
    std::filesystem::path path_;
};

// The read-only fixtures: $LLMATC_SHARED, else ../shared relative to the working directory.
std::filesystem::path shared_dir();

void write_file(const std::filesystem::path& path, const std::string& bytes);
std::string read_file(const std::filesystem::path& path);

// One tensor to write into a safetensors file: `bytes` is its data, `dtype` the safetensors spelling.
struct TensorSpec {
    std::string name;
    std::string dtype;
    std::vector<int64_t> shape;
    std::string bytes;
};

// Serialises tensors in the safetensors format (u64 header length, JSON header padded to 8, data in order).
std::string safetensors_bytes(const std::vector<TensorSpec>& tensors);

// A safetensors file from a header text and a data section taken verbatim (for corrupt variants).
std::string raw_safetensors(const std::string& header_json, const std::string& data);

// Little-endian bytes of a float array, and of uint16 arrays (F16/BF16 bit patterns).
std::string f32_bytes(const std::vector<float>& values);
std::string u16_bytes(const std::vector<uint16_t>& values);

// Writes config.json (a minimal Llama config) into `dir`.
void write_minimal_config(const std::filesystem::path& dir);

// Whether `address` lies in a memory mapping of `file` (per /proc/self/maps): proof that a view is zero-copy.
bool is_mapped_from(const void* address, const std::filesystem::path& file);

// Runs `open` and returns the message of the llmatc::Error it throws; fails the test when it throws nothing or
// something else. `status_out` receives the error's status.
std::string open_error(const std::filesystem::path& dir, int* status_out = nullptr);

}  // namespace ckpt_test
