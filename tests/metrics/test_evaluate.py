"""The evaluation job end to end on a tiny model: card metrics, HTML report, cache, compare, cancel, CLI."""

from __future__ import annotations

import json
import math

import pytest

from studio.core.checkpoint import read_card
from studio.core.errors import StudioError
from studio.core.jobs import CancelToken, run_job
from studio.metrics.evaluate import EvaluationJob
from studio.metrics.scores import check_comparable, table_text


def test_eval_writes_metrics_to_card_and_a_report(tiny_model, reference_dir, tiny_features, tmp_path, tiny_family):
    job = EvaluationJob(
        [tiny_model],
        reference_dir,
        n=24,
        features=tiny_features,
        report=tmp_path / "rep",
        write_card=True,
        device="cpu",
        batch_size=8,
        kid_subsets=5,
    )
    events = []
    result = run_job(job, events.append)
    assert result.ok, result.message
    card = read_card(tiny_model)
    scores = card.metrics["evaluation"]["tiny-random"]
    assert scores["feature_net"] == "tiny-random" and scores["n_generated"] == 24 and scores["n_reference"] == 31
    for key in ("fid", "kid", "mifid", "is", "precision", "recall", "coverage", "memorisation_distance"):
        assert math.isfinite(scores[key]), key
    assert scores["fid"] > 0 and 1.0 <= scores["is"] <= 5.0
    assert scores["tensors_sha256"] == card.tensors_sha256[:16] and scores["model_steps"] == card.training.steps
    assert scores["mifid"] >= scores["fid"] * 0.999
    # the floor and the model's FID at the floor's sample counts (15 samples against the 16 even references)
    assert scores["reference_half_fid"] > 0 and scores["fid_matched_half"] > 0
    ratio = scores["fid_matched_half"] / scores["reference_half_fid"]
    assert scores["fid_matched_ratio"] == pytest.approx(ratio, rel=0.02)  # the stored numbers are rounded
    html = (tmp_path / "rep" / "report.html").read_text()
    assert "at the floor's sample counts" in html
    assert "FID" in html and "data:image/png;base64" in html and "tiny-random" in html
    assert "nearest training image" in html
    steps = [e.step for e in events if e.total]
    assert steps == sorted(steps) and steps[-1] == events[-1].total
    # a second run reuses the cached reference features
    again = EvaluationJob([tiny_model], reference_dir, n=8, features=tiny_features, device="cpu", kid_subsets=2)
    assert run_job(again).ok
    assert again.evaluations[0].reference.from_cache


def test_compare_two_models_side_by_side(tiny_models_dir, reference_dir, tiny_features, tmp_path, tiny_family):
    models = [tiny_models_dir / "tiny.json", tiny_models_dir / "tiny-child.json"]
    job = EvaluationJob(
        models, reference_dir, n=16, features=tiny_features, report=tmp_path / "cmp.html", device="cpu", kid_subsets=3
    )
    result = run_job(job)
    assert result.ok, result.message
    table = job.table()
    assert "tiny-child" in table and "FID" in table and "tiny-random" in table
    html = (tmp_path / "cmp.html").read_text()
    assert "Model comparison" in html and html.count("<section>") == 2
    a, b = (e.result for e in job.evaluations)
    assert a["fid"] != b["fid"]


def test_scores_of_different_feature_networks_are_never_compared():
    a = {"feature_net": "mobilenet_v2", "reference_digest": "x", "fid": 3.0}
    b = {"feature_net": "inception_v3-fid", "reference_digest": "x", "fid": 30.0}
    with pytest.raises(StudioError, match="different feature networks"):
        check_comparable([a, b])
    with pytest.raises(StudioError, match="different feature networks"):
        table_text([("m1", a), ("m2", b)])
    with pytest.raises(StudioError, match="different reference sets"):
        check_comparable([a, dict(a, reference_digest="y")])


def test_cancel_leaves_card_and_report_untouched(tiny_model, reference_dir, tiny_features, tmp_path, tiny_family):
    before = tiny_model.read_text()
    token = CancelToken()

    def on_progress(p):
        if p.step > 0:
            token.cancel()

    job = EvaluationJob(
        [tiny_model],
        reference_dir,
        n=64,
        features=tiny_features,
        report=tmp_path / "r",
        write_card=True,
        device="cpu",
        batch_size=4,
    )
    result = run_job(job, on_progress, token)
    assert result.status == "cancelled"
    assert tiny_model.read_text() == before
    assert not (tmp_path / "r" / "report.html").exists()


def test_bad_reference_folder_and_bad_feature_name_get_clear_errors(tiny_model, tmp_path, reference_dir, tiny_family):
    with pytest.raises(StudioError, match="does not exist"):
        EvaluationJob([tiny_model], tmp_path / "nope")
    empty = tmp_path / "empty"
    empty.mkdir()
    res = run_job(EvaluationJob([tiny_model], empty, n=4, features="tiny-random", device="cpu"))
    assert res.status == "failed"
    res = run_job(EvaluationJob([tiny_model], reference_dir, n=4, features="no-such-net", device="cpu"))
    assert res.status == "failed" and "unknown feature network" in res.message


def test_cli_eval_prints_table_and_updates_card(
    tiny_model, reference_dir, tiny_features, tmp_path, capsys, monkeypatch, tiny_family
):
    from studio.cli import main

    monkeypatch.setenv("STUDIO_NO_BUNDLED", "1")
    code = main(
        [
            "eval",
            str(tiny_model),
            "--data",
            str(reference_dir),
            "--n",
            "12",
            "--features",
            tiny_features,
            "--write-card",
            "--report",
            str(tmp_path / "cli-report"),
            "--device",
            "cpu",
            "--kid-subsets",
            "3",
        ]
    )
    err = capsys.readouterr().err
    assert code == 0, err
    assert "FID" in err and "tiny" in err
    data = json.loads(tiny_model.read_text())
    assert data["metrics"]["evaluation"]["tiny-random"]["n_generated"] == 12
    assert (tmp_path / "cli-report" / "report.html").is_file()
