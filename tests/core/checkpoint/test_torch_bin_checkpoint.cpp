// tests/core/checkpoint/test_torch_bin_checkpoint.cpp — PyTorch .bin checkpoints written by Debian's torch: good
// ones read zero-copy, hostile and malformed ones refused with a message naming file and tensor.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <cstring>
#include <iostream>

#include "checkpoint/checkpoint.h"
#include "checkpoint/dtype.h"
#include "checkpoint_test_support.h"
#include "torch_fixtures.h"
#include "util/error.h"

using namespace ckpt_test;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {

llmatc_tensor_view get_view(const llmatc::Checkpoint& ckpt, const std::string& name) {
    const llmatc_tensor_source* src = ckpt.source();
    llmatc_tensor_view view{};
    const llmatc_status status = src->get(src->ctx, name.c_str(), &view);
    INFO("tensor " << name << ": " << llmatc::thread_error());
    REQUIRE(status == LLMATC_OK);
    return view;
}

std::vector<float> floats(const llmatc_tensor_view& v) {
    REQUIRE(v.dtype == LLMATC_DTYPE_F32);
    std::vector<float> out(v.nbytes / 4);
    std::memcpy(out.data(), v.data, v.nbytes);
    return out;
}

std::vector<int64_t> view_shape(const llmatc_tensor_view& v) { return {v.shape, v.shape + v.n_dims}; }

// The tensors of make_torch_fixtures.py's good_state_dict(), each aligned to its element size.
void check_good_state_dict(const llmatc::Checkpoint& ckpt) {
    CHECK(ckpt.tensor_names() == std::vector<std::string>{"brain", "half", "positions", "proj.weight", "scalar",
                                                          "slice.high", "slice.low"});
    for (const auto& name : ckpt.tensor_names()) {
        const auto v = get_view(ckpt, name);
        CAPTURE(name);
        CHECK(reinterpret_cast<uintptr_t>(v.data) % llmatc::dtype_element_size(v.dtype) == 0);
    }
    const auto w = get_view(ckpt, "proj.weight");
    CHECK(view_shape(w) == std::vector<int64_t>{3, 4});
    const auto wv = floats(w);
    for (int i = 0; i < 12; ++i) CHECK(wv[i] == static_cast<float>(i));

    const auto pos = get_view(ckpt, "positions");
    CHECK(pos.dtype == LLMATC_DTYPE_I64);
    REQUIRE(pos.nbytes == 40);
    int64_t p[5];
    std::memcpy(p, pos.data, 40);
    CHECK(p[4] == 4);

    const auto half = get_view(ckpt, "half");
    CHECK(half.dtype == LLMATC_DTYPE_F16);
    CHECK(view_shape(half) == std::vector<int64_t>{2, 3});
    for (int i = 0; i < 6; ++i) CHECK(llmatc::f16_to_f32(static_cast<const uint16_t*>(half.data)[i]) == 0.5f * i);

    const auto brain = get_view(ckpt, "brain");
    CHECK(brain.dtype == LLMATC_DTYPE_BF16);
    for (int i = 0; i < 4; ++i) CHECK(llmatc::bf16_to_f32(static_cast<const uint16_t*>(brain.data)[i]) == i - 2.0f);

    // Views into one shared storage at offsets 2 and 5.
    CHECK(floats(get_view(ckpt, "slice.low")) == std::vector<float>{2, 3, 4});
    const auto high = get_view(ckpt, "slice.high");
    CHECK(view_shape(high) == std::vector<int64_t>{2, 2});
    CHECK(floats(high) == std::vector<float>{5, 6, 7, 8});

    const auto scalar = get_view(ckpt, "scalar");
    CHECK(scalar.n_dims == 1);
    CHECK(floats(scalar) == std::vector<float>{4.25f});
}

}  // namespace

TEST_CASE("pytorch_model.bin from torch.save(state_dict) is read, zero-copy", "[checkpoint][torch]") {
    const TempDir* fx = torch_fixtures();
    if (!fx) return;
    const fs::path dir = *fx / "single";
    auto ckpt = llmatc::Checkpoint::open(dir);
    check_good_state_dict(*ckpt);
    // Stored entries are served from the mapping: the bytes at the view are the file's, at an address mapped from it.
    const std::string file = read_file(dir / "pytorch_model.bin");
    const auto w = get_view(*ckpt, "proj.weight");
    const std::string bytes(static_cast<const char*>(w.data), w.nbytes);
    CHECK(file.find(bytes) != std::string::npos);
    for (const auto& name : ckpt->tensor_names()) {
        CAPTURE(name);
        CHECK(is_mapped_from(get_view(*ckpt, name).data, dir / "pytorch_model.bin"));
    }
    // The two slices share one storage, so their views sit 3 floats apart in it.
    CHECK(static_cast<const float*>(get_view(*ckpt, "slice.high").data) -
              static_cast<const float*>(get_view(*ckpt, "slice.low").data) == 3);
}

