"""``studio invert`` and ``studio animate``: the headless faces of the inversion and animation jobs."""

from __future__ import annotations

import json
from pathlib import Path

from studio.cli import main
from studio.core.animate import read_animation_record
from studio.core.animate_job import written_frames
from studio.core.states import read_state_file

PHOTO = Path(__file__).resolve().parents[1] / "data" / "chelsea-96.jpg"


def test_invert_writes_a_state_that_generate_renders(tmp_path, capsys):
    out = tmp_path / "found.json"
    assert main(["invert", "emoji-dcgan", str(PHOTO), "-o", str(out), "--steps", "2", "--starts", "2"]) == 0
    err = capsys.readouterr().err
    assert "psnr:" in err and "vgg_distance:" in err and '"z_edits"' not in err  # the state goes to the file
    data = json.loads(out.read_text())
    assert set(data["quality"]) == {"vgg_distance", "psnr"} and data["state"]["model"] == "emoji-dcgan"
    assert len(read_state_file(out)["z_edits"]) == 100
    png = tmp_path / "seen.png"
    assert main(["generate", "--state", str(out), "-o", str(png)]) == 0


def test_invert_error_paths(tmp_path, capsys):
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"\xff\xd8\xff not a jpeg")
    cases = [
        (["invert", "emoji-dcgan", str(bad), "-o", str(tmp_path / "a.json")], "bad.jpg"),
        (["invert", "emoji-dcgan", str(tmp_path / "missing.png"), "-o", str(tmp_path / "a.json")], "not found"),
        (["invert", "emoji-dcgan", str(PHOTO), "-o", str(tmp_path / "a.txt")], "must end in .json or .png"),
        (["invert", "no-such-model", str(PHOTO), "-o", str(tmp_path / "a.json")], "neither a known model"),
        (["invert", "emoji-google2twitter", str(PHOTO), "-o", str(tmp_path / "a.json"), "--steps", "1"], "inversion"),
        (["invert", "emoji-dcgan", str(PHOTO), "-o", str(PHOTO)], "replace the input"),
    ]
    for argv, words in cases:
        assert main(argv) == 1, argv
        err = capsys.readouterr().err
        assert "error:" in err and words in err and "Traceback" not in err, (argv, err)
    assert main(["invert", "emoji-dcgan", str(PHOTO), "-o", str(tmp_path / "a.json"), "--steps", "-3"]) == 2
    taken = tmp_path / "taken.json"
    taken.write_text("{}")
    assert main(["invert", "emoji-dcgan", str(PHOTO), "-o", str(taken)]) == 1
    assert "--overwrite" in capsys.readouterr().err and taken.read_text() == "{}"


def test_animate_from_seeds_states_and_a_direction(tmp_path, capsys):
    gif = tmp_path / "seeds.gif"
    assert main(["animate", "emoji-dcgan", "--seeds", "3,8", "--frames", "6", "-o", str(gif)]) == 0
    assert written_frames(gif) == 6 and [k["seed"] for k in read_animation_record(gif)["keyframes"]] == [3, 8]
    a, b = tmp_path / "a.png", tmp_path / "b.png"
    assert main(["generate", "emoji-dcgan", "--seeds", "1", "-o", str(a)]) == 0
    assert main(["generate", "emoji-dcgan", "--seeds", "2", "-o", str(b)]) == 0
    mp4 = tmp_path / "states.mp4"
    argv = ["animate", "--state", str(a), "--state", str(b), "--frames", "5", "--easing", "linear", "-o", str(mp4)]
    assert main(argv) == 0  # the model comes from the states
    assert written_frames(mp4) == 5 and read_animation_record(mp4)["source"] == "states"
    apng = tmp_path / "dir.png"
    argv = ["animate", "emoji-dcgan", "--direction", "pc1", "--bounce", "--frames", "4", "-o", str(apng)]
    assert main(argv) == 0
    assert read_animation_record(apng)["source"] == "direction"


def test_animate_error_paths(tmp_path, capsys):
    out = str(tmp_path / "x.gif")
    cases = [
        (["animate", "emoji-dcgan", "-o", out], "give two or more --state"),
        (["animate", "emoji-dcgan", "--seeds", "3", "-o", out], "at least two seeds"),
        (["animate", "emoji-dcgan", "--direction", "pc99", "-o", out], "no direction 'pc99'"),
        (["animate", "emoji-dcgan", "--seeds", "1,2", "-o", str(tmp_path / "x.avi")], "must end in"),
        (["animate", "--state", str(PHOTO), "--state", str(PHOTO), "-o", out], "holds no GAN Studio state"),
    ]
    for argv, words in cases:
        assert main(argv) == 1, argv
        err = capsys.readouterr().err
        assert "error:" in err and words in err and "Traceback" not in err, (argv, err)
    assert main(["animate", "emoji-dcgan", "--seeds", "1,2", "--frames", "1", "-o", out]) == 2
    assert main(["animate", "emoji-dcgan", "--seeds", "1,2", "--easing", "wobble", "-o", out]) == 2
