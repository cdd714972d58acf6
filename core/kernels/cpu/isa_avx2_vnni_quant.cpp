// core/kernels/cpu/isa_avx2_vnni_quant.cpp — AVX2 matmul for block-quantized weights in the 16-row interleaved
// layouts with AVX-VNNI's vpdpbusd on 256-bit registers (isa_avx2_quant_impl.h; Alder Lake and later, Zen 4 and
// later). Compiled with AVX2 + FMA + F16C + AVX-VNNI flags only; called only by the avx2-vnni level.
#include "kernels/cpu/isa_avx2_quant.h"
#include "kernels/cpu/isa_avx2_quant_impl.h"

namespace llmatc::cpu {

bool avx2_vnni_packed_quant_matmul(const MatmulProblem& p, int64_t row_begin, int64_t row_end) {
    return avx2_quant_impl::packed_quant_matmul<true>(p, row_begin, row_end);
}

}  // namespace llmatc::cpu
