"""The evaluation job: sample a model, compare with a reference folder, store scores, write a report.

One job evaluates one or several checkpoints against the same reference set with the same feature
network (so a compare table is meaningful). It reports progress per batch (so Cancel is quick), keeps
nothing half-written (the card update and the report are atomic and happen at the end), and is cheap to
re-run: the reference features are cached by folder content (see :mod:`studio.metrics.reference`).
"""

from __future__ import annotations

import datetime as _dt
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from studio.core.checkpoint import read_card, update_card
from studio.core.errors import StudioError
from studio.core.family import normalise_state
from studio.core.grid import to_uint8
from studio.core.jobs import Reporter

from .features import DEFAULT_FEATURES, FeatureNet, extract, load_feature_net
from .memorisation import Memorisation
from .reference import ReferenceSet, reference_features
from .scores import check_comparable, compute_scores, table_text

GRID_SAMPLES = 64
FIRST_SEED = 1_000_000  # evaluation seeds stay clear of the small seeds people browse by hand


@dataclass
class ModelEvaluation:
    """Everything a report needs about one evaluated model."""

    model_id: str
    card_path: Path
    result: dict[str, Any]  # the scores + provenance, exactly what goes into the card
    samples: np.ndarray  # [k, H, W, 3] uint8, the first samples (for the grid)
    states: list[dict[str, Any]]  # the state of every sample (re-render any of them)
    memo: Memorisation
    reference: ReferenceSet
    card: Any = None
    extra_images: dict[int, np.ndarray] = field(default_factory=dict)  # sample index -> pixels


def sample_states(model, model_id: str, n: int, first_seed: int = FIRST_SEED) -> list[dict[str, Any]]:
    """n states with consecutive seeds; label choices (artist, colour...) cycle so all are covered."""
    choices = [c for c in model.controls() if c.kind == "choice" and c.options]
    states = []
    for i in range(n):
        s = normalise_state(model.default_state(model_id, first_seed + i))
        s["seed"] = first_seed + i
        radix = i
        for c in choices:
            s["labels"][c.name] = c.options[radix % len(c.options)]
            radix //= len(c.options)
        states.append(s)
    return states