TEST_CASE("a deflate-compressed archive is decompressed through libzip", "[checkpoint][torch]") {
    const TempDir* fx = torch_fixtures();
    if (!fx) return;
    check_good_state_dict(*llmatc::Checkpoint::open(*fx / "compressed"));
}

TEST_CASE("newer torch.save records (byteorder, .data/) and zip64 archives are understood", "[checkpoint][torch]") {
    const TempDir* fx = torch_fixtures();
    if (!fx) return;
    check_good_state_dict(*llmatc::Checkpoint::open(*fx / "torch2_records"));
    check_good_state_dict(*llmatc::Checkpoint::open(*fx / "zip64"));  // sizes and offsets in zip64 records
    CHECK_THAT(open_error(*fx / "bad_big_endian"), Contains("pytorch_model.bin") && Contains("byte order 'big'"));
}

TEST_CASE("nn.Parameter values and sharded pytorch_model-*.bin with their index", "[checkpoint][torch]") {
    const TempDir* fx = torch_fixtures();
    if (!fx) return;
    auto params = llmatc::Checkpoint::open(*fx / "parameters");
    CHECK(floats(get_view(*params, "w")) == std::vector<float>{0, 1, 2, 3, 4, 5});

    auto sharded = llmatc::Checkpoint::open(*fx / "sharded");
    CHECK(sharded->tensor_names() == std::vector<std::string>{"a.weight", "b.weight"});
    CHECK(floats(get_view(*sharded, "a.weight")) == std::vector<float>{0, 1, 2, 3});
    const auto b = get_view(*sharded, "b.weight");
    CHECK(b.dtype == LLMATC_DTYPE_F16);
    CHECK(view_shape(b) == std::vector<int64_t>{3, 2});
    CHECK(llmatc::f16_to_f32(static_cast<const uint16_t*>(b.data)[5]) == 5.0f);
}

TEST_CASE("hostile pickles are refused and never executed", "[checkpoint][torch][errors]") {
    const TempDir* fx = torch_fixtures();
    if (!fx) return;
    int status = 0;
    const std::string msg = open_error(*fx / "bad_os_system", &status);
    CHECK_THAT(msg, Contains("pytorch_model.bin") && Contains("refused pickle global") && Contains("system"));
    CHECK(status == LLMATC_ERR_UNSUPPORTED);
    CHECK_FALSE(fs::exists(*fx / "os_system_was_called"));
    CHECK_THAT(open_error(*fx / "bad_eval"), Contains("pytorch_model.bin") && Contains("eval'"));
    CHECK_THAT(open_error(*fx / "bad_list_root"), Contains("pytorch_model.bin") && Contains("not a state dict"));
}

TEST_CASE("malformed PyTorch checkpoints name the file and the tensor", "[checkpoint][torch][errors]") {
    const TempDir* fx = torch_fixtures();
    if (!fx) return;
    int status = 0;
    CHECK_THAT(open_error(*fx / "bad_noncontiguous", &status),
               Contains("pytorch_model.bin") && Contains("transposed.weight") && Contains("non-contiguous"));
    CHECK(status == LLMATC_ERR_UNSUPPORTED);
    CHECK_THAT(open_error(*fx / "bad_not_tensor"), Contains("pytorch_model.bin") && Contains("'step'") && Contains("not a tensor"));
    CHECK_THAT(open_error(*fx / "bad_double"), Contains("double.weight") && Contains("unsupported dtype torch.DoubleStorage"));
    CHECK_THAT(open_error(*fx / "bad_truncated", &status), Contains("pytorch_model.bin"));
    CHECK(status == LLMATC_ERR_CORRUPT);
    CHECK_THAT(open_error(*fx / "bad_legacy"), Contains("pytorch_model.bin") && Contains("legacy"));
    CHECK_THAT(open_error(*fx / "bad_missing_storage"), Contains("pytorch_model.bin") && Contains("tensor '") &&
                                                            Contains("data/0") && Contains("missing"));
    CHECK_THAT(open_error(*fx / "bad_missing_shard", &status),
               Contains("pytorch_model.bin.index.json") && Contains("pytorch_model-00002-of-00002.bin") && Contains("b.weight"));
    CHECK(status == LLMATC_ERR_NOT_FOUND);
}
