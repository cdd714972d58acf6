#!/usr/bin/env bash
# tests/plugins/out_of_tree_plugin_test.sh — a third party's view: install llm-atc into a DESTDIR, build the
# skeleton plugin outside the source tree with only the installed headers (pkg-config llmatc-plugin), and check
# the installed launcher lists it from LLMATC_PLUGIN_PATH and from the plugin install directory.
# Usage: out_of_tree_plugin_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail

build_dir=$(realpath "$1")
source_dir=$(realpath "$2")
work=$(mktemp -d "${TMPDIR:-/tmp}/llmatc-out-of-tree.XXXXXX")
trap 'rm -rf "$work"' EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }

# 1. Install into a DESTDIR (the build is already complete: meson test builds first).
destdir="$work/destdir"
meson install -C "$build_dir" --no-rebuild --destdir "$destdir" >"$work/install.log" 2>&1 ||
    { cat "$work/install.log" >&2; fail "meson install --destdir failed"; }

pc_file=$(find "$destdir" -name llmatc-plugin.pc | head -n 1)
[[ -n "$pc_file" ]] || fail "meson install did not install llmatc-plugin.pc"
launcher=$(find "$destdir" -path '*/bin/llm-atc' -type f | head -n 1)
[[ -n "$launcher" ]] || fail "meson install did not install bin/llm-atc"

# 2. pkg-config, pointed at the DESTDIR: the sysroot maps the .pc file's prefix into it.
export PKG_CONFIG_PATH="$(dirname "$pc_file")"
export PKG_CONFIG_SYSROOT_DIR="$destdir"
export PKG_CONFIG_LIBDIR="$PKG_CONFIG_PATH"  # nothing from the system's own .pc files
cflags=$(pkg-config --cflags llmatc-plugin) || fail "pkg-config does not know llmatc-plugin"
[[ "$cflags" == *"$destdir"* ]] || fail "pkg-config --cflags ($cflags) does not point into the DESTDIR"
[[ "$cflags" != *"$source_dir"* ]] || fail "pkg-config --cflags ($cflags) points into the source tree"
for h in plugin.h plugin_export.h model.h frontend.h cloud.h kernels.h; do
    [[ -n "$(find "$destdir" -path "*/include/llmatc/$h")" ]] || fail "header llmatc/$h was not installed"
done
plugindir=$(pkg-config --variable=plugindir llmatc-plugin)
[[ -n "$plugindir" ]] || fail "llmatc-plugin.pc has no plugindir variable"
[[ "$plugindir" == "$destdir"* ]] || plugindir="$destdir$plugindir"

# 3. Build the skeleton out of tree, from a copy, against the installed headers only: as C (strict) and as C++.
third_party="$work/third_party"
mkdir -p "$third_party/out"
cp "$source_dir/plugins/skeleton/skeleton_plugin.c" "$third_party/"
cc -std=c11 -Wall -Wextra -Werror -fPIC -shared -fvisibility=hidden $cflags \
    -o "$third_party/out/libllmatc-model-skeleton.so" "$third_party/skeleton_plugin.c" ||
    fail "the skeleton does not compile as C against the installed headers"
c++ -x c++ -std=c++17 -Wall -Wextra -Werror -fsyntax-only $cflags "$third_party/skeleton_plugin.c" ||
    fail "the skeleton does not compile as C++ against the installed headers"
exported=$(nm -D --defined-only "$third_party/out/libllmatc-model-skeleton.so" | awk '$2 == "T" {print $3}')
[[ "$exported" == "llmatc_plugin_entry" ]] || fail "the plugin exports [$exported], not just llmatc_plugin_entry"

# Prints the entries of `llm-atc plugins --json` (stdin) named skeleton, as "status path" lines.
skeleton_entries() {
    python3 -c '
import json, sys
entries = json.load(sys.stdin)
assert isinstance(entries, list), "not a JSON array"
for e in entries:
    for key in ("kind", "name", "version", "path", "description"):
        assert key in e, "entry without %s: %r" % (key, e)
    if e["name"] == "skeleton":
        assert e["kind"] == "model", e
        print(e.get("status", "loaded"), e["path"], e["version"])
'
}

# 4. The installed launcher (outside any build tree) finds it through LLMATC_PLUGIN_PATH.
found=$(LLMATC_PLUGIN_PATH="$third_party/out" "$launcher" plugins --json | skeleton_entries)
[[ "$found" == "loaded $third_party/out/libllmatc-model-skeleton.so 0.1.0" ]] ||
    fail "LLMATC_PLUGIN_PATH: expected the out-of-tree skeleton, got [$found]"

# 5. Installed into pkg-config's plugindir, it is found without LLMATC_PLUGIN_PATH (the install dir, located
#    relative to the installed launcher).
mkdir -p "$plugindir"
cp "$third_party/out/libllmatc-model-skeleton.so" "$plugindir/"
found=$(env -u LLMATC_PLUGIN_PATH "$launcher" plugins --json | skeleton_entries)
[[ "$found" == "loaded $plugindir/libllmatc-model-skeleton.so 0.1.0" ]] ||
    fail "install dir: expected the skeleton in $plugindir, got [$found]"

# 6. Both present: LLMATC_PLUGIN_PATH comes first; --all shows the installed copy as shadowed.
found=$(LLMATC_PLUGIN_PATH="$third_party/out" "$launcher" plugins --json --all | skeleton_entries)
expected="loaded $third_party/out/libllmatc-model-skeleton.so 0.1.0
shadowed $plugindir/libllmatc-model-skeleton.so None"
[[ "$found" == "$expected" ]] || fail "search order: expected [$expected], got [$found]"

echo "PASS: out-of-tree skeleton built with pkg-config llmatc-plugin and listed by the installed llm-atc"