class EvaluationJob:
    """``studio eval``'s job. Outputs: {"report": html path, "cards": [...]}; results in ``self.evaluations``."""

    def __init__(
        self,
        models: Sequence[str | Path],
        data: str | Path,
        n: int = 1000,
        features: str = DEFAULT_FEATURES,
        report: str | Path | None = None,
        write_card: bool = False,
        train: str | Path | None = None,
        device: str = "auto",
        batch_size: int = 32,
        reference_limit: int = 0,
        kid_subsets: int = 100,
        compare: bool = False,
        registry=None,
        **_ignored: Any,
    ):
        if not models:
            raise StudioError("name at least one model to evaluate")
        if n < 2:
            raise StudioError("--n must be at least 2 (scores compare distributions)")
        self.models = [Path(m) for m in models]
        self.data = Path(data)
        self.train = Path(train) if train else None
        self.n, self.features, self.device = int(n), str(features), device
        self.report = Path(report) if report else None
        self.write_card, self.batch_size = write_card, max(1, int(batch_size))
        self.reference_limit, self.kid_subsets = int(reference_limit), int(kid_subsets)
        self.compare = compare or len(models) > 1
        self.registry = registry
        self.evaluations: list[ModelEvaluation] = []
        self.title = (
            f"Evaluate {self.models[0].stem}" if len(self.models) == 1 else f"Compare {len(self.models)} models"
        )
        if not self.data.is_dir():
            raise StudioError(f"{self.data}: the reference folder does not exist")

    # -- steps -------------------------------------------------------------------------------------
    def _reference(
        self, net: FeatureNet, folder: Path, size: int, reporter: Reporter, done: int, total: int
    ) -> ReferenceSet:
        def progress(k: int, count: int) -> None:
            reporter.report(
                done + min(k, count) * self._ref_share // max(count, 1),
                total,
                message=f"reference features {k}/{count} ({folder.name})",
            )

        return reference_features(
            folder, net, size, batch_size=self.batch_size, limit=self.reference_limit, progress=progress
        )

    def _sample_features(self, model, states, net: FeatureNet, reporter: Reporter, done: int, total: int):
        grid: list[np.ndarray] = []

        def batches():
            for i in range(0, len(states), self.batch_size):
                images = model.render(states[i : i + self.batch_size])
                if len(grid) < GRID_SAMPLES:
                    grid.extend(to_uint8(images)[: GRID_SAMPLES - len(grid)])
                yield images

        def progress(k: int) -> None:
            reporter.report(done + k, total, message=f"sampling {k}/{len(states)}")

        feats, logits = extract(net, batches(), on_batch=progress)
        return feats, logits, np.stack(grid)

    def run(self, reporter: Reporter) -> dict[str, Any]:
        from studio.core.store import load_model

        reporter.message(f"loading the feature network '{self.features}'…")
        net = load_feature_net(self.features, self.device)
        self._ref_share = self.n  # progress units given to reference extraction (per model)
        total = len(self.models) * (self.n + self._ref_share)
        done = 0
        for path in self.models:
            t0 = time.perf_counter()
            card_path = path if path.suffix == ".json" else path.with_suffix(".json")
            card = read_card(card_path)
            reporter.message(f"loading model {card_path.stem}…")
            model = load_model(card_path, device=self.device, registry=self.registry)
            ref = self._reference(net, self.data, card.image_size, reporter, done, total)
            train_feats = None
            if self.train and self.train.resolve() != self.data.resolve():
                train_feats = self._reference(net, self.train, card.image_size, reporter, done, total).features
            done += self._ref_share
            states = sample_states(model, card_path.stem, self.n)
            feats, logits, grid = self._sample_features(model, states, net, reporter, done, total)
            done += self.n
            reporter.message(f"scoring {card_path.stem}…")
            scores, memo = compute_scores(feats, logits, ref.features, train_feats, kid_subsets=self.kid_subsets)
            ref_is = half_fid = matched_fid = None
            if ref.logits.shape[0] >= 4:  # context for the numbers: the reference set against itself
                from .frechet import fid, matched_half_fid
                from .inception_score import inception_score

                ref_is = inception_score(ref.logits)[0]
                half_fid = fid(ref.features[0::2], ref.features[1::2])
                matched_fid = matched_half_fid(feats, ref.features)
            result: dict[str, Any] = {
                **{
                    k: (float(f"{v:.7g}") if isinstance(v, float) and math.isfinite(v) else v)
                    for k, v in scores.items()
                },
                "feature_net": net.name,
                "feature_net_description": net.description,
                "n_generated": len(states),
                "n_reference": len(ref.files),
                "reference": str(self.data),
                "reference_digest": ref.digest[:16],
                "memorisation_set": str(self.train or self.data),
                "reference_is": None if ref_is is None else round(ref_is, 4),
                "reference_half_fid": None if half_fid is None else round(half_fid, 4),
                "fid_matched_half": None if matched_fid is None else round(matched_fid, 4),
                "fid_matched_ratio": (
                    None if matched_fid is None or not half_fid else round(matched_fid / half_fid, 4)
                ),
                "image_size": card.image_size,
                "first_seed": FIRST_SEED,
                # which weights were scored: a retrained model keeps stale scores detectable
                "model_steps": card.training.steps,
                "tensors_sha256": card.tensors_sha256[:16],
                "date": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
                "eval_seconds": round(time.perf_counter() - t0, 1),
            }
            ev = ModelEvaluation(card_path.stem, card_path, result, grid, states, memo, ref, card)
            ev.extra_images = self._flagged_images(model, ev)
            self.evaluations.append(ev)
            reporter.report(
                done,
                total,
                message=f"{card_path.stem}: FID {result['fid']:.2f}",
                metrics={"fid": result["fid"], "kid": result["kid"]},
            )
            del model
        check_comparable([e.result for e in self.evaluations])
        outputs: dict[str, Any] = {"table": "\n" + self.table()}
        if self.write_card:
            outputs["cards"] = [str(self.store_in_card(e)) for e in self.evaluations]
        if self.report is not None:
            from .report import write_report

            outputs["report"] = str(write_report(self.report, self.evaluations))
        return outputs

    # -- results -----------------------------------------------------------------------------------
    def _flagged_images(self, model, ev: ModelEvaluation, count: int = 12) -> dict[int, np.ndarray]:
        """Pixels of the samples closest to a training image (the report's memorisation pairs)."""
        order = np.argsort(ev.memo.per_sample)[:count]
        with torch.no_grad():
            pixels = to_uint8(model.render([ev.states[int(i)] for i in order]))
        return {int(i): px for i, px in zip(order, pixels)}

    def table(self) -> str:
        return table_text([(e.model_id, e.result) for e in self.evaluations])

    @staticmethod
    def store_in_card(ev: ModelEvaluation) -> Path:
        """Add the result under ``metrics["evaluation"][feature_net]`` (other metrics are kept)."""
        card = read_card(ev.card_path)
        metrics = dict(card.metrics or {})
        evaluation = dict(metrics.get("evaluation") or {})
        evaluation[ev.result["feature_net"]] = ev.result
        metrics["evaluation"] = evaluation
        update_card(ev.card_path, metrics=metrics)
        return ev.card_path
