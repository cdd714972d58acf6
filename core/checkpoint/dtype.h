// core/checkpoint/dtype.h — header-only dtype helpers: element sizes, names, and F16/BF16 → F32 conversion.
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <string_view>

#include "llmatc/kernels.h"

namespace llmatc {

// Bytes per element of an element-wise dtype; 0 for block-quantized types (their size depends on the block
// layout, not on an element count) and for values outside the enum.
inline size_t dtype_element_size(llmatc_dtype dtype) noexcept {
    switch (dtype) {
        case LLMATC_DTYPE_F32: return 4;
        case LLMATC_DTYPE_F16: return 2;
        case LLMATC_DTYPE_BF16: return 2;
        case LLMATC_DTYPE_I32: return 4;
        case LLMATC_DTYPE_I64: return 8;
        case LLMATC_DTYPE_Q8_0:
        case LLMATC_DTYPE_Q4_0:
        case LLMATC_DTYPE_Q4_K:
        case LLMATC_DTYPE_Q6_K:
        case LLMATC_DTYPE_Q5_K: return 0;
    }
    return 0;
}

// The safetensors spelling of a dtype ("F32", "BF16" ...), used in messages too; "?" for values outside the enum.
inline const char* dtype_name(llmatc_dtype dtype) noexcept {
    switch (dtype) {
        case LLMATC_DTYPE_F32: return "F32";
        case LLMATC_DTYPE_F16: return "F16";
        case LLMATC_DTYPE_BF16: return "BF16";
        case LLMATC_DTYPE_Q8_0: return "Q8_0";
        case LLMATC_DTYPE_Q4_0: return "Q4_0";
        case LLMATC_DTYPE_Q4_K: return "Q4_K";
        case LLMATC_DTYPE_Q6_K: return "Q6_K";
        case LLMATC_DTYPE_Q5_K: return "Q5_K";
        case LLMATC_DTYPE_I32: return "I32";
        case LLMATC_DTYPE_I64: return "I64";
    }
    return "?";
}

// Parses a safetensors dtype string into one a checkpoint tensor may have (F32, F16, BF16, I32, I64);
// nullopt for anything else (F64, I8, U8, BOOL, F8_* ...), which the readers report as unsupported.
inline std::optional<llmatc_dtype> checkpoint_dtype_from_name(std::string_view name) noexcept {
    if (name == "F32") return LLMATC_DTYPE_F32;
    if (name == "F16") return LLMATC_DTYPE_F16;
    if (name == "BF16") return LLMATC_DTYPE_BF16;
    if (name == "I32") return LLMATC_DTYPE_I32;
    if (name == "I64") return LLMATC_DTYPE_I64;
    return std::nullopt;
}

// IEEE 754 half → single, exact for every input (subnormals, infinities and NaN payloads included).
inline float f16_to_f32(uint16_t h) noexcept {
    const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
    const uint32_t exponent = (h >> 10) & 0x1fu;
    uint32_t mantissa = h & 0x3ffu;
    uint32_t bits;
    if (exponent == 0x1f) {
        bits = sign | 0x7f800000u | (mantissa << 13);  // inf / NaN
    } else if (exponent != 0) {
        bits = sign | ((exponent + 112u) << 23) | (mantissa << 13);  // normal: rebias 15 → 127
    } else if (mantissa == 0) {
        bits = sign;  // ±0
    } else {
        // Subnormal half: normalise the mantissa into a normal float.
        uint32_t e = 113;
        while ((mantissa & 0x400u) == 0) {
            mantissa <<= 1;
            --e;
        }
        bits = sign | (e << 23) | ((mantissa & 0x3ffu) << 13);
    }
    float f;
    std::memcpy(&f, &bits, sizeof f);
    return f;
}

// bfloat16 → single: bfloat16 is the upper half of a float, so this is exact.
inline float bf16_to_f32(uint16_t b) noexcept {
    const uint32_t bits = static_cast<uint32_t>(b) << 16;
    float f;
    std::memcpy(&f, &bits, sizeof f);
    return f;
}

}  // namespace llmatc
