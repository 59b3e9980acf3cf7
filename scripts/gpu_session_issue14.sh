#!/usr/bin/env bash
# Issue 14's 128 px CSGAN training on a lent GPU machine, in one `device run` command of about 9 minutes.
#
# Why a prepared script: a lent machine has 15 minutes in all, starts bare, reaches no package index, and
# sends back at most 8 files of 16 MiB. So everything it needs travels in .carry/ with the working tree
# (64 MiB in all), made by scripts/gpu_prepare_issue14.sh: the packed 128 px openclipart mix, a platformdirs
# wheel and the two weight packages at fp16. The script trains two configurations side by side on the one GPU (the projected discriminator, and the
# plain one with DiffAugment + R1), each with an EMA generator, then packs the exported models (weights
# halved to fp16 for the trip, see scripts/gpu_unpack_issue14.sh), cards, previews and logs into <= 8 parts.
#
# Prepare here (once): python scripts/prepare_openclipart.py --size 128 && bash scripts/gpu_prepare_issue14.sh
# Run there:   device run, carry [".carry"], timeout_s 600, command: bash scripts/gpu_session_issue14.sh
# Back here:   bash scripts/gpu_unpack_issue14.sh <files_at> runs/issue14-gpu
# Dry run here: PY=.venv/bin/python DEVICE=cpu MINUTES=0.5 BATCH=4 KID_EVERY=0 OUT=/tmp/gpu-out \
#               bash scripts/gpu_session_issue14.sh
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-python3}
DEVICE=${DEVICE:-cuda}
MINUTES=${MINUTES:-6.5}
BATCH=${BATCH:-64}
KID_EVERY=${KID_EVERY:-500}
OUT=${OUT:?set OUT to the folder whose files come back}
WORK=${WORK:-/tmp/issue14}
rm -rf "$WORK" && mkdir -p "$WORK/site" "$WORK/models" "$OUT"
export STUDIO_HOME="$WORK/home" PYTHONUNBUFFERED=1 QT_QPA_PLATFORM=offscreen

if compgen -G ".carry/whl/*.whl" >/dev/null; then
  $PY -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target "$WORK/site" .carry/whl/*.whl || exit 1
fi
# The families and tools are found through the project's entry points: a dist-info folder on the path
# declares them without installing the project (no index there, and a wheel would carry the bundled models).
$PY - "$WORK/site" <<'EOF' || exit 1
import sys, tomllib, pathlib
meta = tomllib.loads(pathlib.Path("pyproject.toml").read_text())["project"]
info = pathlib.Path(sys.argv[1]) / "gan_studio-0.0.0.dist-info"
info.mkdir(parents=True, exist_ok=True)
(info / "METADATA").write_text("Metadata-Version: 2.1\nName: gan-studio\nVersion: 0.0.0\n")
groups = meta.get("entry-points", {})
(info / "entry_points.txt").write_text(
    "".join(f"[{g}]\n" + "".join(f"{k} = {v}\n" for k, v in eps.items()) + "\n" for g, eps in groups.items())
)
EOF
export PYTHONPATH="$PWD:$WORK/site:$PWD/.carry/site"

nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null || true
$PY -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())"
$PY scripts/pack_images.py unpack .carry/openclipart.tar.xz "$WORK/openclipart" || exit 1

common=(--data "$WORK/openclipart" --arch fastgan128 --width 0.5 --batch "$BATCH" --steps 1000000
  --precision bf16 --ema 0.999 --time-limit "$MINUTES" --device "$DEVICE" --kid-every "$KID_EVERY" --kid-samples 500
  --checkpoint-every 1000 --preview-every 500
  --licence "public domain (openclipart via Debian openclipart-svg)"
  --data-name "openclipart-svg, 16 artists with >= 50 drawings (codifiedivining excluded), 4131 drawings at 128 px")
$PY -m studio train csgan "${common[@]}" --discriminator projected --out "$WORK/models/oc128-projected" \
  --run-dir "$WORK/runs/projected" --preview-png "$WORK/models/oc128-projected-preview.png" \
  --notes "issue 14: projected D (EfficientNet-Lite0) + DiffAugment, GPU session" > "$WORK/projected.log" 2>&1 &
$PY -m studio train csgan "${common[@]}" --discriminator plain --loss bce --augment color,translation,cutout \
  --r1 1 --out "$WORK/models/oc128-plain" \
  --run-dir "$WORK/runs/plain" --preview-png "$WORK/models/oc128-plain-preview.png" \
  --notes "issue 14: plain D + DiffAugment + R1, GPU session" > "$WORK/plain.log" 2>&1 &
wait
tail -n 3 "$WORK"/*.log

# Weights to fp16 for the trip back (exact enough to render; scripts/gpu_unpack_issue14.sh widens them to
# fp32 again and the card says so), then everything in one archive cut into <= 15 MiB parts.
$PY - "$WORK/models" <<'EOF'
import sys, pathlib, torch
from safetensors.torch import load_file, save_file
from safetensors import safe_open
for path in pathlib.Path(sys.argv[1]).glob("*.safetensors"):
    with safe_open(str(path), "pt") as f:
        meta = f.metadata()
    tensors = {k: (v.half() if v.is_floating_point() else v) for k, v in load_file(str(path)).items()}
    save_file(tensors, str(path.with_suffix(".fp16.safetensors")), metadata=meta)
    path.unlink()
EOF
cp "$WORK"/*.log "$WORK/models/" 2>/dev/null
tar -C "$WORK" -cf "$WORK/issue14.tar" models
split -b 15M -d -a 1 "$WORK/issue14.tar" "$OUT/issue14.tar.part-"
ls -la "$OUT"
