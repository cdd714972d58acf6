// tests/core/kernels/test_support.cpp — the CPU kernel tests' shared helpers.
#include "test_support.h"

#include <cstring>

#include "kernels/cpu/cpu_weight.h"
#include "kernels/cpu/fp16.h"

namespace llmatc::test {

std::vector<cpu::Isa> available_isas() {
    std::vector<cpu::Isa> isas;
    for (cpu::Isa isa : cpu::kIsaLevels)
        if (cpu::isa_supported(isa)) isas.push_back(isa);
    return isas;
}

TestBackend::TestBackend(int n_threads, cpu::Isa isa)
    : owner(cpu::create_cpu_backend_for_isa(n_threads, isa)),
      k(owner->table()),
      ctx(k->ctx),
      label(std::string(cpu::isa_name(isa)) + " x" + std::to_string(n_threads) + " threads") {}

EncodedTensor encode(const std::vector<float>& values, llmatc_dtype dtype) {
    EncodedTensor t{dtype, {}, {}};
    t.decoded.resize(values.size());
    if (dtype == LLMATC_DTYPE_F32) {
        t.bytes.resize(values.size() * 4);
        std::memcpy(t.bytes.data(), values.data(), t.bytes.size());
        t.decoded = values;
        return t;
    }
    t.bytes.resize(values.size() * 2);
    auto* out = reinterpret_cast<uint16_t*>(t.bytes.data());
    for (size_t i = 0; i < values.size(); ++i) {
        if (dtype == LLMATC_DTYPE_F16) {
            out[i] = cpu::f32_to_fp16(values[i]);
            t.decoded[i] = cpu::fp16_to_f32(out[i]);
        } else {
            out[i] = cpu::f32_to_bf16(values[i]);
            t.decoded[i] = cpu::bf16_to_f32(out[i]);
        }
    }
    return t;
}

llmatc_tensor_view make_view(const EncodedTensor& t, std::vector<int64_t> shape) {
    llmatc_tensor_view v{};
    v.struct_size = sizeof(v);
    v.abi_version = LLMATC_ABI_VERSION;
    v.dtype = t.dtype;
    v.n_dims = int32_t(shape.size());
    for (int d = 0; d < LLMATC_MAX_DIMS; ++d) v.shape[d] = d < v.n_dims ? shape[size_t(d)] : 1;
    v.data = t.bytes.data();
    v.nbytes = t.bytes.size();
    return v;
}

std::vector<float> weight_values(const llmatc_weight* w) {
    std::vector<float> values(size_t(w->rows * w->cols));
    for (int64_t r = 0; r < w->rows; ++r) cpu::weight_row_to_f32(*w, r, values.data() + r * w->cols);
    return values;
}

void require_close(const std::vector<float>& actual, const std::vector<float>& expected, double atol, double rtol,
                   const std::vector<float>& scale) {
    REQUIRE(actual.size() == expected.size());
    size_t failures = 0, first = 0;
    double worst = 0;
    for (size_t i = 0; i < actual.size(); ++i) {
        const double reference_scale = scale.empty() ? std::fabs(double(expected[i])) : double(scale[i]);
        const double allowed = atol + rtol * reference_scale;
        const double error = std::fabs(double(actual[i]) - double(expected[i]));
        if (!(error <= allowed)) {  // NaN fails too
            if (failures++ == 0) first = i;
            worst = std::max(worst, std::isnan(error) ? std::numeric_limits<double>::infinity() : error);
        }
    }
    if (failures) {
        INFO(failures << " of " << actual.size() << " elements out of tolerance; first at " << first << ": got "
                      << actual[first] << ", expected " << expected[first] << "; worst error " << worst);
        FAIL_CHECK("values differ from the reference");
    }
    REQUIRE(failures == 0);
}

std::vector<float> matmul_with_weight(const llmatc_kernels* k, const llmatc_tensor_view& view, llmatc_dtype storage,
                                      const std::vector<float>& x, int64_t n) {
    llmatc_weight* w = nullptr;
    LLMATC_REQUIRE_OK(k->weight_create(k->ctx, &view, storage, &w));
    REQUIRE(w->packed);
    std::vector<float> y = poisoned(size_t(n * w->rows));
    const llmatc_status status = k->matmul(k->ctx, w, x.data(), n, y.data());
    k->weight_destroy(k->ctx, w);
    LLMATC_REQUIRE_OK(status);
    return y;
}

namespace {

std::unique_ptr<KernelBackend> avx512_backend(int n_threads, bool amx) {
    cpu::CpuBackendOptions options;
    options.amx = amx;
    return cpu::create_cpu_backend_for_isa(n_threads, cpu::Isa::avx512, options);
}

}  // namespace

AmxPair::AmxPair(int n_threads) : vnni(avx512_backend(n_threads, false)), amx(avx512_backend(n_threads, true)) {}

}  // namespace llmatc::test
