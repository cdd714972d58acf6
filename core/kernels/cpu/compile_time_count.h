// core/kernels/cpu/compile_time_count.h — turns a small run-time count (rows of a tile, groups of a run) into a
// compile-time one, so a kernel's register tile is instantiated for each size it meets. Plain C++.
#pragma once

#include <type_traits>

namespace llmatc::cpu {

// Calls body(std::integral_constant<int, C>{}) for C == count, 1 <= count <= kMax; nothing for any other count.
template <int kMax, typename Body>
inline void with_count(int count, Body&& body) {
    if constexpr (kMax >= 1) {
        if (count == kMax) {
            body(std::integral_constant<int, kMax>{});
            return;
        }
        with_count<kMax - 1>(count, body);
    }
}

}  // namespace llmatc::cpu
