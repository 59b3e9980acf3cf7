# Sourced (not run) by the scripts/train_*_cpu.sh recipes: what every CPU sitting of a resumable run needs.
# The caller sets DATA, RUN_DIR and PREPARE (the command that makes DATA) first; this leaves the shell in the
# repository root with STUDIO, extra (EXTRA split into words) and resume (--resume when RUN_DIR holds a run).
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 2
STUDIO=${STUDIO:-.venv/bin/studio}
read -r -a extra <<< "${EXTRA:-}"
[ -d "$DATA" ] || { echo "no $DATA: run $PREPARE" >&2; exit 2; }
resume=()
[ -f "$RUN_DIR/run.safetensors" ] && resume=(--resume)  # a saved run continues; a new folder starts one
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}  # threads sleep while they wait: the other core stays free
