// tests/core/kernels/k_quant_tool.cpp — exposes the K-quant block routines to Python tests (compared with gguf-py and
// ggml, and used to write Q4_K GGUF files): `k_quant_tool quantize q4_k IN.f32 OUT` and
// `k_quant_tool dequantize q4_k|q5_k|q6_k IN OUT`, raw little-endian files (F32 values, 256 per block; 144-, 176- or
// 210-byte blocks).
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/cpu/quant_q4_k.h"
#include "kernels/cpu/quant_q5_k.h"
#include "kernels/cpu/quant_q6_k.h"

namespace {

using namespace llmatc::cpu;

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

// Decodes every block of `in` (a whole number of Block) with `dequantize`.
template <class Block, class Dequantize>
std::vector<float> dequantize_all(const std::vector<char>& in, const char* path, Dequantize dequantize) {
    if (in.size() % sizeof(Block) != 0)
        throw std::runtime_error(std::string(path) + ": size " + std::to_string(in.size()) +
                                 " is not a multiple of " + std::to_string(sizeof(Block)) + "-byte blocks");
    std::vector<Block> blocks(in.size() / sizeof(Block));
    std::memcpy(blocks.data(), in.data(), in.size());
    std::vector<float> out(blocks.size() * 256);
    for (size_t b = 0; b < blocks.size(); ++b) dequantize(&blocks[b], out.data() + b * 256);
    return out;
}

// Encodes `in` (a whole number of 256-float rows) as Q4_K blocks.
std::vector<BlockQ4_K> quantize_q4_k(const std::vector<char>& in, const char* path) {
    if (in.size() % (256 * sizeof(float)) != 0)
        throw std::runtime_error(std::string(path) + ": size is not a multiple of 256 floats");
    std::vector<float> values(in.size() / sizeof(float));
    std::memcpy(values.data(), in.data(), in.size());
    std::vector<BlockQ4_K> out(values.size() / 256);
    for (size_t b = 0; b < out.size(); ++b) quantize_block_q4_k(values.data() + b * 256, &out[b]);
    return out;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        const std::string usage = "usage: k_quant_tool quantize q4_k IN OUT | dequantize q4_k|q5_k|q6_k IN OUT";
        if (argc != 5) throw std::runtime_error(usage);
        const std::string mode = argv[1], type = argv[2];
        const std::vector<char> in = read_all(argv[3]);
        if (mode == "quantize" && type == "q4_k") {
            const std::vector<BlockQ4_K> out = quantize_q4_k(in, argv[3]);
            write_all(argv[4], out.data(), out.size() * sizeof(BlockQ4_K));
            return 0;
        }
        if (mode != "dequantize") throw std::runtime_error(usage);
        std::vector<float> out;
        if (type == "q4_k")
            out = dequantize_all<BlockQ4_K>(in, argv[3], dequantize_block_q4_k);
        else if (type == "q5_k")
            out = dequantize_all<BlockQ5_K>(in, argv[3], dequantize_block_q5_k);
        else if (type == "q6_k")
            out = dequantize_all<BlockQ6_K>(in, argv[3], dequantize_block_q6_k);
        else
            throw std::runtime_error("unknown type '" + type + "' (q4_k, q5_k or q6_k)");
        write_all(argv[4], out.data(), out.size() * sizeof(float));
    } catch (const std::exception& e) {
        std::fprintf(stderr, "k_quant_tool: %s\n", e.what());
        return 1;
    }
    return 0;
}
