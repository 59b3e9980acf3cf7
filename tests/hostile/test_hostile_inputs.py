"""Hostile inputs through every door: the CLI entry points (in-process, ``studio.cli.main``) and the
window's open / drop functions. The corpus is made by ``tests/hostile/make_corpus.py``.

For every call: no traceback, no hang (each call is bounded), a failure is exit code 1 or 2 with one
``error:`` line naming the file; no code runs (a pickle whose ``__reduce__`` would create a marker file
never creates it); and the studio still starts — ``models list``, ``generate`` and the window — with any
one of these files in the user models folder.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import stat
import threading
from pathlib import Path

import pytest

from studio.cli import main

from .make_corpus import Item, make_corpus

CALL_SECONDS = 30  # one CLI call; the slowest (a fine-tune that fails at its painting) takes ~1 s


class Hung(Exception):
    pass


@contextlib.contextmanager
def bounded(seconds: float = CALL_SECONDS):
    """Fail (instead of hanging the suite) when the block runs longer than ``seconds``. SIGALRM interrupts
    a blocking open() of a FIFO too (the handler raises: PEP 475 does not retry then)."""
    if not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum, frame):
        raise Hung(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def cli(capsys, *argv: str, ok: tuple[int, ...] = (0,), report: bool = False) -> tuple[int, str, str]:
    """Run ``studio ARGV`` in-process, bounded; check the no-traceback / one-line-error contract
    (``report``: a command whose exit 1 is a report on stdout, like ``models validate``)."""
    capsys.readouterr()
    with bounded():
        code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    text = out + err
    assert "Traceback" not in text, (argv, text[-3000:])
    assert code in ok, (argv, code, text[-2000:])
    if code in (1, 2) and not report:
        errors = [line for line in err.splitlines() if "error:" in line]
        assert len(errors) == 1, (argv, err)
        assert errors[0].startswith(("error:", "studio")), (argv, err)
    return code, out, err


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> tuple[Path, Path, list[Item]]:
    root = tmp_path_factory.mktemp("hostile")
    marker = root / "PWNED"
    items = make_corpus(root / "corpus", marker)
    yield root / "corpus", marker, items
    assert not marker.exists(), "a hostile pickle ran code"


def of_kind(items: list[Item], *kinds: str) -> list[Item]:
    return [i for i in items if i.kind in kinds]


def place(src: Path, folder: Path) -> None:
    """Copy one corpus file into ``folder`` as it is: a FIFO stays a FIFO, a link stays a link."""
    folder.mkdir(parents=True, exist_ok=True)
    dst = folder / src.name
    if src.is_symlink():
        dst.symlink_to(os.readlink(src))
    elif stat.S_ISFIFO(os.lstat(src).st_mode):
        os.mkfifo(dst)
    elif src.is_dir():
        dst.mkdir()
    else:
        shutil.copyfile(src, dst)


def place_model(item: Item, folder: Path) -> None:
    """A model item is its card and, next to it, its tensors file (whatever each of them is)."""
    for path in (item.path, item.path.with_suffix(".safetensors")):
        if os.path.lexists(path):
            place(path, folder)


def user_models() -> Path:
    return Path(os.environ["STUDIO_HOME"]) / "models"


# -- models: list, validate, inspect, import ---------------------------------------------------------------
def test_models_list_starts_with_each_hostile_file_in_the_user_folder(corpus, capsys, tiny_family):
    _, _, items = corpus
    read = [i for i in items if i.kind == "model" or i.path.suffix == ".json"]  # the list reads *.json only
    for item in read:
        folder = user_models()
        shutil.rmtree(folder, ignore_errors=True)
        place_model(item, folder) if item.kind == "model" else place(item.path, folder)
        _, out, _ = cli(capsys, "models", "list")
        assert "emoji-dcgan" in out, (item.note, out)
        assert item.path.stem in out, (item.note, out)  # listed, or named as a problem
    shutil.rmtree(user_models(), ignore_errors=True)
    for item in items:  # the rest (images, PNG states, a .pt) at once: never opened by the list
        if item not in read:
            place(item.path, user_models())
    _, out, _ = cli(capsys, "models", "list")
    assert "emoji-dcgan" in out and "problem" not in out


def test_validate_and_inspect_name_the_file_and_its_problem(corpus, capsys, tiny_family):
    _, _, items = corpus
    for item in of_kind(items, "model"):
        valid = item.path.stem == "nan-card"  # NaN in its metrics is allowed (Python writes it)
        code, out, _ = cli(capsys, "models", "validate", item.path, ok=(0,) if valid else (1,), report=True)
        bad = [line for line in out.splitlines() if line.startswith("INVALID")]
        assert valid or (len(bad) == 1 and item.path.stem in bad[0]), (item.note, out)
        cli(capsys, "models", "inspect", item.path, ok=(0, 1))
        tensors = item.path.with_suffix(".safetensors")
        if os.path.lexists(tensors) and not item.path.stem.startswith("card-"):  # the tensors are the attack
            cli(capsys, "models", "validate", tensors, ok=(0,) if valid else (1,), report=True)


def test_a_pickle_is_never_unpickled(corpus, capsys, tiny_family):
    root, marker, items = corpus
    legacy = next(i for i in items if i.kind == "legacy")
    _, _, err = cli(capsys, "models", "import", legacy.path, "--like", "emoji-dcgan", ok=(1,))
    assert "weights-only" in err
    for name in ("pickle", "torch-zip"):
        _, out, _ = cli(capsys, "models", "validate", root / "models" / f"{name}.json", ok=(1,), report=True)
        assert "never unpickles" in out and "studio models import" in out
    assert not marker.exists()


def test_everything_at_once_in_the_user_folder_generate_and_list_still_work(corpus, capsys, tmp_path, tiny_family):
    _, _, items = corpus
    for item in of_kind(items, "model"):
        place_model(item, user_models())
    _, out, _ = cli(capsys, "models", "list")
    bad_cards = [i for i in of_kind(items, "model") if i.path.stem.startswith(("card-", "deep", "binary", "list"))]
    assert "emoji-dcgan" in out and all(f"{i.path.name}: " in out for i in bad_cards), out
    image = tmp_path / "ok.png"
    _, out, _ = cli(capsys, "generate", "--seeds", "0", "-o", image)
    assert image.exists()
    cli(capsys, "models", "validate", "--all", ok=(1,), report=True)


# -- states and images through the CLI ---------------------------------------------------------------------
def test_generate_state_refuses_every_hostile_state_and_image(corpus, capsys, tmp_path):
    _, _, items = corpus
    out = tmp_path / "never.png"
    for item in of_kind(items, "state", "image"):
        _, _, err = cli(capsys, "generate", "--state", item.path, "-o", out, ok=(1, 2))
        assert item.path.name in err, (item.note, err)
        assert not out.exists()


def test_image_commands_refuse_every_hostile_image(corpus, capsys, tmp_path):
    _, _, items = corpus
    out = tmp_path / "never.png"
    good = tmp_path / "good.png"
    cli(capsys, "generate", "--seeds", "0", "-o", good)
    # pixels fine, only its state chunk is hostile (read through generate --state and drops instead)
    images = [i for i in of_kind(items, "image") if i.path.name != "huge-text-chunk.png"]
    for item in images:
        cli(capsys, "translate", "emoji-google2twitter", item.path, "-o", out, ok=(1,))
        cli(capsys, "stylize", item.path, good, "-o", out, "--steps", "1", ok=(1,))
        assert not out.exists(), item.note
    for item in images[:4] + images[-2:]:  # the slower loaders: a sample, FIFO and /dev/zero included
        cli(capsys, "transfer", "gadn-emoji", item.path, "-o", out, ok=(1,))
        cli(capsys, "finetune", "emoji-dcgan", item.path, "--steps", "1", "--out", "never", ok=(1,))
        assert not out.exists() and not (user_models() / "never.json").exists(), item.note


# -- the window: open and drop ------------------------------------------------------------------------------
def test_the_window_starts_opens_and_drops_every_hostile_file(corpus, qtbot, tmp_path, tiny_family):
    from PySide6.QtCore import QSettings

    from studio.ui.main_window import MainWindow

    _, marker, items = corpus
    for item in of_kind(items, "model"):
        place_model(item, user_models())
    with bounded(60):
        window = MainWindow(settings=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat), load_tools=False)
        qtbot.addWidget(window)
        window.show()
        qtbot.waitUntil(lambda: not window.canvas.image().isNull(), timeout=20000)
    assert window.current_model_id() == "emoji-dcgan"
    state = window.current_state()
    hostile = [i for i in items if i.path.stem != "nan-card"]  # a valid model: it would open
    for item in of_kind(hostile, "image", "state", "model", "legacy"):
        window.last_error = ""
        with bounded(10):
            assert window.drop_file(item.path) in (True, False)
        if item.path.suffix == ".json":  # dropped as a checkpoint: loaded in the render thread, refused there
            qtbot.waitUntil(lambda: bool(window.last_error), timeout=10000)
            assert window.current_model_id() == "emoji-dcgan", item.note
        if item.kind in ("image", "state"):
            assert window.last_error, item.note
            assert window.current_state() == state, item.note  # nothing of it kept
    for item in of_kind(hostile, "model"):  # File ▸ Open on each: a clear error, the canvas keeps its model
        window.last_error = ""
        with bounded(10):
            window.open_model(item.path)
        qtbot.waitUntil(lambda: bool(window.last_error), timeout=10000)
        assert item.path.name in window.last_error or item.path.stem in window.last_error, item.note
    qtbot.waitUntil(lambda: window.current_model_id() == "emoji-dcgan" and bool(window.last_error), timeout=20000)
    # still alive and rendering
    window.open_model("emoji-dcgan")
    before = window.canvas.frames_shown
    qtbot.waitUntil(lambda: window.canvas.frames_shown > before, timeout=20000)
    before = window.canvas.frames_shown
    window.panel.seed_box.setValue(window.panel.seed_box.value() + 1)
    qtbot.waitUntil(lambda: window.canvas.frames_shown > before, timeout=20000)
    assert not marker.exists()
    window.close()
