#!/usr/bin/env python3
# tests/core/kernels/check_prefetch_emitted.py — checks that every CPU kernel whose source prefetches kept its
# prefetch instructions through the optimiser.
#
# Why: GCC deletes calls to a function whose only effect is __builtin_prefetch (it deems it const), and a GEMV that
# loses its prefetch still computes the right numbers, only slower, so no kernel test notices. The F16 / BF16 GEMV
# ran without its prefetch that way (stream_prefetch.h). This disassembles the kernels' static libraries and fails
# for each object whose translation unit (or a kernels/cpu header it includes) asks for a prefetch but whose machine
# code holds none.
#
# Usage: check_prefetch_emitted.py OBJDUMP SOURCE_DIR ARCHIVE...   (SOURCE_DIR: core/kernels, holding cpu/)
import pathlib
import re
import subprocess
import sys

PREFETCH_CALL = re.compile(r"\b(prefetch_stream|__builtin_prefetch)\s*\(")
LOCAL_INCLUDE = re.compile(r'#include\s+"kernels/(cpu/[^"]+)"')
PREFETCH_INSN = re.compile(r"\bprefetch(t0|t1|t2|nta|w)\b")
MEMBER = re.compile(r"^(\S+\.o):\s+file format ", re.MULTILINE)


def asks_for_prefetch(source_dir: pathlib.Path, relative: str, seen: set) -> bool:
    """Whether cpu/<file> or a kernels/cpu header it includes (transitively) calls a prefetch."""
    if relative in seen or relative == "cpu/stream_prefetch.h":
        return False
    seen.add(relative)
    path = source_dir / relative
    if not path.is_file():
        return False
    text = path.read_text()
    if PREFETCH_CALL.search(text):
        return True
    return any(asks_for_prefetch(source_dir, inc, seen) for inc in LOCAL_INCLUDE.findall(text))


def prefetches_per_object(objdump: str, archive: str) -> dict:
    listing = subprocess.run([objdump, "-d", "--no-show-raw-insn", archive], check=True, capture_output=True,
                             text=True).stdout
    counts = {}
    starts = [(m.start(), m.group(1)) for m in MEMBER.finditer(listing)]
    for i, (start, name) in enumerate(starts):
        end = starts[i + 1][0] if i + 1 < len(starts) else len(listing)
        counts[name] = len(PREFETCH_INSN.findall(listing, start, end))
    return counts


def main() -> int:
    if len(sys.argv) < 4:
        print("usage: check_prefetch_emitted.py OBJDUMP SOURCE_DIR ARCHIVE...", file=sys.stderr)
        return 2
    objdump, source_dir, archives = sys.argv[1], pathlib.Path(sys.argv[2]), sys.argv[3:]
    checked, missing = 0, []
    for archive in archives:
        for member, count in prefetches_per_object(objdump, archive).items():
            # meson names cpu/isa_avx2.cpp's object cpu_isa_avx2.cpp.o (a thin archive lists it by its path)
            source = "cpu/" + pathlib.Path(member).name.removeprefix("cpu_").removesuffix(".o")
            if not asks_for_prefetch(source_dir, source, set()):
                continue
            checked += 1
            print(f"{pathlib.Path(member).name}: {count} prefetch instructions")
            if count == 0:
                missing.append(f"{source} asks for prefetches but {member} ({archive}) holds none")
    if checked == 0:
        print("no kernel object that prefetches was found: wrong archives or source dir?", file=sys.stderr)
        return 1
    for line in missing:
        print("FAIL: " + line, file=sys.stderr)
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
