#!/usr/bin/env bash
# scripts/setup.sh — installs what llm-atc needs on Debian 12 (build deps; with --test also the test peers), then builds.
# Usage: bash scripts/setup.sh [--test]     (idempotent: re-running only rebuilds what changed)
set -euo pipefail
cd "$(dirname "$0")/.."

want_tests=0
[ "${1:-}" = "--test" ] && want_tests=1

build_pkgs=(g++ meson catch2 ninja-build pkg-config libboost-dev libboost-program-options-dev libboost-filesystem-dev
            rapidjson-dev libspdlog-dev libsentencepiece-dev libyaml-cpp-dev libcurl4-openssl-dev libssl-dev
            libsqlite3-dev libzip-dev openssh-client)
test_pkgs=(python3-venv python3-torch python3-numpy openssh-server curl cmake)  # cmake: llama-cpp-python builds llama.cpp

pkgs=("${build_pkgs[@]}")
[ $want_tests = 1 ] && pkgs+=("${test_pkgs[@]}")
missing=()
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "== installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" != 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
fi

if [ $want_tests = 1 ]; then
  # The test peers: Debian's CPU-only torch (system site packages) + PyPI's transformers, openai SDK, moto, GCS emulator,
  # gguf, and llama-cpp-python (built from source: llama.cpp itself, the peer for GGUF files it quantized).
  if [ ! -x .venv/bin/python ]; then
    /usr/bin/python3 -m venv --system-site-packages .venv
  fi
  if ! .venv/bin/python -c "import transformers, openai, moto, gcp_storage_emulator, pytest, safetensors, google.protobuf, gguf, llama_cpp" 2>/dev/null; then
    echo "== installing Python test peers into .venv"
    .venv/bin/pip install -q -r tests/requirements.txt
  fi
fi

if [ ! -f build/build.ninja ]; then
  meson setup build
fi
meson compile -C build
