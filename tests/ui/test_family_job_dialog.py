"""The window's "Run job…" dialog offers the families' model jobs too (its form is built from the same
CLI options), and the job it makes writes its file like ``studio run`` does."""

from __future__ import annotations

import json

from studio.core.jobs import run_job
from studio.core.registry import default_registry


def test_run_job_dialog_makes_the_can_sort_job(qtbot, tmp_path):
    from studio.ui.job_dialog import JobDialog

    dialog = JobDialog(default_registry(), "*", family_name="can")
    qtbot.addWidget(dialog)
    jobs = {job for fam, job in dialog.choices if fam == "can"}
    assert {"train", "sort", "steer"} <= jobs
    assert {("gadn", "encode"), ("cyclegan", "translate"), ("ugatit", "translate")} <= set(dialog.choices)
    dialog.picker.setCurrentIndex(dialog.choices.index(("can", "sort")))
    out = tmp_path / "sorted.json"
    dialog.field("model").setText("can-emoji-styles")
    dialog.field("count").setText("2")
    dialog.field("pool").setText("4")
    dialog.field("out").setText(str(out))
    job = dialog.make_job()
    assert dialog.options()["command"].startswith("studio run can sort can-emoji-styles")
    res = run_job(job)
    assert res.ok, res.message
    assert len(json.loads(out.read_text())["samples"]) == 2
    assert not run_job(dialog.make_job()).ok  # the file exists now: refused, not overwritten
