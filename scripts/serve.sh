#!/usr/bin/env bash
# scripts/serve.sh — sets up on Debian 12, builds, and serves a model on http://127.0.0.1:8000 (OpenAI-compatible).
# Usage: bash scripts/serve.sh [MODEL_DIR_OR_HF_ID] [more llm-atc serve flags]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
model="${1:-../shared/models/stories260k}"
shift || true
exec ./build/llm-atc serve --name "$model" --port 8000 "$@"
