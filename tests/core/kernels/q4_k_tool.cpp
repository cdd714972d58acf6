// tests/core/kernels/q4_k_tool.cpp — exposes the Q4_K quantizer and dequantizer to Python tests (compare with gguf-py
// and ggml, write Q4_K GGUF files): `q4_k_tool quantize IN.f32 OUT.q4k` and `q4_k_tool dequantize IN.q4k OUT.f32`,
// raw little-endian files (F32 values; 144-byte blocks). The value count must be a multiple of 256.
#include <cstdio>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/cpu/quant_q4_k.h"

namespace {

std::vector<char> read_all(const char* path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error(std::string(path) + ": cannot open");
    return std::vector<char>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void write_all(const char* path, const void* data, size_t bytes) {
    std::ofstream out(path, std::ios::binary);
    out.write(static_cast<const char*>(data), std::streamsize(bytes));
    if (!out) throw std::runtime_error(std::string(path) + ": cannot write");
}

}  // namespace

int main(int argc, char** argv) {
    using namespace llmatc::cpu;
    try {
        if (argc != 4) throw std::runtime_error("usage: q4_k_tool quantize|dequantize IN OUT");
        const std::string mode = argv[1];
        const std::vector<char> in = read_all(argv[2]);
        if (mode == "quantize") {
            if (in.size() % (256 * sizeof(float)) != 0)
                throw std::runtime_error(std::string(argv[2]) + ": size is not a multiple of 256 floats");
            const size_t blocks = in.size() / (256 * sizeof(float));
            std::vector<BlockQ4_K> out(blocks);
            for (size_t b = 0; b < blocks; ++b)
                quantize_block_q4_k(reinterpret_cast<const float*>(in.data()) + b * 256, &out[b]);
            write_all(argv[3], out.data(), out.size() * sizeof(BlockQ4_K));
        } else if (mode == "dequantize") {
            if (in.size() % sizeof(BlockQ4_K) != 0)
                throw std::runtime_error(std::string(argv[2]) + ": size is not a multiple of 144-byte blocks");
            const size_t blocks = in.size() / sizeof(BlockQ4_K);
            std::vector<float> out(blocks * 256);
            for (size_t b = 0; b < blocks; ++b)
                dequantize_block_q4_k(reinterpret_cast<const BlockQ4_K*>(in.data()) + b, out.data() + b * 256);
            write_all(argv[3], out.data(), out.size() * sizeof(float));
        } else {
            throw std::runtime_error("unknown mode '" + mode + "' (quantize or dequantize)");
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "q4_k_tool: %s\n", e.what());
        return 1;
    }
    return 0;
}
