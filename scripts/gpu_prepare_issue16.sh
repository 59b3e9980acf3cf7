#!/usr/bin/env bash
# Prepare .carry16/ for scripts/gpu_session_issue16.sh (issue 16: photo -> painting translators on a lent GPU):
#   .carry16/p2p-sources/   the training photos and paintings of data/photo2painting at their 384 px crop scale,
#                           JPEG, with sources.json (keys, split, licences): ~10 MB instead of 690 MB of crops
#   .carry16/whl/           platformdirs (pure Python; the GPU image lacks it)
# The held-out images stay here: the models are scored here, on data/photo2painting/test{A,B}.
# .carry16/ is git-ignored (.git/info/exclude). Needs the Debian packages (scripts/prepare_photo2painting.py).
set -euo pipefail
cd "$(dirname "$0")/.."
grep -qx '/.carry16/' .git/info/exclude 2>/dev/null || echo '/.carry16/' >> .git/info/exclude
mkdir -p .carry16/whl
if [ ! -f .carry16/p2p-sources/sources.json ]; then
  scratch=$(mktemp -d)
  .venv/bin/python scripts/prepare_photo2painting.py --out "$scratch/p2p" --crops-a 0 --crops-b 0 \
    --test-crops-a 0 --test-crops-b 0 --export-sources .carry16/p2p-sources
  rm -rf "$scratch"
fi
.venv/bin/python -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 -d .carry16/whl platformdirs==4.14.8
du -sh .carry16
