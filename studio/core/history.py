"""A thinned record of a training run's losses and scores, for model cards and reports.

Why: the model report draws "loss curves from training", so every trainer has to keep its curves in the
run state (to survive --resume) and in the exported card. Keeping every step would bloat the card, so
losses are averaged over windows of ``every`` steps and, when a series grows past ``max_points``, every
other point is dropped and the window doubles. Scores (KID every N steps) are rare and always kept.

The stored form is the one :func:`studio.metrics.curves.loss_history` reads: ``{name: [[step, value], ...]}``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any


class TrainingHistory:
    def __init__(self, every: int = 10, max_points: int = 1000) -> None:
        self.every = max(1, int(every))
        self.max_points = max(16, int(max_points))
        self.series: dict[str, list[list[float]]] = {}
        self._sums: dict[str, float] = {}
        self._counts: dict[str, int] = {}

    def add(self, step: int, losses: Mapping[str, float]) -> None:
        """Add one step's losses; a point (the window mean) is recorded every ``every`` steps."""
        for name, value in losses.items():
            value = float(value)
            if not math.isfinite(value):
                continue
            self._sums[name] = self._sums.get(name, 0.0) + value
            self._counts[name] = self._counts.get(name, 0) + 1
        if step % self.every == 0:
            self.flush(step)

    def flush(self, step: int) -> None:
        """Record the pending window means at ``step`` (also call it at the end of a run)."""
        for name, count in self._counts.items():
            if count:
                self.series.setdefault(name, []).append([int(step), round(self._sums[name] / count, 6)])
        self._sums.clear()
        self._counts.clear()
        if any(len(points) > self.max_points for points in self.series.values()):
            self._thin()

    def add_scores(self, step: int, scores: Mapping[str, float]) -> None:
        """Record occasional quality scores (e.g. KID) as they are; they are never averaged."""
        for name, value in scores.items():
            if math.isfinite(float(value)):
                self.series.setdefault(name, []).append([int(step), round(float(value), 6)])

    def _thin(self) -> None:
        for name, points in self.series.items():
            if len(points) > self.max_points:
                self.series[name] = points[1::2]
        self.every *= 2

    def to_dict(self) -> dict[str, Any]:
        return {"every": self.every, "series": {k: [list(p) for p in v] for k, v in self.series.items()}}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None, every: int = 10, max_points: int = 1000) -> TrainingHistory:
        """Restore from :meth:`to_dict` output (a run state); anything malformed starts a fresh history."""
        history = cls(every, max_points)
        if not isinstance(data, Mapping):
            return history
        series = data.get("series")
        if isinstance(series, Mapping):
            for name, points in series.items():
                if isinstance(points, list):
                    good = [
                        [int(p[0]), float(p[1])]
                        for p in points
                        if isinstance(p, (list, tuple)) and len(p) == 2 and all(isinstance(v, (int, float)) for v in p)
                    ]
                    if good:
                        history.series[str(name)] = good
        try:
            history.every = max(history.every, int(data.get("every", every)))
        except (TypeError, ValueError):
            pass
        return history

    def truncate(self, step: int) -> None:
        """Drop points after ``step`` (a run resumed from an earlier checkpoint redoes those steps)."""
        for name in list(self.series):
            self.series[name] = [p for p in self.series[name] if p[0] <= step]
            if not self.series[name]:
                del self.series[name]

    def card_columns(self) -> dict[str, list[list[float]]]:
        """The form stored as ``card.extra["loss_history"]``."""
        return {k: [list(p) for p in v] for k, v in self.series.items()}
