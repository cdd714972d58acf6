// tests/core/kernels/test_errors.cpp — bad input to the CPU backend gives a status and a message naming the
// problem, never a crash.
#include <string>

#include "test_support.h"

using namespace llmatc;
using namespace llmatc::test;

namespace {

// Requires `status` to be `expected` and the thread's error message to contain `fragment`.
void require_error(llmatc_status status, llmatc_status expected, const std::string& fragment) {
    INFO("message: " << thread_error());
    REQUIRE(status == expected);
    REQUIRE(thread_error().find(fragment) != std::string::npos);
}

}  // namespace

TEST_CASE("weight_create rejects malformed tensors with a clear message", "[errors]") {
    TestBackend b(2, cpu::best_isa());
    const EncodedTensor t = encode(std::vector<float>(6 * 40, 0.5f), LLMATC_DTYPE_F32);
    llmatc_weight* w = nullptr;

    llmatc_tensor_view view = make_view(t, {6, 40});
    view.nbytes -= 4;
    require_error(b.k->weight_create(b.ctx, &view, LLMATC_DTYPE_F32, &w), LLMATC_ERR_CORRUPT, "should have 960 bytes");

    view = make_view(t, {6, 40});
    require_error(b.k->weight_create(b.ctx, &view, LLMATC_DTYPE_Q8_0, &w), LLMATC_ERR_INVALID_ARGUMENT,
                  "not a multiple of 32");

    view = make_view(t, {2, 3, 40});
    require_error(b.k->weight_create(b.ctx, &view, LLMATC_DTYPE_F32, &w), LLMATC_ERR_UNSUPPORTED, "3 dims");

    view = make_view(t, {6, 40});
    view.dtype = LLMATC_DTYPE_I64;
    require_error(b.k->weight_create(b.ctx, &view, LLMATC_DTYPE_F32, &w), LLMATC_ERR_UNSUPPORTED,
                  "source dtype I64");

    view = make_view(t, {6, 40});
    require_error(b.k->weight_create(b.ctx, &view, LLMATC_DTYPE_I32, &w), LLMATC_ERR_UNSUPPORTED,
                  "storage dtype I32");

    view = make_view(t, {6, 40});
    require_error(b.k->weight_create(b.ctx, &view, LLMATC_DTYPE_Q4_K, &w), LLMATC_ERR_INVALID_ARGUMENT,
                  "not a multiple of 256");

    view = make_view(t, {6, 40});
    view.data = nullptr;
    require_error(b.k->weight_create(b.ctx, &view, LLMATC_DTYPE_F32, &w), LLMATC_ERR_INVALID_ARGUMENT, "NULL");
    REQUIRE(w == nullptr);
}

TEST_CASE("kernels reject bad arguments with a clear message", "[errors]") {
    TestBackend b(2, cpu::best_isa());
    const EncodedTensor t = encode(std::vector<float>(4 * 8, 0.25f), LLMATC_DTYPE_F32);
    const llmatc_tensor_view view = make_view(t, {4, 8});
    llmatc_weight* table = nullptr;
    LLMATC_REQUIRE_OK(b.k->weight_create(b.ctx, &view, LLMATC_DTYPE_F32, &table));
    std::vector<float> out(64);

    const int32_t ids[] = {1, 4};
    require_error(b.k->embedding(b.ctx, table, ids, 2, out.data()), LLMATC_ERR_INVALID_ARGUMENT,
                  "token id 4 at index 1 is outside [0, 4)");
    require_error(b.k->rmsnorm(b.ctx, out.data(), table, 1, 32, 1e-5f, out.data()), LLMATC_ERR_INVALID_ARGUMENT,
                  "rmsnorm");
    const int32_t positions[] = {0};
    require_error(b.k->rope(b.ctx, out.data(), positions, 1, 1, 7, 10000.0f, 1.0f), LLMATC_ERR_INVALID_ARGUMENT,
                  "head_dim 7 must be even");
    require_error(b.k->matmul(b.ctx, table, nullptr, 1, out.data()), LLMATC_ERR_INVALID_ARGUMENT, "x is NULL");
    b.k->weight_destroy(b.ctx, table);

    // A block table that points outside the cache, and a sequence whose blocks cannot hold its tokens.
    void* k_layer = b.k->alloc(b.ctx, 4 * 2 * 8 * sizeof(float));
    void* v_layer = b.k->alloc(b.ctx, 4 * 2 * 8 * sizeof(float));
    void* const k_layers[] = {k_layer};
    void* const v_layers[] = {v_layer};
    llmatc_kv_cache cache{sizeof(llmatc_kv_cache), LLMATC_ABI_VERSION, LLMATC_DTYPE_F32, 1, 1, 8, 2, 4,
                          k_layers, v_layers};
    const int32_t bad_table[] = {9};
    llmatc_batch_seq seq{bad_table, 1, 0, 2, 0};
    llmatc_batch batch{};
    batch.struct_size = sizeof(batch);
    batch.n_tokens = 2;
    batch.n_seqs = 1;
    batch.seqs = &seq;
    require_error(b.k->kv_write(b.ctx, &cache, 0, &batch, out.data(), out.data()), LLMATC_ERR_INVALID_ARGUMENT,
                  "block table entry 0 = 9 is outside [0, 4)");
    const int32_t short_table[] = {1};
    seq = llmatc_batch_seq{short_table, 1, 1, 2, 0};
    require_error(b.k->attention(b.ctx, &cache, 0, &batch, out.data(), 1, 1.0f, out.data()),
                  LLMATC_ERR_INVALID_ARGUMENT, "needs 3 tokens");
    require_error(b.k->attention(b.ctx, &cache, 1, &batch, out.data(), 1, 1.0f, out.data()),
                  LLMATC_ERR_INVALID_ARGUMENT, "layer 1 is outside [0, 1)");
    b.k->free(b.ctx, k_layer);
    b.k->free(b.ctx, v_layer);
}
