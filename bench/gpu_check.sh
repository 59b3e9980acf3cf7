#!/usr/bin/env bash
# The GPU check of issue 13 in one command (see bench/gpu_check.py). Needs .venv (scripts/install.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
QT_QPA_PLATFORM=offscreen timeout 570 .venv/bin/python bench/gpu_check.py "$@"
