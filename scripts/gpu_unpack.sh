#!/usr/bin/env bash
# Bring back what a scripts/gpu_session_*.sh made on a lent GPU: join the parts, untar, widen the fp16
# weights to fp32 and note it in each card; then evaluate here (FID/KID on MobileNetV2, which no model
# trained against; translators on the held-out test folders) before anything is bundled.
#   bash scripts/gpu_unpack.sh <folder with NAME.tar.part-*> <dest folder> [NAME, default issue14]
set -euo pipefail
cd "$(dirname "$0")/.."
src=${1:?folder with issue14.tar.part-*}
dest=${2:?destination folder}
name=${3:-issue14}
mkdir -p "$dest"
cat "$src/$name".tar.part-* | tar -C "$dest" -xf -
.venv/bin/python - "$dest/models" <<'EOF'
import sys, pathlib
from safetensors.torch import load_file
from studio.core.checkpoint import read_card, save_checkpoint
for path in pathlib.Path(sys.argv[1]).glob("*.fp16.safetensors"):
    stem = path.with_name(path.name.removesuffix(".fp16.safetensors"))
    card = read_card(stem)  # the card written there; its hash named the fp32 file, which did not travel
    tensors = {k: (v.float() if v.is_floating_point() else v) for k, v in load_file(str(path)).items()}
    card.extra["weights_transfer"] = (
        "trained on a lent GPU; the weights travelled back as fp16 and were widened to fp32 "
        "(scripts/gpu_session_*.sh, scripts/gpu_unpack.sh)"
    )
    save_checkpoint(stem, tensors, card)  # new hash, saved as one unit
    path.unlink()
    print("restored", stem.name)
EOF
ls -la "$dest/models"
