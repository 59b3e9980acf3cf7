"""Issue 15: every bad argument is a one-line error (exit 2) before any work, no command replaces a file
without --overwrite, a failed write keeps the result, the image format follows -o, --state renders with
the state's model. In-process through studio.cli.main with a private STUDIO_HOME (tests/conftest.py)."""

from __future__ import annotations

import errno
import io

import numpy as np
import pytest
from PIL import Image

from studio.cli import build_parser, main
from studio.core.export import read_state
from studio.core.paths import studio_home

TRANSLATOR = "emoji-google2twitter"  # bundled, 64 px: a translation of a 24 px image takes milliseconds


@pytest.fixture
def tiny_ids(make_tiny):
    """Two tiny models installed in the user models folder: 'tiny-a' and 'tiny-b' (different weights)."""
    folder = studio_home() / "models"
    folder.mkdir(parents=True, exist_ok=True)
    make_tiny(folder / "tiny-a", seed=0)
    make_tiny(folder / "tiny-b", seed=5)
    return "tiny-a", "tiny-b"


@pytest.fixture
def picture(tmp_path):
    path = tmp_path / "pic.png"
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 256, (24, 24, 3), dtype=np.uint8)).save(path)
    return path


def one_line_error(capsys, *words: str) -> str:
    """The command printed exactly one line on stderr, an 'error:' naming each of ``words``."""
    captured = capsys.readouterr()
    lines = [line for line in captured.err.splitlines() if line.strip()]
    assert len(lines) == 1, captured.err
    assert "error:" in lines[0] and "Traceback" not in captured.err
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


