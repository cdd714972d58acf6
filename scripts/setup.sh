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
  if ! .venv/bin/python -c "import transformers, openai, moto, gcp_storage_emulator, pytest, safetensors, google.protobuf, gguf" 2>/dev/null; then
    echo "== installing Python test peers into .venv"
    .venv/bin/pip install -q -r <(grep -v '^llama-cpp-python' tests/requirements.txt)
  fi
  # llama.cpp compiles for the CPU that builds it (-march=native): a wheel from pip's cache built on another CPU dies
  # with SIGILL here. So it is built without pip's cache, into a wheel cache keyed by this CPU's feature flags. And
  # without AMX: built by GCC 12, ggml's AMX matmul loads an empty tile config (GCC drops the stores into the struct
  # passed to _tile_loadconfig) and its first tile instruction dies with SIGILL on Xeons that have AMX.
  llama_req=$(grep -E '^llama-cpp-python==' tests/requirements.txt)
  llama_version=${llama_req#*==}
  cpu_key=$(grep -m1 '^flags' /proc/cpuinfo | sha256sum | cut -c1-16)-noamx
  if [ "$(cat .venv/llama-cpp-built-for 2>/dev/null)" != "$llama_version $cpu_key" ]; then
    wheel_dir="${XDG_CACHE_HOME:-$HOME/.cache}/llm-atc/wheels/$cpu_key"
    if ! ls "$wheel_dir"/llama_cpp_python-"$llama_version"-*.whl >/dev/null 2>&1; then
      echo "== building $llama_req for this CPU (llama.cpp from source, a few minutes)"
      no_amx="-mno-amx-tile -mno-amx-int8 -mno-amx-bf16"
      CFLAGS="$no_amx" CXXFLAGS="$no_amx" \
        .venv/bin/pip wheel -q --no-cache-dir --no-deps --no-binary llama-cpp-python -w "$wheel_dir" "$llama_req"
    fi
    .venv/bin/pip uninstall -q -y llama-cpp-python 2>/dev/null || true
    .venv/bin/pip install -q "$wheel_dir"/llama_cpp_python-"$llama_version"-*.whl
    echo "$llama_version $cpu_key" > .venv/llama-cpp-built-for
  fi
fi

if [ ! -f build/build.ninja ]; then
  meson setup build
fi
meson compile -C build
