// core/kernels/cpu/float_packed_matmul_impl.h — matmul for F16 / BF16 weights in the 16-row interleaved layout
// (float_packed.h), written once over a "group traits" type and instantiated by the AVX2 and AVX-512 translation
// units (compiled with their flags). Include only from isa_<level>_float_packed.cpp.
//
// Outer-product register tiles over tiled activations: for prefill G::kStepRows* rows x G::kStepGroups* groups (F16
// with G::kF16PrefillViaF32: 8 rows x 1 or 2 groups of weights converted to F32 once per block), for
// decode's streaming GEMV 1 row x G::kGemvGroups groups (the same per-row arithmetic, so batching never changes a
// result; and the same on every ISA, as each row's sum takes its columns in the same order and chunks).
//
// A traits type G holds one group's 16 rows (AVX-512: one zmm; AVX2: two ymm) and provides:
//   Group, Scalar; zero(); broadcast(float) -> Scalar; load_f16(unit) -> Group (a unit's 16 halves);
//   load_bf16(unit, lo, hi) (a unit's 16 pairs: lo the even columns, hi the odd ones); fmadd(Scalar x, w, acc);
//   store(acc, out, valid rows, accumulate); for kBf16Dot also Bf16Pairs, load_pairs(unit), broadcast_pair(uint32_t)
//   and dot_bf16(acc, x pairs, weight pairs) (vdpbf16ps);
//   the tile shapes kGemvGroups, kStepRowsF16/kStepGroupsF16, kStepRowsBf16/kStepGroupsBf16 (at most
//   kActTileRows rows); kAdvanceUnitPointer (how a step addresses its units, see chunk_tile); kF16PrefillViaF32,
//   and where it is true load_f32(unit) (16 floats, 64-byte aligned), f16_to_f32(unit, out) (convert_f16_chunk) and
//   f16_converted_groups() (groups per tile over the converted chunk, 1 or 2, at most kF16ConvertedGroupsMax).
#pragma once

#include <algorithm>
#include <cstdint>
#include <type_traits>

#include "kernels/cpu/compile_time_count.h"
#include "kernels/cpu/float_packed.h"
#include "kernels/cpu/isa_kernels.h"
#include "kernels/cpu/stream_prefetch.h"

