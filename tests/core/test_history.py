"""TrainingHistory: window means, thinning that bounds the card's size, resume round trip."""

from __future__ import annotations

import json

from studio.core.history import TrainingHistory
from studio.metrics.curves import loss_history


def test_points_are_window_means():
    h = TrainingHistory(every=4)
    for step in range(1, 9):
        h.add(step, {"g": float(step), "d": 1.0})
    assert h.series["g"] == [[4, 2.5], [8, 6.5]]
    assert h.series["d"] == [[4, 1.0], [8, 1.0]]


def test_long_runs_are_thinned_to_a_bounded_size():
    h = TrainingHistory(every=1, max_points=20)
    for step in range(1, 1001):
        h.add(step, {"g": 1.0 / step})
    assert len(h.series["g"]) <= 20
    assert h.series["g"][-1][0] > 900  # the recent end is kept
    assert h.every > 1


def test_scores_are_kept_and_the_card_form_is_readable_by_the_report():
    h = TrainingHistory(every=2)
    for step in range(1, 11):
        h.add(step, {"g": 1.0, "d": 0.5})
        if step % 5 == 0:
            h.add_scores(step, {"kid@mobilenet_v2": 0.1 / step})
    series = loss_history({"loss_history": json.loads(json.dumps(h.card_columns()))})
    assert set(series) == {"g", "d", "kid@mobilenet_v2"}
    assert series["kid@mobilenet_v2"][0] == [5.0, 10.0]


def test_round_trip_and_truncate_on_resume():
    h = TrainingHistory(every=1)
    for step in range(1, 11):
        h.add(step, {"g": float(step)})
    back = TrainingHistory.from_dict(json.loads(json.dumps(h.to_dict())))
    assert back.series == h.series
    back.truncate(6)
    assert back.series["g"][-1] == [6, 6.0]
    damaged = {"series": {"g": "garbage", "d": [[1, "x"], [2, 0.5]]}}
    assert TrainingHistory.from_dict(damaged).series == {"d": [[2, 0.5]]}
    assert TrainingHistory.from_dict(None).series == {}
