// core/kernels/cpu/amx_support.cpp — AMX-BF16 / AMX-INT8 detection: CPUID, XCR0 and Linux's per-process tile
// permission.
#include "kernels/cpu/amx_support.h"

#if defined(__x86_64__) && defined(__linux__) && defined(__GNUC__)
#include <cpuid.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>
#endif

namespace llmatc::cpu {

namespace {

#if defined(__x86_64__) && defined(__linux__) && defined(__GNUC__)
constexpr unsigned kCpuid7EdxAmxBf16 = 1u << 22;
constexpr unsigned kCpuid7EdxAmxTile = 1u << 24;
constexpr unsigned kCpuid7EdxAmxInt8 = 1u << 25;
constexpr unsigned kCpuid1EcxOsxsave = 1u << 27;
constexpr uint32_t kXcr0TileState = (1u << 17) | (1u << 18);  // XTILECFG, XTILEDATA
constexpr long kArchReqXcompPerm = 0x1023;                    // arch_prctl: request an XSAVE feature
constexpr long kXfeatureXtiledata = 18;

// CPUID leaf 7's EDX bits, or 0.
unsigned cpuid7_edx() {
    unsigned a = 0, b = 0, c = 0, d = 0;
    return __get_cpuid_count(7, 0, &a, &b, &c, &d) ? d : 0;
}

// Whether the OS saves tile state and granted this process the tile data permission (asked once).
bool tiles_permitted() {
    unsigned a = 0, b = 0, c = 0, d = 0;
    if (!(cpuid7_edx() & kCpuid7EdxAmxTile)) return false;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & kCpuid1EcxOsxsave)) return false;
    uint32_t xcr0_lo = 0, xcr0_hi = 0;
    __asm__ volatile("xgetbv" : "=a"(xcr0_lo), "=d"(xcr0_hi) : "c"(0));
    if ((xcr0_lo & kXcr0TileState) != kXcr0TileState) return false;
    return syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) == 0;
}

bool detect(unsigned feature) {
    if (!(cpuid7_edx() & feature)) return false;
    static const bool permitted = tiles_permitted();
    return permitted;
}
#else
constexpr unsigned kCpuid7EdxAmxBf16 = 0, kCpuid7EdxAmxInt8 = 0;
bool detect(unsigned) { return false; }
#endif

}  // namespace

bool amx_bf16_usable() {
    static const bool usable = detect(kCpuid7EdxAmxBf16);
    return usable;
}

bool amx_int8_usable() {
    static const bool usable = detect(kCpuid7EdxAmxInt8);
    return usable;
}

}  // namespace llmatc::cpu
