// tests/core/checkpoint/checkpoint_test_support.cpp — temp dirs, safetensors writers and error capture for the tests.
#include "checkpoint_test_support.h"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "checkpoint/checkpoint.h"
#include "util/error.h"

namespace ckpt_test {

namespace fs = std::filesystem;

TempDir::TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "llmatc-ckpt-test-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed for " + tmpl);
    path_ = tmpl;
}

TempDir::~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
}

fs::path shared_dir() {
    const char* env = std::getenv("LLMATC_SHARED");
    return env && *env ? fs::path(env) : fs::path("../shared");
}

void write_file(const fs::path& path, const std::string& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out) throw std::runtime_error("cannot write " + path.string());
}

std::string read_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + path.string());
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

static size_t element_size(const std::string& dtype) {
    if (dtype == "F64" || dtype == "I64") return 8;
    if (dtype == "F32" || dtype == "I32") return 4;
    if (dtype == "F16" || dtype == "BF16" || dtype == "I16") return 2;
    return 1;
}

std::string raw_safetensors(const std::string& header_json, const std::string& data) {
    std::string header = header_json;
    while (header.size() % 8 != 0) header += ' ';
    std::string out(8, '\0');
    uint64_t n = header.size();
    for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((n >> (8 * i)) & 0xff);
    return out + header + data;
}

std::string safetensors_bytes(const std::vector<TensorSpec>& tensors) {
    std::string header = "{\"__metadata__\":{\"format\":\"pt\"}";
    std::string data;
    for (const auto& t : tensors) {
        size_t expected = element_size(t.dtype);
        for (int64_t d : t.shape) expected *= static_cast<size_t>(d);
        if (expected != t.bytes.size()) throw std::runtime_error("test bug: wrong byte count for " + t.name);
        header += ",\"" + t.name + "\":{\"dtype\":\"" + t.dtype + "\",\"shape\":[";
        for (size_t i = 0; i < t.shape.size(); ++i) {
            if (i) header += ',';
            header += std::to_string(t.shape[i]);
        }
        header += "],\"data_offsets\":[" + std::to_string(data.size()) + "," +
                  std::to_string(data.size() + t.bytes.size()) + "]}";
        data += t.bytes;
    }
    header += "}";
    return raw_safetensors(header, data);
}

std::string f32_bytes(const std::vector<float>& values) {
    std::string out(values.size() * 4, '\0');
    std::memcpy(out.data(), values.data(), out.size());  // the test machines are little-endian, as the format
    return out;
}

std::string u16_bytes(const std::vector<uint16_t>& values) {
    std::string out(values.size() * 2, '\0');
    std::memcpy(out.data(), values.data(), out.size());
    return out;
}

void write_minimal_config(const fs::path& dir) {
    write_file(dir / "config.json", R"({"architectures": ["LlamaForCausalLM"], "eos_token_id": 2})");
}

bool is_mapped_from(const void* address, const fs::path& file) {
    const std::string wanted = fs::canonical(file).string();
    std::ifstream maps("/proc/self/maps");
    std::string line;
    const auto a = reinterpret_cast<uintptr_t>(address);
    while (std::getline(maps, line)) {
        // "start-end perms offset dev inode   path"
        const auto slash = line.find('/');
        if (slash == std::string::npos || line.substr(slash) != wanted) continue;
        const uintptr_t start = std::stoull(line.substr(0, line.find('-')), nullptr, 16);
        const uintptr_t end = std::stoull(line.substr(line.find('-') + 1, line.find(' ')), nullptr, 16);
        if (a >= start && a < end) return true;
    }
    return false;
}

std::string open_error(const fs::path& dir, int* status_out) {
    try {
        auto ckpt = llmatc::Checkpoint::open(dir);
        FAIL("Checkpoint::open(" << dir << ") succeeded but should have failed");
    } catch (const llmatc::Error& e) {
        if (status_out) *status_out = e.status();
        return e.what();
    } catch (const std::exception& e) {
        FAIL("Checkpoint::open threw a non-llmatc exception: " << e.what());
    }
    return {};
}

}  // namespace ckpt_test
