// core/kernels/cpu/isa_select.cpp — picks the instruction-set level of the CPU kernels from the running CPU.
#include "kernels/cpu/isa_kernels.h"

namespace llmatc::cpu {

// LLMATC_X86_KERNELS is defined by meson when the AVX2 / AVX-512 translation units are built (x86-64 hosts).
bool isa_supported(Isa isa) {
#if defined(LLMATC_X86_KERNELS) && defined(__GNUC__)
    __builtin_cpu_init();
    switch (isa) {
        case Isa::scalar: return true;
        case Isa::avx2:
            return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
                   __builtin_cpu_supports("f16c");
        case Isa::avx2_vnni: return isa_supported(Isa::avx2) && __builtin_cpu_supports("avxvnni");
        case Isa::avx512_no_vnni:
            return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                   __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
                   isa_supported(Isa::avx2);
        case Isa::avx512: return isa_supported(Isa::avx512_no_vnni) && __builtin_cpu_supports("avx512vnni");
    }
    return false;
#else
    return isa == Isa::scalar;
#endif
}

Isa best_isa() {
    if (isa_supported(Isa::avx512)) return Isa::avx512;
    if (isa_supported(Isa::avx512_no_vnni)) return Isa::avx512_no_vnni;
    if (isa_supported(Isa::avx2_vnni)) return Isa::avx2_vnni;
    if (isa_supported(Isa::avx2)) return Isa::avx2;
    return Isa::scalar;
}

const IsaKernels& isa_kernels(Isa isa) {
#if defined(LLMATC_X86_KERNELS)
    switch (isa) {
        case Isa::avx512: return isa_kernels_avx512();
        case Isa::avx512_no_vnni: return isa_kernels_avx512_no_vnni();
        case Isa::avx2_vnni: return isa_kernels_avx2_vnni();
        case Isa::avx2: return isa_kernels_avx2();
        case Isa::scalar: break;
    }
#else
    (void)isa;
#endif
    return isa_kernels_scalar();
}

const char* isa_name(Isa isa) {
    switch (isa) {
        case Isa::avx512: return "avx512";
        case Isa::avx512_no_vnni: return "avx512-novnni";
        case Isa::avx2_vnni: return "avx2-vnni";
        case Isa::avx2: return "avx2";
        case Isa::scalar: break;
    }
    return "scalar";
}

std::string isa_level_names() {
    std::string names;
    for (Isa level : kIsaLevels) names += std::string(names.empty() ? "" : ", ") + isa_name(level);
    return names;
}

bool isa_from_name(std::string_view name, Isa* out) {
    for (Isa level : kIsaLevels)
        if (name == isa_name(level)) {
            *out = level;
            return true;
        }
    return false;
}

}  // namespace llmatc::cpu
