#!/usr/bin/env bash
# Issue 14's GADN at 128 px on real artists: five Debian icon themes (Tango, Oxygen, elementary, GNOME,
# Papirus) as the artists, the freedesktop icon names as the shared contents, trained on one CPU thread.
#
# The recipe is the bundled gadn-emoji-redraw's (content code as a map, FiLM style, 20 % of the contents
# held out) scaled to 128 px: a 16x16 content map of 4 channels keeps the 8 px cells it has at 64 px. Without
# its paired losses: icon themes draw a name differently (a gear, a hammer, a trowel for
# applications-development), so another theme's drawing is no pixel target, and with --w-paired 3 the
# reconstructions went all white within 300 steps (mean 0.98; without them 0.61, the data 0.76; likely the per-pixel
# median of conflicting targets, which is the white background).
# The step counts fit about 95 minutes of one core; a saved run in RUN_DIR resumes.
#
#   python scripts/prepare_icon_themes.py                   # data/icon_themes (apt-get download, ~1 min)
#   MINUTES=95 RUN_DIR=/somewhere/that/persists bash scripts/train_gadn_icons128_cpu.sh
#   studio eval gadn-icons --measure gadn --data data/icon_themes --write-card
#   studio eval gadn-icons --data data/icon_themes --write-card   # FID/KID/P/R of samples, floor
set -uo pipefail
DATA=${DATA:-data/icon_themes}
NAME=${NAME:-gadn-icons}
RUN_DIR=${RUN_DIR:-runs/$NAME}
MINUTES=${MINUTES:-95}
PREPARE="python scripts/prepare_icon_themes.py"
source "$(dirname "$0")/cpu_run_common.sh"
exec "$STUDIO" train gadn --data "$DATA" --image-size 128 --base-channels 16 --fc-features 256 \
  --content-dim 1024 --content-grid 16 --style-dim 16 --style-film --batch 8 --lr1 2e-4 --lr-cls 2e-4 \
  --lr2 1e-4 --adversary1 unlikelihood --holdout-contents 0.2 \
  --steps1 5000 --steps-cls 600 --steps2 6000 --precision bf16 --threads 1 \
  --kid-every 3000 --kid-samples 300 --checkpoint-every 500 --preview-every 500 --time-limit "$MINUTES" \
  --out "$NAME" --run-dir "$RUN_DIR" --preview-png "$RUN_DIR/preview.png" "${resume[@]}" "${extra[@]}"
