#!/usr/bin/env bash
# CI: build the wheel, install it into a fresh venv outside the source tree, and run the studio from it.
#   bash scripts/check_wheel.sh
# Checks that a normal (non-editable) install is complete: the bundled models and the example plugin come
# from inside the installed package, and `studio models list`, `studio plugins` and `studio generate` work
# from an empty folder. To stay fast, the fresh venv borrows the project venv's third-party packages (torch,
# Qt...) through a .pth file; the `studio` package itself comes only from the wheel (asserted).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
python=${PYTHON:-$root/.venv/bin/python}
start=$(date +%s)

tmp=$(mktemp -d "${TMPDIR:-/tmp}/studio-wheel-check.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
case "$tmp/" in "$root"/*) echo "check_wheel: the temp folder $tmp is inside the checkout" >&2; exit 2 ;; esac

echo "== build the wheel"
"$python" -m pip wheel -q --no-deps -w "$tmp/dist" . 2>&1 | { grep -v "^WARNING: Location" || true; }
wheel=$(ls "$tmp"/dist/gan_studio-*.whl)
listing=$("$python" -m zipfile -l "$wheel")
for member in studio/py.typed studio/_bundled/plugins/cppn_patterns.py studio/_bundled/resources/models/emoji-dcgan.json \
  studio/_bundled/resources/models/emoji-dcgan.safetensors studio/_bundled/resources/models/photo2painting.LICENCE.txt \
  studio/_bundled/resources/models/photo2painting-ugatit.safetensors \
  .dist-info/licenses/LICENSE; do
  grep -q -- "$member" <<<"$listing" || { echo "check_wheel: $member is missing from $(basename "$wheel")" >&2; exit 1; }
done

echo "== install it into a fresh venv ($tmp/venv)"
"$python" -m venv --without-pip "$tmp/venv"
"$python" -m pip --python "$tmp/venv/bin/python" install -q --no-deps --no-index "$wheel" 2>&1 \
  | { grep -v "^WARNING: Location" || true; }
site=$("$tmp/venv/bin/python" -c "import sysconfig; print(sysconfig.get_path('purelib'))")
deps=$("$python" -c "import sysconfig; print(sysconfig.get_path('purelib'))")
echo "$deps" >"$site/zz_project_dependencies.pth"  # after the venv's own site-packages: the wheel's studio wins

echo "== run it from an empty folder"
mkdir -p "$tmp/work" "$tmp/home"
cd "$tmp/work"
unset PYTHONPATH STUDIO_RESOURCES STUDIO_PLUGIN_PATH VIRTUAL_ENV PYTHONHOME
export STUDIO_HOME="$tmp/home" QT_QPA_PLATFORM=offscreen PYTHONNOUSERSITE=1
studio="$tmp/venv/bin/studio"

"$tmp/venv/bin/python" - "$tmp/venv" <<'PY'
import sys
from pathlib import Path

import studio
from studio.core.paths import bundled_models_dir, plugin_dirs

venv = Path(sys.argv[1]).resolve()
where = Path(studio.__file__).resolve()
assert venv in where.parents, f"studio was imported from {where}, not from the wheel in {venv}"
models = bundled_models_dir().resolve()
assert venv in models.parents and models.parts[-3:] == ("_bundled", "resources", "models"), models
assert venv in plugin_dirs()[0].resolve().parents, plugin_dirs()
print(f"studio from {where.parent}; bundled models in {models}")
PY

models=$("$studio" models list)
echo "$models"
for id in can-emoji-styles emoji-dcgan emoji-google2twitter emoji-twitter2fluent gadn-emoji; do
  grep -Eq "^$id +.*bundled" <<<"$models" || { echo "check_wheel: 'studio models list' does not list $id" >&2; exit 1; }
done

plugins=$("$studio" plugins)
grep -q "cppn_patterns.py: families: cppn" <<<"$plugins" \
  || { echo "$plugins"; echo "check_wheel: 'studio plugins' does not list the cppn example" >&2; exit 1; }
echo "studio plugins: cppn_patterns.py loaded from $(grep -B1 cppn_patterns.py <<<"$plugins" | head -1 | xargs)"

"$studio" generate --seeds 0-3 -o out.png
"$tmp/venv/bin/python" -c "
from PIL import Image
im = Image.open('out.png'); im.load(); assert im.width > 64 and im.height > 0, im.size
print('out.png', im.size)"

echo "check_wheel: OK in $(($(date +%s) - start)) s"
