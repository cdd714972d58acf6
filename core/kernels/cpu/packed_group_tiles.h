// core/kernels/cpu/packed_group_tiles.h — the loop every kernel on a 16-row packed quantized layout (Q8_0 / Q4_0 in
// quant_packed.h, Q4_K / Q5_K / Q6_K in quant_q4_k_packed.h, quant_q5_k_packed.h, quant_q6_k_packed.h) runs over
// activation blocks, weight groups and activation-row tiles, whatever its instruction set. Plain C++: include from
// any ISA's translation unit.
#pragma once

#include <algorithm>
#include <cstdint>
#include <type_traits>

#include "kernels/cpu/quant_packed.h"
#include "kernels/cpu/quant_q4_k_packed.h"

namespace llmatc::cpu {

static_assert(kPackRows == kQ4KPackRows, "both packed quantized layouts group 16 rows");

// Output columns [row_begin, row_end) (row_begin a multiple of 16) of y = x · W^T for n activation rows: the
// activation rows go in blocks of 64, kept hot in L2 while every weight group of the range passes over them, in
// tiles of kTileRows rows and then single rows. tile(std::integral_constant<int, NX>, x_row, group, first_row,
// valid_rows) computes activation rows x_row .. x_row + NX - 1 times weight group `group`, whose rows are
// first_row .. first_row + valid_rows - 1 of W (valid_rows <= 16: the range's end may cut the last group).
template <int kTileRows, typename Tile>
void for_each_packed_group_tile(int64_t n, int64_t row_begin, int64_t row_end, Tile&& tile) {
    constexpr int64_t kXBlockRows = 64;
    for (int64_t xb = 0; xb < n; xb += kXBlockRows) {
        const int64_t nb = std::min(kXBlockRows, n - xb);
        for (int64_t r = row_begin; r < row_end; r += kPackRows) {
            const int valid = int(std::min<int64_t>(kPackRows, row_end - r));
            int64_t i = 0;
            for (; i + kTileRows <= nb; i += kTileRows)
                tile(std::integral_constant<int, kTileRows>{}, xb + i, r / kPackRows, r, valid);
            for (; i < nb; ++i) tile(std::integral_constant<int, 1>{}, xb + i, r / kPackRows, r, valid);
        }
    }
}

}  // namespace llmatc::cpu
