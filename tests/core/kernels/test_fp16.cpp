// tests/core/kernels/test_fp16.cpp — the scalar F16/BF16 conversions: exact decoding, round-to-nearest-even
// encoding, infinities and NaNs.
#include <cmath>
#include <limits>

#include <catch2/catch.hpp>

#include "kernels/cpu/fp16.h"

using namespace llmatc::cpu;

TEST_CASE("every finite half survives a round trip through F32", "[fp16]") {
    for (uint32_t h = 0; h < 0x10000u; ++h) {
        const float f = fp16_to_f32(uint16_t(h));
        if (std::isnan(f)) {
            REQUIRE((h & 0x7c00u) == 0x7c00u);
            REQUIRE(std::isnan(fp16_to_f32(f32_to_fp16(f))));
            continue;
        }
        INFO("half 0x" << std::hex << h);
        REQUIRE(f32_to_fp16(f) == uint16_t(h));
    }
}

TEST_CASE("half decoding and rounding", "[fp16]") {
    REQUIRE(fp16_to_f32(0x3c00) == 1.0f);
    REQUIRE(fp16_to_f32(0xc000) == -2.0f);
    REQUIRE(fp16_to_f32(0x7bff) == 65504.0f);
    REQUIRE(fp16_to_f32(0x0001) == std::ldexp(1.0f, -24));
    REQUIRE(std::isinf(fp16_to_f32(0x7c00)));
    // 1 + 2^-11 is halfway between 1 and the next half: ties to even (1.0); 1 + 3 * 2^-11 ties up to even.
    REQUIRE(f32_to_fp16(1.0f + std::ldexp(1.0f, -11)) == 0x3c00);
    REQUIRE(f32_to_fp16(1.0f + 3 * std::ldexp(1.0f, -11)) == 0x3c02);
    REQUIRE(f32_to_fp16(65519.0f) == 0x7bff);
    REQUIRE(f32_to_fp16(65520.0f) == 0x7c00);
    REQUIRE(f32_to_fp16(-1e10f) == 0xfc00);
    REQUIRE(f32_to_fp16(std::ldexp(1.0f, -25)) == 0x0000);            // tie between 0 and the smallest subnormal
    REQUIRE(f32_to_fp16(std::ldexp(1.5f, -25)) == 0x0001);
    REQUIRE(f32_to_fp16(std::numeric_limits<float>::quiet_NaN()) != 0x7c00);
}

TEST_CASE("bfloat16 conversion", "[fp16]") {
    REQUIRE(bf16_to_f32(0x3f80) == 1.0f);
    REQUIRE(f32_to_bf16(1.0f) == 0x3f80);
    // 1 + 2^-8 is a tie: to even (1.0); 1 + 3 * 2^-8 ties up.
    REQUIRE(f32_to_bf16(1.0f + std::ldexp(1.0f, -8)) == 0x3f80);
    REQUIRE(f32_to_bf16(1.0f + 3 * std::ldexp(1.0f, -8)) == 0x3f82);
    REQUIRE(std::isnan(bf16_to_f32(f32_to_bf16(std::numeric_limits<float>::quiet_NaN()))));
    for (uint32_t b = 0; b < 0x10000u; ++b) {
        const float f = bf16_to_f32(uint16_t(b));
        if (!std::isnan(f)) REQUIRE(f32_to_bf16(f) == uint16_t(b));
    }
}
