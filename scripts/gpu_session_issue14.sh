#!/usr/bin/env bash
# Issue 14's 128 px CSGAN training on a lent GPU machine, in one `device run` command of about 9 minutes.
#
# Why a prepared script: a lent machine has 15 minutes in all, starts bare, reaches no package index, and
# sends back at most 8 files of 16 MiB. So everything it needs travels in .carry/ with the working tree
# (64 MiB in all), made by scripts/gpu_prepare_issue14.sh: the packed 128 px openclipart mix and Wesnoth
# portraits, a platformdirs wheel and the two weight packages at fp16. The script trains two runs side by
# side on the one GPU, each with an EMA generator: the projected discriminator on openclipart, and the CPU
# recipe (plain D, BCE, DiffAugment; R1 did not help on either set, docs/csgan.md) on the Wesnoth portraits,
# the set closest to its floor on the CPU (2.48x after 4,109 steps, still falling). Then it packs the
# exported models (weights halved to fp16 for the trip, see scripts/gpu_unpack.sh), cards, previews and
# logs into <= 8 parts.
#
# Prepare here (once): python scripts/prepare_openclipart.py --size 128 && bash scripts/gpu_prepare_issue14.sh
# Run there:   device run, carry [".carry"], timeout_s 600, command: bash scripts/gpu_session_issue14.sh
# Back here:   bash scripts/gpu_unpack.sh <files_at> runs/issue14-gpu
# Dry run here: PY=.venv/bin/python DEVICE=cpu MINUTES=0.5 BATCH=4 KID_EVERY=0 OUT=/tmp/gpu-out \
#               bash scripts/gpu_session_issue14.sh
set -uo pipefail
cd "$(dirname "$0")/.."
MINUTES=${MINUTES:-6.5}
BATCH=${BATCH:-64}
KID_EVERY=${KID_EVERY:-500}
WORK=${WORK:-/tmp/issue14}
# shellcheck source=scripts/gpu_common.sh
. scripts/gpu_common.sh
gpu_setup .carry "$WORK" || exit 1
$PY scripts/pack_images.py unpack .carry/openclipart.tar.xz "$WORK/openclipart" || exit 1
$PY scripts/pack_images.py unpack .carry/wesnoth.tar.xz "$WORK/wesnoth" || exit 1

common=(--arch fastgan128 --width 0.5 --batch "$BATCH" --steps 1000000
  --precision bf16 --ema 0.999 --time-limit "$MINUTES" --device "$DEVICE" --kid-every "$KID_EVERY" --kid-samples 500
  --checkpoint-every 1000 --preview-every 500)
openclipart=(--data "$WORK/openclipart" --licence "public domain (openclipart via Debian openclipart-svg)"
  --data-name "openclipart-svg, 16 artists with >= 50 drawings (codifiedivining excluded), 4131 drawings at 128 px")
wesnoth=(--data "$WORK/wesnoth" --licence "GPL-2+ (Battle for Wesnoth portraits, Debian wesnoth-1.16-data)"
  --data-name "wesnoth-1.16-data core portraits, 238 paintings in 15 races, 128 px on white")
$PY -m studio train csgan "${common[@]}" "${openclipart[@]}" --discriminator projected \
  --out "$WORK/models/oc128-projected" \
  --run-dir "$WORK/runs/projected" --preview-png "$WORK/models/oc128-projected-preview.png" \
  --notes "issue 14: projected D (EfficientNet-Lite0) + DiffAugment, GPU session" > "$WORK/projected.log" 2>&1 &
$PY -m studio train csgan "${common[@]}" "${wesnoth[@]}" --discriminator plain --loss bce \
  --augment color,translation,cutout --out "$WORK/models/wesnoth-fastgan" \
  --run-dir "$WORK/runs/wesnoth" --preview-png "$WORK/models/wesnoth-fastgan-preview.png" \
  --notes "issue 14: the CPU recipe (plain D + DiffAugment, EMA) at width 0.5, GPU session" > "$WORK/wesnoth.log" 2>&1 &
wait
tail -n 3 "$WORK"/*.log

gpu_pack "$WORK" issue14 "$OUT"
