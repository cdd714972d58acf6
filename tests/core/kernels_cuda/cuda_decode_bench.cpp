// tests/core/kernels_cuda/cuda_decode_bench.cpp — decode throughput on the GPU against the memory-bandwidth bound:
// loads a checkpoint with --device cuda, decodes `steps` tokens for 1 and for `batch` concurrent sequences (greedy
// inputs are irrelevant to speed, so token ids are fixed), and prints tokens/s beside the bound
// (measured device-to-device copy rate / weight bytes read per token). A benchmark, not a test: run by
// scripts/gpu_check.sh. Exits 77 without a CUDA device.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "kernels/cuda_loader.h"
#include "runtime/loaded_model.h"
#include "util/error.h"

namespace {

double decode_tokens_per_second(llmatc::LoadedModel& model, int32_t n_seqs, int32_t steps, int32_t prompt) {
    const llmatc_kernels& k = *model.kernels();
    const llmatc_model_desc& d = model.desc();
    const int32_t block = 16;
    const int32_t blocks_per_seq = (prompt + steps + block) / block;
    const int32_t n_blocks = blocks_per_seq * n_seqs;
    const size_t bytes = size_t(n_blocks) * block * size_t(d.n_kv_heads) * size_t(d.head_dim) * 2;  // F16 cache
    std::vector<void*> keys, values;
    for (int32_t l = 0; l < d.n_layers; ++l) {
        keys.push_back(k.alloc(k.ctx, bytes));
        values.push_back(k.alloc(k.ctx, bytes));
        if (!keys.back() || !values.back()) throw llmatc::Error(LLMATC_ERR_OUT_OF_MEMORY, "KV cache allocation failed");
    }
    llmatc_kv_cache cache{sizeof(llmatc_kv_cache), LLMATC_ABI_VERSION, LLMATC_DTYPE_F16, d.n_layers, d.n_kv_heads,
                          d.head_dim, block, n_blocks, keys.data(), values.data()};
    std::vector<std::vector<int32_t>> tables(static_cast<size_t>(n_seqs));
    for (int32_t s = 0; s < n_seqs; ++s)
        for (int32_t b = 0; b < blocks_per_seq; ++b) tables[size_t(s)].push_back(s * blocks_per_seq + b);
    std::vector<float> logits(size_t(n_seqs) * size_t(d.vocab_size));

    auto run = [&](int32_t n_past, int32_t n_new) {
        std::vector<int32_t> ids, positions, rows;
        std::vector<llmatc_batch_seq> seqs;
        for (int32_t s = 0; s < n_seqs; ++s) {
            seqs.push_back({tables[size_t(s)].data(), blocks_per_seq, n_past, n_new, int32_t(ids.size())});
            for (int32_t i = 0; i < n_new; ++i) {
                ids.push_back(1 + (s * 7 + i) % (d.vocab_size - 1));
                positions.push_back(n_past + i);
            }
            rows.push_back(int32_t(ids.size()) - 1);
        }
        llmatc_batch batch{sizeof(llmatc_batch), LLMATC_ABI_VERSION, int32_t(ids.size()), ids.data(),
                           positions.data(), n_seqs, seqs.data(), n_seqs, rows.data(), logits.data(), nullptr,
                           nullptr};
        model.forward(cache, batch);  // copies the logits to the host: each step is complete when it returns
    };
    run(0, prompt);
    const auto start = std::chrono::steady_clock::now();
    for (int32_t t = 0; t < steps; ++t) run(prompt + t, 1);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    for (void* p : keys) k.free(k.ctx, p);
    for (void* p : values) k.free(k.ctx, p);
    return double(n_seqs) * steps / seconds;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s MODEL_DIR [STEPS=64] [BATCH=32]\n", argv[0]);
        return 2;
    }
    std::string why;
    const llmatc_cuda_module* module = llmatc::cuda_module(&why);
    if (!module) {
        std::printf("no CUDA device: skipping (%s)\n", why.c_str());
        return 77;
    }
    const int32_t steps = argc > 2 ? std::atoi(argv[2]) : 64;
    const int32_t batch = argc > 3 ? std::atoi(argv[3]) : 32;
    try {
        double copy_rate = 0.0;
        llmatc::check_status(module->measure_copy_bandwidth(0, uint64_t(1) << 30, 20, &copy_rate),
                             "measuring device bandwidth");
        llmatc::ModelLoadOptions options;
        options.path = argv[1];
        options.device = "cuda";
        auto model = llmatc::LoadedModel::load(options);
        const double bytes_per_token = double(model->desc().bytes_read_per_token);
        const double bound = copy_rate / bytes_per_token;  // steps/s when every weight byte is read once per step
        std::printf("model %s: %.2f GB read per decode step; device copy rate %.1f GB/s; bound %.1f steps/s\n",
                    argv[1], bytes_per_token / 1e9, copy_rate / 1e9, bound);
        for (int32_t n : {1, batch}) {
            const double tps = decode_tokens_per_second(*model, n, steps, 32);
            const double steps_per_s = tps / n;
            std::printf("decode %2d stream(s): %8.1f tokens/s, %6.1f steps/s = %5.1f%% of the bandwidth bound\n", n,
                        tps, steps_per_s, 100.0 * steps_per_s / bound);
        }
    } catch (const std::exception& e) {
        std::printf("FAIL: %s\n", e.what());
        return 1;
    }
    return 0;
}
