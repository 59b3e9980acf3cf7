# Shared by the scripts that run on a lent GPU machine (scripts/gpu_session_*.sh); sourced, not run, from
# the repository root. Sets PY (python3) and DEVICE (cuda) unless given, and requires OUT.
# Such a machine starts bare and offline, carries 64 MiB with the working tree and sends back at most
# 8 files of 16 MiB, so the project is made importable without installing it, and the results travel
# as fp16 weights in <= 15 MiB parts (scripts/gpu_unpack.sh widens them again).

PY=${PY:-python3}
DEVICE=${DEVICE:-cuda}
OUT=${OUT:?set OUT to the folder whose files come back}

# gpu_setup CARRY WORK: install the carried wheels into WORK/site and declare the project's entry points
# (families, tools) with a dist-info folder on the path: no index there, and a wheel would carry the
# bundled models. Exports PYTHONPATH, STUDIO_HOME and the offscreen Qt platform.
gpu_setup() {
  local carry=$1 work=$2
  rm -rf "$work" && mkdir -p "$work/site" "$work/models" "$OUT" || return 1
  export STUDIO_HOME="$work/home" PYTHONUNBUFFERED=1 QT_QPA_PLATFORM=offscreen
  if compgen -G "$carry/whl/*.whl" >/dev/null; then
    $PY -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target "$work/site" "$carry"/whl/*.whl ||
      return 1
  fi
  $PY - "$work/site" <<'PYEOF' || return 1
import sys, tomllib, pathlib
meta = tomllib.loads(pathlib.Path("pyproject.toml").read_text())["project"]
info = pathlib.Path(sys.argv[1]) / "gan_studio-0.0.0.dist-info"
info.mkdir(parents=True, exist_ok=True)
(info / "METADATA").write_text("Metadata-Version: 2.1\nName: gan-studio\nVersion: 0.0.0\n")
groups = meta.get("entry-points", {})
(info / "entry_points.txt").write_text(
    "".join(f"[{g}]\n" + "".join(f"{k} = {v}\n" for k, v in eps.items()) + "\n" for g, eps in groups.items())
)
PYEOF
  export PYTHONPATH="$PWD:$work/site:$PWD/$carry/site"
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null || true
  $PY -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())"
}

# gpu_pack WORK NAME OUT: the exported models' weights to fp16 (exact enough to render; gpu_unpack.sh widens
# them to fp32 and says so in each card), the logs beside them, all in one archive cut into <= 15 MiB parts.
gpu_pack() {
  local work=$1 name=$2 out=$3
  $PY - "$work/models" <<'PYEOF'
import sys, pathlib
from safetensors.torch import load_file, save_file
from safetensors import safe_open
for path in pathlib.Path(sys.argv[1]).glob("*.safetensors"):
    with safe_open(str(path), "pt") as f:
        meta = f.metadata()
    tensors = {k: (v.half() if v.is_floating_point() else v) for k, v in load_file(str(path)).items()}
    save_file(tensors, str(path.with_suffix(".fp16.safetensors")), metadata=meta)
    path.unlink()
PYEOF
  cp "$work"/*.log "$work/models/" 2>/dev/null
  tar -C "$work" -cf "$work/$name.tar" models
  split -b 15M -d -a 1 "$work/$name.tar" "$out/$name.tar.part-"
  ls -la "$out"
}
