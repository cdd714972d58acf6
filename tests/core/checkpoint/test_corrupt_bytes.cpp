// tests/core/checkpoint/test_corrupt_bytes.cpp — seeded byte mutations of valid files: every outcome is a clean
// open or one llmatc::Error, never a crash or a view outside the file (run under ASan/UBSan to see overreads).
#include <catch2/catch.hpp>

#include <random>

#include "checkpoint/checkpoint.h"
#include "checkpoint/torch_unpickler.h"
#include "checkpoint_test_support.h"
#include "torch_fixtures.h"
#include "util/error.h"

using namespace ckpt_test;
namespace fs = std::filesystem;

namespace {

// Flips 1–4 random bytes, or truncates at a random length (one case in four).
std::string mutate(const std::string& original, std::mt19937& rng) {
    std::string bytes = original;
    if (rng() % 4 == 0) return bytes.substr(0, rng() % bytes.size());
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int i = 0; i < flips; ++i) bytes[rng() % bytes.size()] = static_cast<char>(rng() & 0xff);
    return bytes;
}

// Opens `dir`; on success touches every byte of every view so an out-of-file pointer would fault here.
// Returns whether it opened.
bool open_and_touch(const fs::path& dir) {
    try {
        auto ckpt = llmatc::Checkpoint::open(dir);
        const llmatc_tensor_source* src = ckpt->source();
        unsigned sum = 0;
        for (const auto& name : ckpt->tensor_names()) {
            llmatc_tensor_view view{};
            REQUIRE(src->get(src->ctx, name.c_str(), &view) == LLMATC_OK);
            const auto* p = static_cast<const unsigned char*>(view.data);
            for (uint64_t i = 0; i < view.nbytes; ++i) sum += p[i];
        }
        (void)sum;
        return true;
    } catch (const llmatc::Error& e) {
        REQUIRE(std::string(e.what()).find(dir.string()) != std::string::npos);  // always names the file
        return false;
    }
}

}  // namespace

TEST_CASE("mutated safetensors files open cleanly or fail with an Error", "[checkpoint][fuzz]") {
    TempDir dir;
    write_minimal_config(dir.path());
    const std::string valid = safetensors_bytes({{"a", "F32", {2, 3}, f32_bytes({1, 2, 3, 4, 5, 6})},
                                                 {"b", "BF16", {4}, u16_bytes({1, 2, 3, 4})},
                                                 {"c", "F16", {1, 2}, u16_bytes({5, 6})}});
    std::mt19937 rng(20240611);
    int failures = 0;
    for (int i = 0; i < 1500; ++i) {
        write_file(dir / "model.safetensors", mutate(valid, rng));
        if (!open_and_touch(dir.path())) ++failures;
    }
    CHECK(failures > 0);  // the mutations do reach the validation
}

TEST_CASE("mutated pickles are refused with an Error, never crash", "[checkpoint][fuzz][torch]") {
    const TempDir* fx = torch_fixtures();
    if (!fx) return;
    const std::string valid = read_file(*fx / "state_dict.pkl");
    REQUIRE(llmatc::checkpoint_detail::unpickle_state_dict(
                {reinterpret_cast<const uint8_t*>(valid.data()), valid.size()}, "state_dict.pkl")
                .size() == 7);
    std::mt19937 rng(7);
    int refused = 0;
    for (int i = 0; i < 5000; ++i) {
        const std::string bytes = mutate(valid, rng);
        const std::vector<uint8_t> exact(bytes.begin(), bytes.end());  // exactly sized: ASan sees any overread
        try {
            llmatc::checkpoint_detail::unpickle_state_dict(exact, "state_dict.pkl");
        } catch (const llmatc::Error&) {
            ++refused;
        }
    }
    CHECK(refused > 0);
}

TEST_CASE("mutated pytorch_model.bin archives open cleanly or fail with an Error", "[checkpoint][fuzz][torch]") {
    const TempDir* fx = torch_fixtures();
    if (!fx) return;
    const std::string valid = read_file(*fx / "single" / "pytorch_model.bin");
    TempDir dir;
    write_minimal_config(dir.path());
    std::mt19937 rng(99);
    int failures = 0;
    for (int i = 0; i < 800; ++i) {
        write_file(dir / "pytorch_model.bin", mutate(valid, rng));
        if (!open_and_touch(dir.path())) ++failures;
    }
    CHECK(failures > 0);
}
