// core/kernels/cpu/amx_support.h — whether this CPU and OS let the process run AMX tile instructions (BF16, INT8).
#pragma once

namespace llmatc::cpu {

// True when the CPU has AMX-TILE and AMX-BF16, the OS saves tile state (XCR0 bits 17 and 18), and Linux granted
// this process the tile data permission (arch_prctl ARCH_REQ_XCOMP_PERM; asked once, on the first call). Without
// that permission the first tile instruction kills the process with SIGILL.
bool amx_bf16_usable();
// The same for AMX-INT8 (TDPBSSD and its kin): AMX-TILE and AMX-INT8, tile state saved, permission granted.
bool amx_int8_usable();

}  // namespace llmatc::cpu
