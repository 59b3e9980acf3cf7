#!/usr/bin/env bash
# Issue 16's photo -> painting translators on a lent GPU machine, in one `device run` command of about 9 minutes:
# CycleGAN (ResNet 9 blocks, ngf 64, resize upsampling, EMA), Bayesian CycleGAN (the authors' preset, the same
# upsampling) and U-GAT-IT light (ngf 48), side by side on the one GPU for MINUTES each, on crops rebuilt from
# the carried training images (scripts/gpu_prepare_issue16.sh) with the same split and crop seeds as
# data/photo2painting. Exported models come back as fp16 in <= 15 MiB parts (scripts/gpu_common.sh); the
# held-out photos and paintings never travel, so the scores are made here.
#
# Prepare here (once): bash scripts/gpu_prepare_issue16.sh
# Run there:   device run, carry [".carry16"], timeout_s 600, command: OUT=$OUT bash scripts/gpu_session_issue16.sh
# Back here:   bash scripts/gpu_unpack.sh <files_at> runs/issue16-gpu issue16, then per model
#              studio eval MODEL --measure translation --a data/photo2painting/testA --b data/photo2painting/testB
# Dry run here: PY=.venv/bin/python DEVICE=cpu MINUTES=0.3 SIZE=64 BATCH=1 OUT=/tmp/gpu16-out \
#               bash scripts/gpu_session_issue16.sh
set -uo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/gpu_common.sh
. scripts/gpu_common.sh
WORK=${WORK:-/tmp/issue16}
gpu_setup .carry16 "$WORK" || exit 1
MINUTES=${MINUTES:-6} SIZE=${SIZE:-256} BATCH=${BATCH:-4} STEPS=${STEPS:-8000}
$PY scripts/prepare_photo2painting.py --from-sources .carry16/p2p-sources --out "$WORK/p2p" \
  --test-crops-a 0 --test-crops-b 0 || exit 1

common=(--a "$WORK/p2p/trainA" --b "$WORK/p2p/trainB" --size "$SIZE" --load-size 256 --steps "$STEPS"
  --decay-start 0.5 --precision bf16 --device "$DEVICE" --time-limit "$MINUTES" --kid-every 0
  --checkpoint-every 1000 --preview-every 500 --val-count 6 --ema 0.999
  --licence "see data/photo2painting/LICENCE.txt"
  --data-note "data/photo2painting (scripts/prepare_photo2painting.py, rebuilt on the GPU machine from the exported training images): 256 px crops of 80 photos and 24 public-domain paintings; GPU session")
run() {  # run NAME FAMILY ARGS...: one training in the background, its log beside it
  local name=$1 family=$2
  shift 2
  $PY -m studio train "$family" "${common[@]}" "$@" --name "$name" --out "$WORK/models/$name" \
    --run-dir "$WORK/runs/$name" --preview-png "$WORK/models/$name-preview.png" > "$WORK/$name.log" 2>&1 &
}
run photo2painting-cyclegan cyclegan --batch "$BATCH" --preset standard --blocks 9 --channels 64 --upsample resize
run photo2painting-bayes bayes-cyclegan --batch "$BATCH" --preset bayes --upsample resize
run photo2painting-ugatit ugatit --batch 1 --light --ngf 48
wait
tail -n 3 "$WORK"/*.log

gpu_pack "$WORK" issue16 "$OUT"
