#!/usr/bin/env bash
# scripts/test.sh — sets everything up on Debian 12, builds, and runs every test (C++ unit tests, then end-to-end pytest).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
export LLMATC_SHARED="${LLMATC_SHARED:-$(cd .. && pwd)/shared}"
export LLMATC_BUILD_DIR="$(pwd)/build"
echo "== C++ tests"
meson test -C build --print-errorlogs --num-processes 2
echo "== end-to-end tests"
.venv/bin/python -m pytest -q tests/e2e "$@"
