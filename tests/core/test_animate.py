"""Animation export (studio.core.animate / animate_job): frame counts, the states each file carries, timing."""

from __future__ import annotations

import json

import pytest
from PIL import Image

from studio.core.animate import (
    AnimationError,
    direction_keyframes,
    frame_states,
    positions,
    read_animation_record,
    tween,
)
from studio.core.animate_job import AnimateJob, written_frames
from studio.core.errors import StudioError
from studio.core.jobs import run_job
from studio.core.states import read_state_file
from studio.core.store import load_model


@pytest.fixture
def tiny(tiny_model):
    return load_model(tiny_model, device="cpu")


@pytest.mark.parametrize("suffix", [".gif", ".png", ".mp4"])
def test_export_has_the_requested_frames_and_carries_its_states(tiny, tmp_path, suffix):
    keys = [tiny.default_state("tiny", s) for s in (1, 2, 3)]
    out = tmp_path / f"anim{suffix}"
    result = run_job(AnimateJob(tiny, keys, out, frames=9, duration_s=0.9, easing="linear", size=32, model_id="tiny"))
    assert result.ok, result.message
    assert result.outputs["frames"] == 9 == written_frames(out)
    record = read_animation_record(out)
    assert [k["seed"] for k in record["keyframes"]] == [1, 2, 3]
    assert record["frames"] == 9 and record["easing"] == "linear" and record["model"] == "tiny"
    if suffix != ".mp4":
        with Image.open(out) as img:
            assert img.size == (32, 32)
            assert img.info.get("duration") == pytest.approx(100, abs=1)
    if suffix == ".png":  # an APNG also restores its first keyframe when dropped on the window
        assert read_state_file(out)["seed"] == 1


def test_loop_count_and_bounce(tiny, tmp_path):
    keys = direction_keyframes(tiny.default_state("tiny", 5), "pc0", 2.0)
    assert [k["directions"]["pc0"] for k in keys] == [-2.0, 2.0]
    out = tmp_path / "twice.png"
    assert run_job(AnimateJob(tiny, keys, out, frames=8, loop=2, bounce=True, model_id="tiny")).ok
    with Image.open(out) as img:
        assert img.n_frames == 8 and img.info.get("loop") == 2
    assert read_animation_record(out)["bounce"] is True


def test_positions_ease_and_bounce():
    lin = positions(5, 2, "linear")
    assert lin == pytest.approx([0, 0.25, 0.5, 0.75, 1.0])
    eased = positions(5, 2, "ease-in-out")
    assert eased[0] == 0 and eased[-1] == pytest.approx(1) and eased[1] < 0.25
    bounce = positions(4, 2, "linear", bounce=True)
    assert bounce == pytest.approx([0, 0.5, 1.0, 0.5])  # a cycle: the first frame is not repeated
    three = positions(5, 3, "linear")
    assert three == pytest.approx([0, 0.5, 1, 1.5, 2])
    with pytest.raises(StudioError, match="easing"):
        positions(5, 2, "wobble")


def test_tween_interpolates_sliders_or_codes(tiny):
    a = tiny.default_state("tiny", 1)
    b = dict(a, directions={"pc0": 2.0}, truncation=0.5)
    mid = tween(tiny, a, b, 0.5)
    assert mid["seed"] == 1 and mid["directions"]["pc0"] == pytest.approx(1.0) and mid["truncation"] == 0.75
    c = tiny.default_state("tiny", 2)
    mixed = tween(tiny, a, c, 0.5)  # different seeds: the codes are mixed, the frame is still a state
    za, zc, zm = (tiny.latent_for(s) for s in (a, c, mixed))
    assert (zm - za).norm() > 0.1 and (zm - zc).norm() > 0.1
    states = frame_states(tiny, [a, c], 6, "ease-in-out")
    assert states[0]["seed"] == 1 and tiny.latent_for(states[-1]).allclose(zc, atol=1e-4)


def test_bad_requests_are_clear_errors(tiny, tmp_path):
    keys = [tiny.default_state("tiny", s) for s in (1, 2)]
    with pytest.raises(StudioError, match="must end in"):
        AnimateJob(tiny, keys, tmp_path / "x.avi")
    with pytest.raises(StudioError, match="at least two"):
        AnimateJob(tiny, keys[:1], tmp_path / "x.gif")
    with pytest.raises(StudioError, match="2 to"):
        AnimateJob(tiny, keys, tmp_path / "x.gif", frames=1)
    (tmp_path / "taken.gif").write_bytes(b"")
    with pytest.raises(StudioError, match="already exists"):
        AnimateJob(tiny, keys, tmp_path / "taken.gif")
    plain = tmp_path / "plain.gif"
    Image.new("RGB", (4, 4)).save(plain)
    with pytest.raises(AnimationError, match="carries no GAN Studio states"):
        read_animation_record(plain)
    lying = tmp_path / "lying.gif"
    Image.new("RGB", (4, 4)).save(lying, comment=json.dumps({"keyframes": "nope"}).encode())
    with pytest.raises(AnimationError, match="no keyframes"):
        read_animation_record(lying)
