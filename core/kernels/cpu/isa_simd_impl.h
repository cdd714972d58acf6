// core/kernels/cpu/isa_simd_impl.h — the float kernels written once over a SIMD "vector traits" type, instantiated
// by each ISA's translation unit (compiled with that ISA's flags). Include only from isa_<level>.cpp.
//
// A traits type V provides: kLanes; Reg; zero(); set1(float); loadu(const float*); storeu(float*, Reg);
// load_f16(const uint16_t*); load_bf16(const uint16_t*); fmadd(a, b, c) = a * b + c; mul(a, b); reduce(Reg).
#pragma once

#include <algorithm>
#include <cstdint>

#include "kernels/cpu/fp16.h"
#include "kernels/cpu/isa_kernels.h"

namespace llmatc::cpu::simd {

template <class V, llmatc_dtype D>
inline typename V::Reg load_weight(const void* w, int64_t index) {
    if constexpr (D == LLMATC_DTYPE_F32) {
        return V::loadu(static_cast<const float*>(w) + index);
    } else if constexpr (D == LLMATC_DTYPE_F16) {
        return V::load_f16(static_cast<const uint16_t*>(w) + index);
    } else {
        return V::load_bf16(static_cast<const uint16_t*>(w) + index);
    }
}

template <llmatc_dtype D>
inline float weight_scalar(const void* w, int64_t index) {
    if constexpr (D == LLMATC_DTYPE_F32) {
        return static_cast<const float*>(w)[index];
    } else if constexpr (D == LLMATC_DTYPE_F16) {
        return fp16_to_f32(static_cast<const uint16_t*>(w)[index]);
    } else {
        return bf16_to_f32(static_cast<const uint16_t*>(w)[index]);
    }
}

// Register tile: y[i][j] (i < NX rows of x, j < NW rows of W starting at w_row) over the whole K. Each weight
// vector is converted once and used NX times; NX * NW accumulators hide the FMA latency.
template <class V, llmatc_dtype D, int NX, int NW>
inline void matmul_tile(const float* x, int64_t K, const void* w, int64_t w_row, float* y, int64_t ldy) {
    typename V::Reg acc[NX][NW];
    for (int i = 0; i < NX; ++i)
        for (int j = 0; j < NW; ++j) acc[i][j] = V::zero();
    int64_t k = 0;
    for (; k + V::kLanes <= K; k += V::kLanes) {
        typename V::Reg wv[NW];
        for (int j = 0; j < NW; ++j) wv[j] = load_weight<V, D>(w, (w_row + j) * K + k);
        for (int i = 0; i < NX; ++i) {
            const typename V::Reg xv = V::loadu(x + i * K + k);
            for (int j = 0; j < NW; ++j) acc[i][j] = V::fmadd(xv, wv[j], acc[i][j]);
        }
    }
    for (int i = 0; i < NX; ++i) {
        for (int j = 0; j < NW; ++j) {
            float sum = V::reduce(acc[i][j]);
            for (int64_t t = k; t < K; ++t) sum += x[i * K + t] * weight_scalar<D>(w, (w_row + j) * K + t);
            y[i * ldy + j] = sum;
        }
    }
}

template <class V, llmatc_dtype D, int NX>
inline void matmul_tile_nw(int nw, const float* x, int64_t K, const void* w, int64_t w_row, float* y, int64_t ldy) {
    switch (nw) {
        case 4: matmul_tile<V, D, NX, 4>(x, K, w, w_row, y, ldy); return;
        case 3: matmul_tile<V, D, NX, 3>(x, K, w, w_row, y, ldy); return;
        case 2: matmul_tile<V, D, NX, 2>(x, K, w, w_row, y, ldy); return;
        default: matmul_tile<V, D, NX, 1>(x, K, w, w_row, y, ldy); return;
    }
}

// x rows per L2-resident block: a block of x (kXBlock * K floats) is reused by every weight tile of the range.
constexpr int64_t kXBlock = 64;

template <class V, llmatc_dtype D>
void matmul_rows_typed(const MatmulProblem& p, int64_t row_begin, int64_t row_end) {
    const int64_t K = p.cols;
    if (p.n == 1) {
        // GEMV: memory-bound; 8 weight rows in flight keep enough loads outstanding.
        int64_t r = row_begin;
        for (; r + 8 <= row_end; r += 8) matmul_tile<V, D, 1, 8>(p.x, K, p.w, r, p.y + r, p.rows);
        for (; r < row_end; ++r) matmul_tile<V, D, 1, 1>(p.x, K, p.w, r, p.y + r, p.rows);
        return;
    }
    for (int64_t xb = 0; xb < p.n; xb += kXBlock) {
        const int64_t nb = std::min(kXBlock, p.n - xb);
        for (int64_t r = row_begin; r < row_end; r += 4) {
            const int nw = int(std::min<int64_t>(4, row_end - r));
            int64_t i = 0;
            for (; i + 4 <= nb; i += 4)
                matmul_tile_nw<V, D, 4>(nw, p.x + (xb + i) * K, K, p.w, r, p.y + (xb + i) * p.rows + r, p.rows);
            for (; i < nb; ++i)
                matmul_tile_nw<V, D, 1>(nw, p.x + (xb + i) * K, K, p.w, r, p.y + (xb + i) * p.rows + r, p.rows);
        }
    }
}

}  // namespace llmatc::cpu::simd
