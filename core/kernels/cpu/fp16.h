// core/kernels/cpu/fp16.h — scalar conversions between F32 and the 16-bit float formats (IEEE half, bfloat16).
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

namespace llmatc::cpu {

inline float bits_to_f32(uint32_t bits) {
    float f;
    std::memcpy(&f, &bits, sizeof f);
    return f;
}

inline uint32_t f32_to_bits(float f) {
    uint32_t bits;
    std::memcpy(&bits, &f, sizeof bits);
    return bits;
}

// IEEE 754 binary16 -> binary32; exact for every input (subnormals, infinities and NaNs included).
inline float fp16_to_f32(uint16_t h) {
    const uint32_t sign = uint32_t(h & 0x8000u) << 16;
    const uint32_t exponent = (h >> 10) & 0x1fu;
    const uint32_t mantissa = h & 0x3ffu;
    if (exponent == 0) {
        // Zero or subnormal: mantissa * 2^-24 is exact in F32.
        const float magnitude = float(mantissa) * 5.9604644775390625e-8f;
        return bits_to_f32(f32_to_bits(magnitude) | sign);
    }
    if (exponent == 31) return bits_to_f32(sign | 0x7f800000u | (mantissa << 13));
    return bits_to_f32(sign | ((exponent + 112u) << 23) | (mantissa << 13));
}

// binary32 -> binary16 with round-to-nearest-even; overflow gives infinity, NaN stays NaN.
inline uint16_t f32_to_fp16(float f) {
    const uint32_t bits = f32_to_bits(f);
    const uint16_t sign = uint16_t((bits >> 16) & 0x8000u);
    const uint32_t magnitude = bits & 0x7fffffffu;
    if (magnitude >= 0x7f800000u) return uint16_t(sign | 0x7c00u | (magnitude > 0x7f800000u ? 0x200u : 0u));
    if (magnitude >= 0x477ff000u) return uint16_t(sign | 0x7c00u);  // >= 65520 rounds to infinity
    if (magnitude < 0x38800000u) {
        // Below the smallest normal half (2^-14): the result is a subnormal count of 2^-24 units. nearbyint rounds
        // half to even in the default rounding mode; a result of 0x400 is correctly the smallest normal.
        const float units = std::nearbyint(bits_to_f32(magnitude) * 16777216.0f);
        return uint16_t(sign | uint16_t(units));
    }
    const uint32_t exponent = (magnitude >> 23) - 112u;
    const uint32_t mantissa = magnitude & 0x7fffffu;
    uint32_t half = (exponent << 10) | (mantissa >> 13);
    const uint32_t remainder = mantissa & 0x1fffu;
    if (remainder > 0x1000u || (remainder == 0x1000u && (half & 1u))) ++half;  // carries into the exponent correctly
    return uint16_t(sign | half);
}

inline float bf16_to_f32(uint16_t b) { return bits_to_f32(uint32_t(b) << 16); }

// binary32 -> bfloat16 with round-to-nearest-even; NaN stays a (quiet) NaN.
inline uint16_t f32_to_bf16(float f) {
    uint32_t bits = f32_to_bits(f);
    if ((bits & 0x7fffffffu) > 0x7f800000u) return uint16_t((bits >> 16) | 0x40u);
    bits += 0x7fffu + ((bits >> 16) & 1u);
    return uint16_t(bits >> 16);
}

}  // namespace llmatc::cpu