namespace llmatc::cpu::float_packed_impl {

// Columns per prefetch step of the GEMV (F16: 256 bytes of each group, 4 cache lines).
constexpr int64_t kPrefetchColumns = 8;

// A unit of D's packed layout (float_packed.h), or for F32 of an F16 chunk converted (convert_f16_chunk): 16 floats,
// one column of a group, 64 bytes.
constexpr int64_t unit_bytes(llmatc_dtype d) { return d == LLMATC_DTYPE_F32 ? 64 : float_packed_unit_bytes(d); }
constexpr int64_t unit_columns(llmatc_dtype d) { return d == LLMATC_DTYPE_F32 ? 1 : float_packed_unit_columns(d); }

// Where a run of consecutive groups of one band lives (float_packed.h): group g of the run starts at
// first + g * group_step, and each group's units are unit_stride bytes apart.
struct GroupRun {
    const uint8_t* first;
    int64_t group_step;
    int64_t unit_stride;
};

// The product of NX activation rows and a run of NG groups over one chunk of kc columns (xt and run.first point at
// its first column), into y (rows of ldy floats), added to y when `accumulate`. When kStream (the run's weights
// come from memory, read once in order), the lines ahead along the run are prefetched; a compile-time choice, so
// prefill's tiles (weights from cache) carry no prefetch code in their loops.
//
// Activations are tiled: per column k, the tile's SX rows' values side by side (F32: xt[k * SX + i]); with BF16
// pairs (kBf16Dot), per column pair p the rows' pairs (xt[p * SX + i]) and one vdpbf16ps per pair. SX is 1 for
// decode's GEMV (x itself) and kActTileRows for prefill; NX <= SX is how many of the tile's rows are computed (a
// batch's last tile holds fewer, and padding rows would cost as much as real ones). Every accumulator acc[i][g]
// takes its columns one by one, in order, starting from zero: the operations that make row i's result do not depend
// on NX, SX, NG, the layout, the ISA or the other rows, so a request's tokens are the same alone and in any batch.
template <class G, llmatc_dtype D, bool kBf16Dot, int NX, int NG, int SX, bool kStream>
void chunk_tile(const void* xt_raw, int64_t kc, const GroupRun& run, float* y, int64_t ldy, int valid_x,
                int valid_last, bool accumulate) {
    typename G::Group acc[NX][NG];
    for (int i = 0; i < NX; ++i)
        for (int g = 0; g < NG; ++g) acc[i][g] = G::zero();
    const uint8_t* chunk = run.first;
    constexpr int64_t kUnit = unit_bytes(D);
    // An F16 run's groups are a unit apart (float_packed.h's bands): with kAdvanceUnitPointer, a constant.
    const int64_t group_step = G::kAdvanceUnitPointer && D == LLMATC_DTYPE_F16 ? kUnit : run.group_step;
    const int64_t unit_stride = run.unit_stride;
    constexpr int64_t kColumnsPerUnit = unit_columns(D);
    // always_inline: left a call of its own, GCC dropped it (stream_prefetch.h), and the GEMV ran unprefetched.
    auto prefetch = [&](int64_t k) __attribute__((always_inline)) {
        if constexpr (kStream) {
            const int64_t unit = k / kColumnsPerUnit, units = kPrefetchColumns / kColumnsPerUnit;
            if (unit_stride == NG * group_step) {  // the run's units side by side: one stream (a whole band)
                prefetch_stream(chunk + unit * unit_stride, units * unit_stride);
            } else if (unit_stride == kUnit) {  // bands of one group: a stream per group
                for (int g = 0; g < NG; ++g) prefetch_stream(chunk + g * group_step + unit * kUnit, units * kUnit);
            } else {  // part of a band: each unit of each group on a line of its own
                for (int g = 0; g < NG; ++g)
                    for (int64_t u = 0; u < units; ++u)
                        prefetch_stream(chunk + g * group_step + (unit + u) * unit_stride, kUnit);
            }
        }
    };
    if constexpr (kBf16Dot) {
        const auto* xt = static_cast<const uint32_t*>(xt_raw);
        auto step = [&](int64_t pair) {
            typename G::Bf16Pairs w[NG];
            for (int g = 0; g < NG; ++g) w[g] = G::load_pairs(chunk + g * group_step + pair * unit_stride);
            for (int i = 0; i < NX; ++i) {
                const typename G::Bf16Pairs xv = G::broadcast_pair(xt[pair * SX + i]);
                for (int g = 0; g < NG; ++g) acc[i][g] = G::dot_bf16(acc[i][g], xv, w[g]);
            }
        };
        const int64_t pairs = (kc + 1) / 2;
        int64_t pair = 0;
        for (; pair + kPrefetchColumns / 2 <= pairs; pair += kPrefetchColumns / 2) {
            prefetch(2 * pair);
            for (int64_t j = 0; j < kPrefetchColumns / 2; ++j) step(pair + j);
        }
        for (; pair < pairs; ++pair) step(pair);
    } else {
        const auto* xt = static_cast<const float*>(xt_raw);
        // unit0: group 0's unit of column k (G::kAdvanceUnitPointer), or chunk.
        auto step = [&](int64_t k, const uint8_t* unit0) {
            typename G::Group lo[NG], hi[NG];
            for (int g = 0; g < NG; ++g) {
                const uint8_t* unit = G::kAdvanceUnitPointer
                                          ? unit0 + g * group_step
                                          : chunk + g * group_step + (k / kColumnsPerUnit) * unit_stride;
                if constexpr (D == LLMATC_DTYPE_F16)
                    lo[g] = G::load_f16(unit);
                else if constexpr (D == LLMATC_DTYPE_F32)
                    lo[g] = G::load_f32(unit);
                else
                    G::load_bf16(unit, lo[g], hi[g]);
            }
            for (int i = 0; i < NX; ++i) {
                const typename G::Scalar x0 = G::broadcast(xt[k * SX + i]);
                for (int g = 0; g < NG; ++g) acc[i][g] = G::fmadd(x0, lo[g], acc[i][g]);
            }
            if constexpr (D == LLMATC_DTYPE_BF16) {
                if (k + 1 < kc)  // an odd last column's partner is a zero weight with no activation
                    for (int i = 0; i < NX; ++i) {
                        const typename G::Scalar x1 = G::broadcast(xt[(k + 1) * SX + i]);
                        for (int g = 0; g < NG; ++g) acc[i][g] = G::fmadd(x1, hi[g], acc[i][g]);
                    }
            }
        };
        // With G::kAdvanceUnitPointer, one pointer advanced column by column and an immediate offset per F16 group
        // (16 general registers: addresses computed per step and group stayed live across the unrolled steps and
        // spilled, AVX2 F16 prefill ~10% slower); otherwise each step's address from k (AVX-512: 0-4% faster so,
        // in noisy A/B runs).
        int64_t k = 0;
        const uint8_t* unit0 = chunk;
        for (; k + kPrefetchColumns <= kc; k += kPrefetchColumns) {
            prefetch(k);
            for (int64_t j = 0; j < kPrefetchColumns; j += kColumnsPerUnit, unit0 += unit_stride) step(k + j, unit0);
        }
        for (; k < kc; k += kColumnsPerUnit, unit0 += unit_stride) step(k, unit0);
    }
    for (int i = 0; i < NX && i < valid_x; ++i)
        for (int g = 0; g < NG; ++g)
            G::store(acc[i][g], y + i * ldy + kFloatPackRows * g, g == NG - 1 ? valid_last : 16, accumulate);
}

// Activation tiles per block: the thread's weight rows stream from memory once per block, and each group pair
// (64 bytes per column) is then reused from L2 by every tile of the block.
constexpr int64_t kTilesPerBlock = 8;
// Columns per chunk: each chunk's sum starts from zero in registers before it is added to y, which keeps F32
// rounding close to a blocked reduction's rather than one long running sum's. Even, so BF16 column pairs never
// straddle chunks; a multiple of kPrefetchColumns.
constexpr int64_t kKChunk = 256;
// A block of activation tiles at most this large (bytes) is computed run by run (every chunk of a run, then the next
// run) rather than chunk by chunk: it stays in L2 whole while the weights stream past once, in order.
constexpr int64_t kRunMajorActivationBytes = 384 << 10;

// F16 prefill with G::kF16PrefillViaF32: each run's chunk (up to a band's 4 groups x kKChunk columns) is converted to
// F32 once per block of tiles, into out[g * kKChunk * 16 + k * 16 + row]: group after group, a column's 16 rows in one
// unit. The tiles then take their weights without a conversion each (vcvtph2ps shares ports with the FMAs: a 4-row x
// 4-group F16 step spent a third of its issue slots converting), on 8 rows x G::f16_converted_groups() groups
// (kernels-bench GEMM, n = 128, 2 threads, virtualised Xeon, 8 x 1: ~181 -> ~225 GFLOP/s; 8 x 2 ~205 there, its
// 32 KiB of weights crowding L1; on Zen 5, 8 x 2 is faster: isa_avx512_float_packed.cpp).
// The conversion is exact, so each row's sums are the same operations as the F16 GEMV's. The chunk comes from memory
// (once per block), so the lines ahead are prefetched as it is read.
template <class G>
void convert_f16_chunk(const GroupRun& run, int groups, int64_t kc, float* out) {
    for (int64_t k = 0; k < kc; ++k) {
        prefetch_stream(run.first + k * run.unit_stride, run.unit_stride);
        for (int g = 0; g < groups; ++g)
            G::f16_to_f32(run.first + g * run.group_step + k * run.unit_stride, out + (g * kKChunk + k) * 16);
    }
}

// matmul_rows for a packed F16 / BF16 weight: output columns [row_begin, row_end), row_begin on a group boundary.
template <class G, llmatc_dtype D, bool kBf16Dot>
void float_packed_matmul(const MatmulProblem& p, int64_t row_begin, int64_t row_end) {
    const int64_t K = p.cols;
    const auto* w = static_cast<const uint8_t*>(p.w);
    constexpr int64_t kUnit = float_packed_unit_bytes(D);
    constexpr int64_t kColumnsPerUnit = float_packed_unit_columns(D);
    // Groups a run may span: an F16 run stays inside its band, whose groups interleave; BF16 groups follow each other.
    constexpr int64_t kBandGroups = D == LLMATC_DTYPE_F16 ? kF16BandGroups : INT64_MAX;
    const int64_t group_step = D == LLMATC_DTYPE_F16 ? kUnit : float_packed_group_bytes(D, K);
    // Ranges start on a group boundary; each run takes up to max_groups groups of one band (16 rows each), its last
    // group may be partial. body(first row, the run's place at column 0, groups, valid rows of the last group).
    auto for_each_run = [&](int max_groups, auto&& body) {
        const int64_t g_end = (row_end + kFloatPackRows - 1) / kFloatPackRows;
        for (int64_t g = row_begin / kFloatPackRows; g < g_end;) {
            const int64_t band_end = kBandGroups == INT64_MAX ? g_end : (g / kBandGroups + 1) * kBandGroups;
            const int64_t run_end = std::min({g + int64_t(max_groups), band_end, g_end});
            const FloatGroupPlace place = float_packed_group_place(D, p.rows, K, g);
            const int64_t last_rows = std::min(row_end, run_end * kFloatPackRows) - (run_end - 1) * kFloatPackRows;
            body(g * kFloatPackRows, GroupRun{w + place.offset, group_step, place.unit_stride}, int(run_end - g),
                 int(last_rows));
            g = run_end;
        }
    };
    // The run's place at chunk k0 (its first column).
    auto at_chunk = [](GroupRun run, int64_t k0) {
        run.first += (k0 / kColumnsPerUnit) * run.unit_stride;
        return run;
    };
    // Where chunk k0 of tile t's activations starts (NX rows per tile).
    auto tile_chunk = [&](int64_t nx, int64_t t, int64_t k0) -> const void* {
        if constexpr (kBf16Dot)
            return p.x_tiles_bf16 + t * nx * ((K + 1) / 2) + (k0 / 2) * nx;
        else
            return (nx == 1 ? p.x : p.x_tiles) + t * nx * K + k0 * nx;
    };
    if (p.n == 1) {
        // GEMV: a run of groups takes every chunk in turn, so its weights stream from memory in order.
        for_each_run(G::kGemvGroups, [&](int64_t r, const GroupRun& run, int groups, int valid_last) {
            for (int64_t k0 = 0; k0 < K; k0 += kKChunk) {
                const int64_t kc = std::min(kKChunk, K - k0);
                with_count<G::kGemvGroups>(groups, [&](auto ng) {
                    chunk_tile<G, D, kBf16Dot, 1, decltype(ng)::value, 1, true>(
                        tile_chunk(1, 0, k0), kc, at_chunk(run, k0), p.y + r, p.rows, 1, valid_last, k0 > 0);
                });
            }
        });
        return;
    }
    constexpr int NX = int(kActTileRows);
    // A step's register tile: kStepRows of a tile's rows x kStepGroups groups.
    constexpr int kStepRows = D == LLMATC_DTYPE_F16 ? G::kStepRowsF16 : G::kStepRowsBf16;
    constexpr int kStepGroups = D == LLMATC_DTYPE_F16 ? G::kStepGroupsF16 : G::kStepGroupsBf16;
    static_assert(kStepRows <= NX && NX % kStepRows == 0, "a step takes whole parts of an activation tile");
    const int64_t tiles = act_tiles(p.n);
    // Rows i0.. of tile t over a run's chunk k0 (its place `chunk`), in steps of kStepRows rows.
    auto tile_steps = [&](int64_t t, int64_t k0, int64_t kc, const GroupRun& chunk, int64_t r, int groups,
                          int valid_last, bool stream) {
        for (int64_t i0 = 0; i0 < NX && t * NX + i0 < p.n; i0 += kStepRows) {
            float* y = p.y + (t * NX + i0) * p.rows + r;
            const int valid_x = int(std::min<int64_t>(kStepRows, p.n - t * NX - i0));
            // Rows i0.. of the tile: their values sit i0 words into each column's (or pair's) group.
            const void* xt = static_cast<const uint32_t*>(tile_chunk(NX, t, k0)) + i0;
            with_count<kStepGroups>(groups, [&](auto ng) {
                with_count<kStepRows>(valid_x, [&](auto nx) {
                    constexpr int kNx = decltype(nx)::value, kNg = decltype(ng)::value;
                    if (stream && i0 == 0)
                        chunk_tile<G, D, kBf16Dot, kNx, kNg, NX, true>(xt, kc, chunk, y, p.rows, valid_x, valid_last,
                                                                      k0 > 0);
                    else
                        chunk_tile<G, D, kBf16Dot, kNx, kNg, NX, false>(xt, kc, chunk, y, p.rows, valid_x,
                                                                       valid_last, k0 > 0);
                });
            });
        }
    };
    // Bytes of one tile's activations (F32, or BF16 pairs): both 4 bytes per row and column (pair).
    const int64_t tile_bytes = NX * (kBf16Dot ? (K + 1) / 2 : K) * 4;
    for (int64_t t0 = 0; t0 < tiles; t0 += kTilesPerBlock) {
        const int64_t t1 = std::min(tiles, t0 + kTilesPerBlock);
        if ((t1 - t0) * tile_bytes <= kRunMajorActivationBytes) {
            // The block's activations (a few rows: batched decode) stay in L2 whole: each run takes every chunk in
            // turn, so its weights stream from memory in order, prefetched, as in the GEMV; the tiles after the
            // first reuse each chunk from L1.
            for_each_run(kStepGroups, [&](int64_t r, const GroupRun& run, int groups, int valid_last) {
                for (int64_t k0 = 0; k0 < K; k0 += kKChunk) {
                    const int64_t kc = std::min(kKChunk, K - k0);
                    const GroupRun chunk = at_chunk(run, k0);
                    for (int64_t t = t0; t < t1; ++t) tile_steps(t, k0, kc, chunk, r, groups, valid_last, t == t0);
                }
            });
            continue;
        }
        if constexpr (D == LLMATC_DTYPE_F16 && G::kF16PrefillViaF32) {
            // Many rows (prefill), F16 converted once per block (convert_f16_chunk): a chunk of columns, then the
            // runs (bands), then each of the band's groups or pairs of groups (16 or 32 KiB of F32, kept in L1) over
            // the block's tiles.
            alignas(64) float converted[kF16BandGroups * kKChunk * 16];
            const int converted_groups = G::f16_converted_groups();
            for (int64_t k0 = 0; k0 < K; k0 += kKChunk) {
                const int64_t kc = std::min(kKChunk, K - k0);
                for_each_run(int(kF16BandGroups), [&](int64_t r, const GroupRun& run, int groups, int valid_last) {
                    convert_f16_chunk<G>(at_chunk(run, k0), groups, kc, converted);
                    for (int g = 0; g < groups; g += converted_groups) {
                        const int ng = std::min(converted_groups, groups - g);
                        // Groups kKChunk converted units apart, each unit (a column's 16 rows) 64 bytes.
                        constexpr int64_t kF32Unit = unit_bytes(LLMATC_DTYPE_F32);
                        const GroupRun part{reinterpret_cast<const uint8_t*>(converted + g * kKChunk * 16),
                                            kKChunk * kF32Unit, kF32Unit};
                        const int valid_rows = g + ng == groups ? valid_last : 16;
                        for (int64_t t = t0; t < t1; ++t) {
                            float* y = p.y + t * NX * p.rows + r + g * kFloatPackRows;
                            const int valid_x = int(std::min<int64_t>(NX, p.n - t * NX));
                            with_count<G::kF16ConvertedGroupsMax>(ng, [&](auto ngc) {
                                with_count<NX>(valid_x, [&](auto nx) {
                                    chunk_tile<G, LLMATC_DTYPE_F32, false, decltype(nx)::value,
                                               decltype(ngc)::value, NX, false>(
                                        tile_chunk(NX, t, k0), kc, part, y, p.rows, valid_x, valid_rows, k0 > 0);
                                });
                            });
                        }
                    }
                });
            }
            continue;
        }
        // Many rows (prefill): a chunk of columns, then the runs of groups, then the tiles. The block's x chunk
        // (8 tiles x 256 columns, 64 KiB) stays in L2 while every run passes; a run's chunk (16 KiB for a BF16 pair,
        // 32 KiB for an F16 band) stays in L1 while the tiles pass; the block's partial sums in y (64 rows x the
        // range) stay in L2 between chunks.
        for (int64_t k0 = 0; k0 < K; k0 += kKChunk) {
            const int64_t kc = std::min(kKChunk, K - k0);
            for_each_run(kStepGroups, [&](int64_t r, const GroupRun& run, int groups, int valid_last) {
                const GroupRun chunk = at_chunk(run, k0);
                for (int64_t t = t0; t < t1; ++t) tile_steps(t, k0, kc, chunk, r, groups, valid_last, false);
            });
        }
    }
}

}  // namespace llmatc::cpu::float_packed_impl
