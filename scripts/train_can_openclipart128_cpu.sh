#!/usr/bin/env bash
# Issue 14's CAN at 128 px: the 16 openclipart artists as styles, the generator started from the bundled
# content GAN openclipart-fastgan (same drawings, same FastGAN generator), trained on one CPU thread.
#
# Why start from it: a 128 px GAN gets a few thousand steps per sitting here, and from scratch they go to
# learning to draw at all (docs/can.md, "First real runs"). Started from openclipart-fastgan, the steps go to
# the style-ambiguity term; the discriminator and its style head start fresh. A saved run in RUN_DIR resumes.
#
#   python scripts/prepare_openclipart.py --size 128 --exclude codifiedivining   # data/openclipart
#   MINUTES=100 RUN_DIR=/somewhere/that/persists bash scripts/train_can_openclipart128_cpu.sh
#   studio eval can-openclipart --data data/openclipart --write-card
#   python scripts/can_style_entropy.py can-openclipart openclipart-fastgan --real data/openclipart
#
# EXTRA adds options, e.g. EXTRA="--ambiguity-weight 0.5" (session 21's second run).
set -uo pipefail
DATA=${DATA:-data/openclipart}
NAME=${NAME:-can-openclipart}
RUN_DIR=${RUN_DIR:-runs/$NAME}
MINUTES=${MINUTES:-100}
PREPARE="python scripts/prepare_openclipart.py --size 128 --exclude codifiedivining"
source "$(dirname "$0")/cpu_run_common.sh"
exec "$STUDIO" train can --data "$DATA" --arch fastgan --image-size 128 --width 0.25 --latent-dim 256 \
  --init-generator openclipart-fastgan --fc-dim 128 --batch 32 --ratio 1 --lr-g 2e-4 --lr-d 2e-4 \
  --precision bf16 --threads 1 --augment translation --ambiguity sigmoid-eq3 --ema 0.999 \
  --kid-every 500 --kid-samples 500 --checkpoint-every 250 --preview-every 250 --steps 20000 \
  --max-per-style 1600 --index-size 128 --half --time-limit "$MINUTES" \
  --name "$NAME" --run-dir "$RUN_DIR" --preview-png "$RUN_DIR/preview.png" "${resume[@]}" "${extra[@]}"
