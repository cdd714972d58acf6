// tests/core/kernels/k_quant_tool.cpp — exposes the Q6_K and Q5_K dequantizers to Python tests (compared bit for bit
// with gguf-py): `k_quant_tool dequantize q6_k|q5_k IN OUT`, raw files (210- or 176-byte blocks in; little-endian
// F32 values out, 256 per block).
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/cpu/quant_q5_k.h"
#include "kernels/cpu/quant_q6_k.h"

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

}  // namespace

int main(int argc, char** argv) {
    using namespace llmatc::cpu;
    try {
        if (argc != 5 || std::string(argv[1]) != "dequantize")
            throw std::runtime_error("usage: k_quant_tool dequantize q6_k|q5_k IN OUT");
        const std::string type = argv[2];
        const std::vector<char> in = read_all(argv[3]);
        std::vector<float> out;
        if (type == "q6_k")
            out = dequantize_all<BlockQ6_K>(in, argv[3], dequantize_block_q6_k);
        else if (type == "q5_k")
            out = dequantize_all<BlockQ5_K>(in, argv[3], dequantize_block_q5_k);
        else
            throw std::runtime_error("unknown type '" + type + "' (q6_k or q5_k)");
        write_all(argv[4], out.data(), out.size() * sizeof(float));
    } catch (const std::exception& e) {
        std::fprintf(stderr, "k_quant_tool: %s\n", e.what());
        return 1;
    }
    return 0;
}
