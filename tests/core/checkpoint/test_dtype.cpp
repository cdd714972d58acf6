// tests/core/checkpoint/test_dtype.cpp — F16/BF16 → F32 conversion, element sizes and dtype names.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>

#include "checkpoint/dtype.h"

using namespace llmatc;

TEST_CASE("f16_to_f32 converts normals, subnormals, zeros, infinities and NaN exactly", "[dtype]") {
    CHECK(f16_to_f32(0x3c00) == 1.0f);
    CHECK(f16_to_f32(0xc000) == -2.0f);
    CHECK(f16_to_f32(0x3555) == Approx(0.333251953125f).epsilon(0));
    CHECK(f16_to_f32(0x7bff) == 65504.0f);                       // largest half
    CHECK(f16_to_f32(0x0400) == std::ldexp(1.0f, -14));          // smallest normal
    CHECK(f16_to_f32(0x0001) == std::ldexp(1.0f, -24));          // smallest subnormal
    CHECK(f16_to_f32(0x03ff) == std::ldexp(1023.0f, -24));       // largest subnormal
    CHECK(f16_to_f32(0x0000) == 0.0f);
    CHECK(std::signbit(f16_to_f32(0x8000)));
    CHECK(std::isinf(f16_to_f32(0x7c00)));
    CHECK(f16_to_f32(0xfc00) < 0);
    CHECK(std::isnan(f16_to_f32(0x7e00)));
}

TEST_CASE("f16_to_f32 agrees with the arithmetic definition for every finite half", "[dtype]") {
    for (uint32_t h = 0; h < 0x10000; ++h) {
        const uint32_t exponent = (h >> 10) & 0x1f, mantissa = h & 0x3ff;
        if (exponent == 0x1f) continue;
        const float magnitude = exponent == 0 ? std::ldexp(static_cast<float>(mantissa), -24)
                                              : std::ldexp(1.0f + mantissa / 1024.0f, static_cast<int>(exponent) - 15);
        const float expected = (h & 0x8000) ? -magnitude : magnitude;
        REQUIRE(f16_to_f32(static_cast<uint16_t>(h)) == expected);
    }
}

TEST_CASE("bf16_to_f32 is the upper half of a float", "[dtype]") {
    CHECK(bf16_to_f32(0x3f80) == 1.0f);
    CHECK(bf16_to_f32(0xc040) == -3.0f);
    CHECK(bf16_to_f32(0x3e80) == 0.25f);
    const float pi = 3.14159265f;
    uint32_t bits;
    std::memcpy(&bits, &pi, 4);
    const float truncated = bf16_to_f32(static_cast<uint16_t>(bits >> 16));
    CHECK(std::fabs(truncated - pi) < 0.02f);
    CHECK(std::isinf(bf16_to_f32(0x7f80)));
}

TEST_CASE("element sizes and names of dtypes", "[dtype]") {
    CHECK(dtype_element_size(LLMATC_DTYPE_F32) == 4);
    CHECK(dtype_element_size(LLMATC_DTYPE_F16) == 2);
    CHECK(dtype_element_size(LLMATC_DTYPE_BF16) == 2);
    CHECK(dtype_element_size(LLMATC_DTYPE_I64) == 8);
    CHECK(dtype_element_size(LLMATC_DTYPE_Q4_0) == 0);
    CHECK(std::string(dtype_name(LLMATC_DTYPE_BF16)) == "BF16");
    CHECK(checkpoint_dtype_from_name("F16") == LLMATC_DTYPE_F16);
    CHECK_FALSE(checkpoint_dtype_from_name("F64").has_value());
    CHECK_FALSE(checkpoint_dtype_from_name("I8").has_value());
}