# -- every bad argument: one line, exit code 2, nothing written ---------------------------------------------
BAD_ARGUMENTS = [
    (["generate", "--seeds", "abc"], "--seeds"),
    (["generate", "--seeds", ","], "--seeds"),
    (["generate", "--seeds", "0-99999"], "--seeds"),
    (["generate", "--seeds", "-5"], "--seeds"),
    (["generate", "--cell", "-5"], "--cell"),
    (["generate", "--cols", "-1"], "--cols"),
    (["generate", "--cols", "two"], "--cols"),
    (["generate", "--scalar", "x=abc"], "--scalar"),
    (["generate", "--scalar", "x"], "--scalar"),
    (["generate", "--scalar", "x=nan"], "--scalar"),
    (["generate", "--label", "artist"], "--label"),
    (["generate", "--truncation", "nan"], "--truncation"),
    (["generate", "--truncation", "inf"], "--truncation"),
    (["generate", "--truncation", "-1"], "--truncation"),
    (["generate", "-o", "grid.gif"], "grid.gif"),
    (["generate", "-o", "grid"], "-o"),
    (["transfer", "gadn-emoji", "--seeds", "abc"], "--seeds"),
    (["transfer", "gadn-emoji", "--cell", "-1"], "--cell"),
    (["translate", TRANSLATOR, "x.png", "--tile", "-1"], "--tile"),
    (["translate", TRANSLATOR, "x.png", "--overlap", "-2"], "--overlap"),
    (["translate", TRANSLATOR, "x.png", "-o", "y.bmp"], "y.bmp"),
    (["stylize", "a.png", "b.png", "-o", "o.png", "--size", "0"], "--size"),
    (["stylize", "a.png", "b.png", "-o", "o.png", "--steps", "0"], "--steps"),
    (["stylize", "a.png", "b.png", "-o", "o.png", "--ratio", "nan"], "--ratio"),
    (["stylize", "a.png", "b.png", "-o", "o.png", "--lr", "-1"], "--lr"),
    (["stylize", "a.png", "b.png", "-o", "o.tiff"], "o.tiff"),
    (["eval", "m", "--data", "d", "--n", "0"], "--n"),
    (["eval", "m", "--data", "d", "--batch-size", "0"], "--batch-size"),
    (["run", "cyclegan", "translate", TRANSLATOR, "x.png", "--tile", "-1"], "--tile"),
    (["run", "can", "sort", "m", "--count", "0"], "--count"),
    (["run", "can", "steer", "m", "--style", "a", "--amount", "nan"], "--amount"),
    (["train", "cyclegan", "--a", "a", "--b", "b", "--lr", "nan"], "--lr"),
    (["train", "cyclegan", "--a", "a", "--b", "b", "--decay-start", "2"], "--decay-start"),
    (["train", "cyclegan", "--a", "a", "--b", "b", "--d-channels", "16,x"], "--d-channels"),
    (["train", "cyclegan", "--a", "a", "--b", "b", "--residual", "maybe"], "--residual"),
    (["train", "ugatit", "--a", "a", "--b", "b", "--lr", "-1"], "--lr"),
    (["train", "ugatit", "--a", "a", "--b", "b", "--n-res", "0"], "--n-res"),
    (["train", "cyclegan", "--a", "a", "--b", "b", "--steps", "0"], "--steps"),
    (["train", "cyclegan", "--a", "a", "--b", "b", "--batch", "-4"], "--batch"),
    (["train", "cyclegan", "--a", "a", "--b", "b", "--time-limit", "nan"], "--time-limit"),
    (["train", "cyclegan", "--a", "a", "--b", "b", "--ema", "1"], "--ema"),
    (["train", "cyclegan", "--a", "a", "--b", "b", "--nproc", "0"], "--nproc"),
    (["train", "csgan", "--data", "d", "--width", "0"], "--width"),
    (["train", "csgan", "--data", "d", "--width", "100"], "--width"),
    (["train", "csgan", "--data", "d", "--lr", "-1"], "--lr"),
    (["train", "csgan", "--data", "d", "--lr", "nan"], "--lr"),
    (["train", "csgan", "--data", "d", "--pca-k", "-1"], "--pca-k"),
    (["train", "csgan", "--data", "d", "--pca-samples", "0"], "--pca-samples"),
    (["train", "csgan", "--data", "d", "--r1", "-1"], "--r1"),
    (["train", "can", "--data", "d", "--holdout", "1"], "--holdout"),
    (["train", "can", "--data", "d", "--width", "0"], "--width"),
    (["train", "can", "--data", "d", "--lr-g", "0"], "--lr-g"),
    (["train", "gadn", "--data", "d", "--lr1", "nan"], "--lr1"),
    (["train", "gadn", "--data", "d", "--steps1", "-1"], "--steps1"),
    (["train", "gadn", "--data", "d", "--width", "100"], "--width"),
    (["train", "cyclegan", "--a", "a", "--b", "b", "--size", "0"], "--size"),
    (["train", "cyclegan", "--a", "a", "--b", "b", "--kid-samples", "1"], "--kid-samples"),
    (["train", "cyclegan", "--a", "a", "--b", "b", "--kid-every", "-1"], "--kid-every"),
    (["run", "cppn", "render", "m", "--size", "100000"], "--size"),
    (["run", "cppn", "train", "--data", "d", "--lr", "0"], "--lr"),
    (["finetune", "emoji-dcgan", "p.png", "--lr", "nan"], "--lr"),
    (["finetune", "emoji-dcgan", "p.png", "--layers", "-1"], "--layers"),
    (["finetune", "emoji-dcgan", "p.png", "--style-weight", "-1"], "--style-weight"),
]


