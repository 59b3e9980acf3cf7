"""The Train wizard's data check counts what training will read and names what it will skip; the step
timing drives real steps of a family's task; presets scale the family's own step options."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from studio.train import presets
from studio.train.data_check import check_folder, enough_text
from studio.train.step_timing import duration_text, estimate_seconds, measure_step_times, sample_copy


def make_mixed_folder(root: Path) -> Path:
    """5 good images (two sizes, one in a subfolder), 3 broken image files, 2 ignored files."""
    root.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i in range(3):
        Image.fromarray(rng.integers(0, 255, (32, 32, 3), np.uint8)).save(root / f"good{i}.png")
    (root / "sub").mkdir()
    for i in range(2):
        Image.fromarray(rng.integers(0, 255, (48, 64, 3), np.uint8)).save(root / "sub" / f"wide{i}.jpg")
    data = (root / "good0.png").read_bytes()
    (root / "truncated.png").write_bytes(data[: len(data) // 2])
    (root / "lies.png").write_text("this is not an image")
    (root / "empty.jpg").write_bytes(b"")
    (root / "notes.txt").write_text("hello")
    (root / ".hidden.png").write_bytes(data)
    return root


def test_counts_usable_images_and_names_the_skipped_ones(tmp_path):
    folder = make_mixed_folder(tmp_path / "imgs")
    report = check_folder(folder, target=64)
    assert report.ok and report.usable == 5
    assert sorted(s.path.name for s in report.skipped) == ["empty.jpg", "lies.png", "truncated.png"]
    reasons = {s.path.name: s.reason for s in report.skipped}
    assert "truncated" in reasons["truncated.png"] and "empty" in reasons["empty.jpg"]
    assert sorted(p.name for p in report.ignored) == [".hidden.png", "notes.txt"]
    assert report.smaller_than == 5  # all below 64 px on their shorter side: enlarged, and said so
    text = report.text()
    assert "5 usable images" in text and "3 will be skipped" in text and "32×32 to 64×48" in text
    assert "very few" in text


def test_folder_problems_are_sentences_not_exceptions(tmp_path):
    assert "does not exist" in check_folder(tmp_path / "nope").problem
    (tmp_path / "f.png").write_text("x")
    assert "not a folder" in check_folder(tmp_path / "f.png").problem
    only_bad = tmp_path / "bad"
    only_bad.mkdir()
    (only_bad / "a.png").write_text("x")
    r = check_folder(only_bad)
    assert not r.ok and "no usable images" in r.problem and "a.png" in r.problem


def test_grouped_families_need_two_subfolders(tmp_path):
    folder = make_mixed_folder(tmp_path / "imgs")
    r = check_folder(folder, grouped=True)
    assert not r.ok and "one subfolder" in r.problem and "3 loose" in r.problem
    (folder / "other").mkdir()
    Image.new("RGB", (20, 20)).save(folder / "other" / "x.png")
    r = check_folder(folder, grouped=True)
    assert r.ok and r.groups == {"sub": 2, "other": 1}


def test_header_only_beyond_the_limit(tmp_path):
    folder = make_mixed_folder(tmp_path / "imgs")
    r = check_folder(folder, full_check_limit=2)
    assert r.header_only > 0 and r.usable + len(r.skipped) == 8


def test_presets_scale_the_step_options():
    d = {"steps": 2000, "ema": 0.0, "batch": 64}
    assert presets.preset_options(presets.get("quick"), d) == {"steps": 200}
    assert presets.preset_options(presets.get("good"), d) == {"steps": 2000}
    assert presets.preset_options(presets.get("best"), d) == {"steps": 8000, "ema": 0.999}
    gadn = {"steps1": 1000, "steps_cls": 500, "steps2": 3000, "flip": True}
    assert presets.preset_options(presets.get("quick"), gadn) == {"steps1": 100, "steps_cls": 100, "steps2": 300}


def test_estimates_read_as_durations():
    assert estimate_seconds({"train": 100}, {"train": 0.5}) == 50
    assert estimate_seconds({"a": 10, "b": 10}, {"a": 1.0}) == 20  # an untimed phase costs the mean step
    assert [duration_text(s) for s in (40, 600, 7200, 3 * 86400)] == [
        "about 40 s",
        "about 10 min",
        "about 2.0 h",
        "about 3.0 days",
    ]
    assert enough_text(10).startswith("10 images is very few")


def test_sample_copy_keeps_the_layout_and_caps_each_folder(tmp_path):
    folder = make_mixed_folder(tmp_path / "imgs")
    bad = {s.path for s in check_folder(folder).skipped}
    files = [p for p in sorted(folder.rglob("*.*g")) if p not in bad and not p.name.startswith(".")]
    sample = tmp_path / "sample"
    sample.mkdir()
    assert sample_copy(files, folder, sample, per_folder=2) == 4
    assert sorted(str(p.relative_to(sample)) for p in sample.rglob("*.*")) == [
        "good0.png",
        "good1.png",
        "sub/wide0.jpg",
        "sub/wide1.jpg",
    ]


def test_step_timing_runs_real_steps_of_each_phase(tmp_path):
    from tests.train.toy_task import toy_job

    job = toy_job(tmp_path, steps=5, phases=(3, 2), sleep_s=0.02)
    times = measure_step_times(job, steps=2)
    assert set(times) == {"p0", "p1"} and all(0.015 < t < 5 for t in times.values())
    assert job.task.calls >= 6  # warm-up + 2 timed steps per phase, really run
    assert not (tmp_path / "models").exists() and not (tmp_path / "run").exists()  # nothing written
