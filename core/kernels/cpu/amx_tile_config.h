// core/kernels/cpu/amx_tile_config.h — the AMX tile configuration (LDTILECFG's 64-byte operand) and its loading,
// shared by the AMX kernels (isa_amx_bf16.cpp, isa_amx_int8.cpp). Include only from files compiled with AMX flags.
#pragma once

#include <cstdint>

namespace llmatc::cpu {

// The LDTILECFG operand (palette 1).
struct alignas(64) TileConfig {
    uint8_t palette;
    uint8_t start_row;
    uint8_t reserved[14];
    uint16_t colsb[16];  // bytes per row of each tile
    uint8_t rows[16];    // rows of each tile
};
static_assert(sizeof(TileConfig) == 64);

// Loads cfg as the tile configuration. Not _tile_loadconfig: GCC 12 does not see that its builtin reads cfg, drops
// the stores that filled it once this is inlined, and loads an empty configuration (the next tile instruction then
// raises SIGILL).
inline void load_tile_config(const TileConfig& cfg) { __asm__ volatile("ldtilecfg %0" : : "m"(cfg)); }

}  // namespace llmatc::cpu
