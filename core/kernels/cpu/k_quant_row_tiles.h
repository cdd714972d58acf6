// core/kernels/cpu/k_quant_row_tiles.h — the loop every row-order K-quant kernel (Q5_K, Q6_K read in GGUF's layout)
// runs over weight rows and activation-row tiles, whatever its instruction set. Plain C++: include from any ISA's
// translation unit.
#pragma once

#include <algorithm>
#include <cstdint>
#include <type_traits>

#include "kernels/cpu/compile_time_count.h"
#include "kernels/cpu/isa_kernels.h"

namespace llmatc::cpu::k_quant {

// Rows [row_begin, row_end) of y = x · W^T for a weight stored row by row as `blocks` super-blocks (WBlock) and
// activations as `blocks` XBlocks per row: activation rows go in blocks of 64 kept hot in L2 while the weight rows
// pass, in tiles of 4 (the last one shorter) that share each unpacked weight block. `tile(std::
// integral_constant<int, NX>, x, blocks, w_row, y, ldy)` computes NX activation rows times one weight row.
template <typename WBlock, typename XBlock, typename Tile>
void matmul_rows_by_tiles(const MatmulProblem& p, int64_t row_begin, int64_t row_end, int64_t blocks, Tile tile) {
    constexpr int kTileRows = 4;
    const auto* w = static_cast<const WBlock*>(p.w);
    const auto* xq = static_cast<const XBlock*>(p.x_q8);
    constexpr int64_t kXBlockRows = 64;
    for (int64_t xb = 0; xb < p.n; xb += kXBlockRows) {
        const int64_t nb = std::min(kXBlockRows, p.n - xb);
        for (int64_t r = row_begin; r < row_end; ++r) {
            const WBlock* w_row = w + r * blocks;
            int64_t i = 0;
            auto run = [&](auto nx) {
                tile(nx, xq + (xb + i) * blocks, blocks, w_row, p.y + (xb + i) * p.rows + r, p.rows);
            };
            for (; i + kTileRows <= nb; i += kTileRows) run(std::integral_constant<int, kTileRows>{});
            if (i < nb) with_count<kTileRows - 1>(int(nb - i), run);
        }
    }
}

}  // namespace llmatc::cpu::k_quant
