#!/usr/bin/env bash
# Issue 14: which small-data options move FID on this CPU? Trains the bundled emoji-dcgan recipe (64 px,
# 169 Noto "Smileys & Emotion" emoji, batch 64, bf16, one thread) once per variant for the same wall time,
# with KID curves, then scores every run with `studio eval` (MobileNetV2 features, which no discriminator
# here uses) against the data and its split-half floor. Runs are resumable (run folders under $OUT).
#
#   python scripts/prepare_emoji.py --category 'Smileys & Emotion'      # data/emoji/google-smileys-emotion
#   MINUTES=12 bash scripts/ablate_gan_options.sh [variant ...]          # default: every variant, in turn
#   python scripts/ablation_table.py runs/ablate                          # the table and the KID curves
set -uo pipefail
cd "$(dirname "$0")/.."
STUDIO=${STUDIO:-.venv/bin/studio}
DATA=${DATA:-data/emoji/google-smileys-emotion}
OUT=${OUT:-runs/ablate}
MINUTES=${MINUTES:-12}
THREADS=${THREADS:-1}
[ -d "$DATA" ] || { echo "no $DATA: run python scripts/prepare_emoji.py --category 'Smileys & Emotion'" >&2; exit 2; }

# the bundled model's recipe (its card's command), minus its output paths
recipe=(--arch dcgan64 --width 0.25 --batch 64 --precision bf16 --loss bce --augment color,translation,cutout
  --init dcgan --d-threshold 0 --seed 0)
declare -A variants=(
  [recipe]=""
  [ema]="--ema 0.999"
  [r1]="--r1 1"
  [r1-ema]="--r1 1 --ema 0.999"
  [projected]="--discriminator projected --augment color,translation,cutout"
  [projected-ema]="--discriminator projected --augment color,translation,cutout --ema 0.999"
)
# the projected D is left out of the default list: at 64 px it upsamples to EfficientNet's 224 px and took
# 36 s a step at batch 64 on this CPU (a 12-minute budget would train ~20 steps); name it to run it anyway
order=(recipe ema r1 r1-ema)
[ $# -gt 0 ] && order=("$@")

mkdir -p "$OUT"
for name in "${order[@]}"; do
  extra=${variants[$name]-}
  [ -n "${variants[$name]+set}" ] || { echo "unknown variant $name (${!variants[*]})" >&2; exit 2; }
  dir="$OUT/$name"
  mkdir -p "$dir"
  resume=()
  [ -f "$dir/run/run.safetensors" ] && resume=(--resume)
  # shellcheck disable=SC2086  # $extra is a list of flags
  nice -n 5 "$STUDIO" train csgan --data "$DATA" "${recipe[@]}" $extra --steps 5000 --threads "$THREADS" \
    --time-limit "$MINUTES" --kid-every 250 --kid-samples 256 --save-every 250 --preview-every 250 \
    --out "$dir/model/emoji-$name" --run-dir "$dir/run" --preview-png "$dir/preview.png" "${resume[@]}" \
    --licence Apache-2.0 --notes "issue 14 ablation: $name, $MINUTES min on $THREADS CPU thread(s)" \
    --data-name "Google Noto Emoji 64px, category 'Smileys & Emotion' (169 images)" > "$dir/train.log" 2>&1
  echo "$name: $(tail -c 300 "$dir/train.log" | tr '\r' '\n' | tail -n 2 | head -n 1)"
  nice -n 5 "$STUDIO" eval "$dir/model/emoji-$name.json" --data "$DATA" --n 1000 --write-card > "$dir/eval.log" 2>&1
  tail -n 3 "$dir/eval.log"
done
