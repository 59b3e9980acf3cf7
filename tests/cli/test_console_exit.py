"""How the ``studio`` command ends: ``console_main`` (the console script and ``python -m studio``) exits
with main()'s code; a torchrun rank skips the interpreter's finalisation after flushing its output (see
studio.train.distributed.exit_process), any other process finalises normally."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROGRAM = (
    "import atexit; atexit.register(lambda: print('FINALISED', flush=True)); "
    "from studio.cli import console_main; console_main()"
)


def _run(args: list[str], tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK")}
    environ.update(STUDIO_HOME=str(tmp_path / "home"), QT_QPA_PLATFORM="offscreen", **env)
    return subprocess.run(
        [sys.executable, "-c", PROGRAM, *args], capture_output=True, text=True, env=environ, cwd=ROOT, timeout=120
    )


@pytest.mark.parametrize("args,code", [(["models"], 0), (["generate", "--seeds", "x"], 2)])
def test_a_torchrun_rank_flushes_and_skips_finalisation(tmp_path, args, code):
    rank = _run(args, tmp_path, RANK="1", WORLD_SIZE="2", LOCAL_RANK="1")
    plain = _run(args, tmp_path)
    assert rank.returncode == plain.returncode == code, (rank.stderr, plain.stderr)
    assert "FINALISED" in plain.stdout and "FINALISED" not in rank.stdout
    assert rank.stdout.strip() == plain.stdout.replace("FINALISED", "").strip()  # nothing lost unflushed
    assert rank.stderr == plain.stderr


def test_the_console_script_goes_through_console_main():
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["studio"] == "studio.cli:console_main"
    assert "console_main()" in (ROOT / "studio" / "__main__.py").read_text()