@pytest.mark.parametrize(("argv", "names"), BAD_ARGUMENTS, ids=[" ".join(a) for a, _ in BAD_ARGUMENTS])
def test_bad_argument_is_one_line_exit_2(argv, names, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    one_line_error(capsys, names)
    assert list(tmp_path.iterdir()) == []  # nothing written, nothing started


def test_huge_cell_is_refused_with_its_memory_estimate_and_the_limit(capsys):
    assert main(["generate", "--cell", "100000"]) == 2
    line = one_line_error(capsys, "--cell")
    assert "27.9 GiB" in line and "limit is 4096 px" in line


def test_grid_too_big_for_memory_is_refused_before_rendering(tiny_ids, tmp_path, monkeypatch, capsys):
    from studio.core import family

    rendered = []
    monkeypatch.setattr(family.LatentModel, "latents_for", lambda self, states: rendered.append(1))
    out = tmp_path / "big.png"
    assert main(["generate", "tiny-a", "--seeds", "0-3999", "--cell", "4000", "-o", str(out)]) == 1
    line = one_line_error(capsys, "GiB", "limit is 1.0 GiB")
    assert "px" in line and not rendered and not out.exists()


def test_seed_lists_parse():
    from studio.cli.generate_cmd import parse_seeds

    assert parse_seeds("0-3") == [0, 1, 2, 3]
    assert parse_seeds("5,1, 9") == [5, 1, 9]
    assert parse_seeds("3-1") == [3, 2, 1]
    assert parse_seeds("0-2,7") == [0, 1, 2, 7]
    with pytest.raises(ValueError, match="--seeds"):
        parse_seeds("1-x")


# -- labels and scalars are checked against the model ------------------------------------------------------
@pytest.mark.parametrize(
    ("flag", "words"),
    [
        (["--label", "artist=nobody"], ["no label 'artist'", "colour"]),
        (["--label", "colour=purple"], ["unknown colour 'purple'", "red, green, blue"]),
        (["--scalar", "loudness=2"], ["no scalar 'loudness'", "brightness"]),
    ],
)
def test_unknown_label_or_scalar_is_refused(tiny_ids, tmp_path, flag, words, capsys):
    out = tmp_path / "g.png"
    assert main(["generate", "tiny-a", "--seeds", "0", *flag, "-o", str(out)]) == 1
    one_line_error(capsys, *words)
    assert not out.exists()


def test_known_label_and_scalar_are_used(tiny_ids, tmp_path):
    out = tmp_path / "g.png"
    argv = ["generate", "tiny-a", "--seeds", "0", "--label", "colour=blue", "--scalar", "brightness=0.5"]
    assert main([*argv, "-o", str(out)]) == 0
    state = read_state(out)
    assert state["labels"]["colour"] == "blue" and state["scalars"]["brightness"] == 0.5


# -- no silent overwrite -------------------------------------------------------------------------------------
def _existing(path, content=b"precious"):
    path.write_bytes(content)
    return path


def test_generate_refuses_an_existing_output_unless_overwrite(tiny_ids, tmp_path, capsys):
    out = _existing(tmp_path / "g.png")
    assert main(["generate", "tiny-a", "--seeds", "0", "-o", str(out)]) == 1
    one_line_error(capsys, "g.png already exists", "--overwrite")
    assert out.read_bytes() == b"precious"
    for flag in ("--overwrite", "--force"):
        assert main(["generate", "tiny-a", "--seeds", "0", "-o", str(out), flag]) == 0
        assert read_state(out)["model"] == "tiny-a"
        _existing(out)


def test_generate_default_output_picks_a_free_name(tiny_ids, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    _existing(tmp_path / "samples.png")
    assert main(["generate", "tiny-a", "--seeds", "0"]) == 0
    captured = capsys.readouterr()
    assert "writing samples-2.png instead" in captured.err and "wrote samples-2.png" in captured.out
    assert (tmp_path / "samples.png").read_bytes() == b"precious"
    assert read_state(tmp_path / "samples-2.png")["model"] == "tiny-a"


def test_generate_output_onto_a_folder_is_refused(tiny_ids, tmp_path, capsys):
    folder = tmp_path / "shots.png"
    folder.mkdir()
    assert main(["generate", "tiny-a", "-o", str(folder)]) == 2
    one_line_error(capsys, "is a folder")


def test_transfer_refuses_an_existing_output_before_loading(tmp_path, capsys):
    out = _existing(tmp_path / "t.png")
    assert main(["transfer", "gadn-emoji", "--seeds", "0", "-o", str(out)]) == 1
    one_line_error(capsys, "already exists", "--overwrite")
    assert out.read_bytes() == b"precious"


def test_transfer_refuses_image_and_seeds_together(picture, tmp_path, capsys):
    assert main(["transfer", "gadn-emoji", str(picture), "--seeds", "0-2", "-o", str(tmp_path / "t.png")]) == 1
    one_line_error(capsys, "not both")


def test_translate_refuses_its_own_input_and_an_existing_output(picture, tmp_path, capsys):
    before = picture.read_bytes()
    assert main(["translate", TRANSLATOR, str(picture), "-o", str(picture)]) == 1
    one_line_error(capsys, "is the input image")
    out = _existing(tmp_path / "t.png")
    assert main(["translate", TRANSLATOR, str(picture), "-o", str(out)]) == 1
    one_line_error(capsys, "already exists", "--overwrite")
    assert picture.read_bytes() == before and out.read_bytes() == b"precious"


def test_translate_default_name_is_made_free_and_said(picture, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    taken = _existing(tmp_path / f"pic-{TRANSLATOR}-a2b.png")
    assert main(["translate", TRANSLATOR, str(picture), "--device", "cpu"]) == 0
    free = tmp_path / f"pic-{TRANSLATOR}-a2b-2.png"
    captured = capsys.readouterr()
    assert f"writing {free.name} instead" in captured.err and free.name in captured.out
    assert taken.read_bytes() == b"precious" and read_state(free)["translate"]["source"] == "pic.png"


def test_stylize_refuses_an_existing_output_and_its_inputs(picture, tmp_path, capsys):
    out = _existing(tmp_path / "s.png")
    assert main(["stylize", str(picture), str(picture), "-o", str(out)]) == 1
    one_line_error(capsys, "already exists", "--overwrite")
    assert main(["stylize", str(picture), str(picture), "-o", str(picture)]) == 1
    one_line_error(capsys, "is the input image")
    assert out.read_bytes() == b"precious"


def test_eval_refuses_an_existing_report_before_the_work(tmp_path, capsys):
    report = _existing(tmp_path / "r.html")
    assert main(["eval", "emoji-dcgan", "--data", str(tmp_path / "nowhere"), "--report", str(report)]) == 1
    one_line_error(capsys, "r.html already exists", "--overwrite")
    (tmp_path / "rep").mkdir()
    _existing(tmp_path / "rep" / "report.html")
    assert main(["eval", "emoji-dcgan", "--data", str(tmp_path), "--report", str(tmp_path / "rep")]) == 1
    one_line_error(capsys, "report.html already exists")
    assert report.read_bytes() == b"precious"


def test_overwrite_is_a_synonym_of_force_for_training_and_jobs():
    parser = build_parser()
    for argv in (
        ["train", "csgan", "--data", "x", "--overwrite"],
        ["train", "csgan", "--data", "x", "--force"],
        ["finetune", "m", "p.png", "--overwrite"],
        ["run", "can", "sort", "m", "--overwrite"],
        ["run", "can", "sort", "m", "--force"],
    ):
        assert parser.parse_args(argv).force is True, argv


# -- a failed write keeps the result --------------------------------------------------------------------------
def _disk_full(monkeypatch, target):
    """Writing ``target`` fails as on a full disk; every other write works."""
    from studio.core import export

    real = export.save_image

    def save_image(path, *args, **kwargs):
        if str(path) == str(target):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(path, *args, **kwargs)

    monkeypatch.setattr(export, "save_image", save_image)


def test_generate_keeps_the_result_when_the_write_fails(tiny_ids, tmp_path, monkeypatch, capsys):
    out = tmp_path / "g.png"
    _disk_full(monkeypatch, out)
    assert main(["generate", "tiny-b", "--seeds", "0-1", "-o", str(out)]) == 1
    recovered = studio_home() / "recovered" / "g.png"
    one_line_error(capsys, "could not write", "No space left on device", str(recovered))
    assert not out.exists() and read_state(recovered)["model"] == "tiny-b"


def test_translate_keeps_the_result_when_the_write_fails(picture, tmp_path, monkeypatch, capsys):
    out = tmp_path / "t.webp"
    _disk_full(monkeypatch, out)
    assert main(["translate", TRANSLATOR, str(picture), "-o", str(out), "--device", "cpu"]) == 1
    recovered = studio_home() / "recovered" / "t.png"
    one_line_error(capsys, "could not write", str(recovered))
    with Image.open(recovered) as im:
        assert im.size == (24, 24)


def test_stylize_keeps_the_result_when_the_write_fails(picture, tmp_path, monkeypatch):
    from studio.core.jobs import run_job
    from studio.losses.testing import TinyFeatures
    from studio.stylize import StylizeConfig, StylizeJob

    out = tmp_path / "s.png"
    _disk_full(monkeypatch, out)
    res = run_job(StylizeJob(picture, picture, out, StylizeConfig(size=24, steps=1), "cpu", TinyFeatures()))
    recovered = studio_home() / "recovered" / "s.png"
    assert res.status == "failed" and str(recovered) in res.message and "No space left" in res.message
    assert read_state(recovered)["kind"] == "stylize" and not out.exists()


def test_recovered_results_never_replace_each_other(tiny_ids, tmp_path, monkeypatch, capsys):
    out = tmp_path / "g.png"
    _disk_full(monkeypatch, out)
    for _ in range(2):
        assert main(["generate", "tiny-a", "--seeds", "0", "-o", str(out)]) == 1
    assert sorted(p.name for p in (studio_home() / "recovered").iterdir()) == ["g-2.png", "g.png"]


# -- the format follows the suffix ------------------------------------------------------------------------------
@pytest.mark.parametrize(("suffix", "fmt"), [(".png", "PNG"), (".jpg", "JPEG"), (".jpeg", "JPEG"), (".webp", "WEBP")])
def test_output_format_follows_the_suffix_and_keeps_the_state(tiny_ids, tmp_path, suffix, fmt):
    out = tmp_path / f"g{suffix}"
    assert main(["generate", "tiny-a", "--seeds", "3-4", "-o", str(out)]) == 0
    with Image.open(out) as im:
        assert im.format == fmt
    state = read_state(out)
    assert state["model"] == "tiny-a" and state["grid"]["seeds"] == [3, 4]


# -- --state renders with the state's model ------------------------------------------------------------------
def test_state_renders_with_the_model_it_names(tiny_ids, tmp_path, capsys):
    made = tmp_path / "b.png"
    assert main(["generate", "tiny-b", "--seeds", "7", "-o", str(made)]) == 0
    again = tmp_path / "again.png"
    assert main(["generate", "--state", str(made), "--seeds", "7", "-o", str(again)]) == 0
    assert "from 'tiny-b'" in capsys.readouterr().out
    assert read_state(again)["model"] == "tiny-b"
    with Image.open(made) as a, Image.open(again) as b:
        assert np.array_equal(np.asarray(a), np.asarray(b))
    # given MODEL wins, says so, and the image records the model actually used
    other = tmp_path / "other.png"
    assert main(["generate", "tiny-a", "--state", str(made), "--seeds", "7", "-o", str(other)]) == 0
    assert "made with 'tiny-b'; rendering it with 'tiny-a'" in capsys.readouterr().err
    assert read_state(other)["model"] == "tiny-a"
    with Image.open(made) as a, Image.open(other) as b:
        assert not np.array_equal(np.asarray(a), np.asarray(b))


def test_state_alone_regenerates_the_exported_grid(tiny_ids, tmp_path, capsys):
    made = tmp_path / "grid.png"
    assert main(["generate", "tiny-b", "--seeds", "3-8", "--cols", "2", "--truncation", "0.7", "-o", str(made)]) == 0
    again = tmp_path / "again.png"
    assert main(["generate", "--state", str(made), "-o", str(again)]) == 0
    assert "3×2 grid of 6 samples from 'tiny-b'" in capsys.readouterr().out
    with Image.open(made) as a, Image.open(again) as b:
        assert np.array_equal(np.asarray(a), np.asarray(b))
    assert read_state(again)["truncation"] == 0.7


def test_state_of_a_model_that_is_not_installed_is_a_clear_error(tiny_ids, tmp_path, capsys):
    from studio.core.export import save_png

    state_png = tmp_path / "s.png"
    save_png(state_png, np.zeros((4, 4, 3), np.uint8), {"model": "gone-model", "seed": 1})
    out = tmp_path / "o.png"
    assert main(["generate", "--state", str(state_png), "-o", str(out)]) == 1
    one_line_error(capsys, "'gone-model'", "not installed", "give MODEL")
    save_png(state_png, np.zeros((4, 4, 3), np.uint8), {"model": "/etc/elsewhere/x.json", "seed": 1})
    assert main(["generate", "--state", str(state_png), "-o", str(out)]) == 1
    one_line_error(capsys, "not installed")  # a state names models by id only, never by path
    assert not out.exists()


# -- a closed pipe ------------------------------------------------------------------------------------------------
class _ClosedPipe(io.StringIO):
    def write(self, text):
        raise BrokenPipeError(errno.EPIPE, "Broken pipe")

    def flush(self):
        raise BrokenPipeError(errno.EPIPE, "Broken pipe")


@pytest.mark.parametrize("argv", [["models", "list"], ["models", "inspect", "emoji-dcgan"]])
def test_closed_pipe_is_quiet(argv, monkeypatch, capsys):
    monkeypatch.setattr("sys.stdout", _ClosedPipe())
    assert main(argv) == 141
    assert "Traceback" not in capsys.readouterr().err


# -- families that cannot do what was asked ------------------------------------------------------------------
@pytest.mark.parametrize("model", ["gadn-emoji", TRANSLATOR])
def test_finetune_of_a_family_that_cannot_be_fine_tuned_is_a_clear_error(model, picture, capsys):
    assert main(["finetune", model, str(picture), "--steps", "1", "--device", "cpu"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and "TypeError" not in err
    assert f"'{model}' is a" in err and "cannot be style fine-tuned" in err
    assert not list((studio_home() / "models").glob("*.json"))  # nothing exported


def test_run_translate_job_keeps_the_result_when_the_write_fails(picture, tmp_path, monkeypatch, capsys):
    out = tmp_path / "t.png"
    _disk_full(monkeypatch, out)
    argv = ["run", "cyclegan", "translate", TRANSLATOR, str(picture), "-o", str(out), "--device", "cpu"]
    assert main(argv) == 1
    recovered = studio_home() / "recovered" / "t.png"
    err = capsys.readouterr().err
    assert f"could not write {out}" in err and str(recovered) in err and "Traceback" not in err
    assert read_state(recovered)["translate"]["direction"] == "a2b" and not out.exists()


def test_translate_tile_smaller_than_its_overlap_is_one_error_line(picture, tmp_path, capsys):
    out = tmp_path / "t.png"
    assert main(["translate", TRANSLATOR, str(picture), "--tile", "4", "-o", str(out), "--device", "cpu"]) == 1
    one_line_error(capsys, "overlap", "tile (4)")
    assert not out.exists()


def test_existing_preview_png_is_kept_unless_overwrite_or_resume(tmp_path, capsys):
    preview = _existing(tmp_path / "live.png")
    data = tmp_path / "no-data"
    assert main(["train", "csgan", "--data", str(data), "--preview-png", str(preview)]) == 1
    one_line_error(capsys, "--preview-png", "live.png already exists", "--overwrite")
    assert main(["run", "cppn", "create", "--preview-png", str(preview)]) == 1
    one_line_error(capsys, "live.png already exists", "choose another file")
    assert preview.read_bytes() == b"precious"
    # with --overwrite the check passes and the job itself runs (and fails on the missing data)
    assert main(["train", "csgan", "--data", str(data), "--preview-png", str(preview), "--overwrite"]) == 1
    assert "live.png" not in capsys.readouterr().err


def test_training_refuses_an_existing_run_and_model_unless_overwrite(tmp_path, capsys):
    data = tmp_path / "data"
    data.mkdir()
    for i in range(4):
        Image.new("RGB", (16, 16), (60 * i, 100, 200 - 40 * i)).save(data / f"{i}.png")
    argv = ["train", "cppn", "--data", str(data), "--image-size", "8", "--steps", "2", "--batch", "2", "--out", "mine"]
    argv += ["--device", "cpu", "--kid-every", "0"]
    assert main(argv) == 0
    card = studio_home() / "models" / "mine.json"
    first = card.read_bytes()
    capsys.readouterr()
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert "--resume" in err and ("--overwrite" in err or "--force" in err) and "Traceback" not in err
    assert card.read_bytes() == first
    assert main([*argv, "--overwrite"]) == 0
    assert card.read_bytes() != first
