#!/usr/bin/env bash
# Issue 14's 128 px CSGAN content generator, trained on the CPU over several sittings.
#
# Why a script: no GPU has been lent in ten sessions, so the 128 px generator trains on one CPU thread,
# MINUTES at a time, and every sitting continues the same run (its folder holds the weights, both
# optimisers, the EMA copy, the RNG states and the KID curve; a resumed run is the run that never stopped).
# The recipe won an equal-time comparison on this CPU (docs/csgan.md, "128 px on the CPU"): fastgan128 at
# width 0.25, batch 32, bf16, BCE with DiffAugment, EMA 0.999. --steps is a ceiling, not a schedule: the
# learning rate is constant for the architectures beyond the paper's, so stopping anywhere leaves a
# finished model.
#
#   python scripts/prepare_openclipart.py --size 128 --exclude codifiedivining   # data/openclipart
#   MINUTES=150 RUN_DIR=/somewhere/that/persists bash scripts/train_openclipart128_cpu.sh
#   studio eval oc128-fastgan --data data/openclipart --write-card                  # FID / floor, P/R/C
#
# EXTRA adds options to the recipe, e.g. the projected discriminator at the images' own size (session 18):
#   EXTRA="--discriminator projected --projected-input native" NOTES="…" NAME=oc128-fastgan-proj RUN_DIR=… bash $0
# DATA, LICENCE and DATA_NAME train the same recipe on another folder (session 19: the Wesnoth portraits):
#   DATA=data/wesnoth-portraits LICENCE="GPL-2+ (…)" DATA_NAME="…" NAME=wesnoth-fastgan RUN_DIR=… bash $0
set -uo pipefail
DATA=${DATA:-data/openclipart}
RUN_DIR=${RUN_DIR:-runs/oc128-fastgan}
NAME=${NAME:-oc128-fastgan}
MINUTES=${MINUTES:-150}
PREPARE="python scripts/prepare_openclipart.py --size 128 --exclude codifiedivining (or the script that makes $DATA)"
source "$(dirname "$0")/cpu_run_common.sh"
exec "$STUDIO" train csgan --data "$DATA" --arch fastgan128 --width 0.25 --batch 32 --steps 200000 \
  --precision bf16 --threads 1 --loss bce --augment color,translation,cutout --ema 0.999 \
  --kid-every 500 --kid-samples 500 --checkpoint-every 500 --preview-every 250 --time-limit "$MINUTES" \
  --licence "${LICENCE:-public domain (openclipart via Debian openclipart-svg)}" \
  --data-name "${DATA_NAME:-openclipart-svg, 16 artists with >= 50 drawings (codifiedivining excluded), 4131 drawings at 128 px}" \
  --notes "${NOTES:-issue 14: fastgan128 w0.25, plain D + DiffAugment, EMA, CPU over several sittings}" \
  --out "$NAME" --run-dir "$RUN_DIR" --preview-png "$RUN_DIR/preview.png" "${resume[@]}" "${extra[@]}"
