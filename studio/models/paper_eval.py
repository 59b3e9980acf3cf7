"""The papers' own measures behind ``studio eval --measure gadn|translation``, as jobs.

``studio eval`` scores generators by sampling them (FID, KID, …: :mod:`studio.metrics.evaluate`). Two
families are judged differently by their papers, and their measures live next to them:

* GADN (paper 004, appendix B.4 / C.2): the content space's disentanglement, C2's and an independent
  classifier's accuracy on generated samples, and transfer against the truth
  (:mod:`studio.models.gadn.evaluate`);
* translators (CycleGAN, U-GAT-IT, papers 001/002): KID of the source test images to the target domain
  before and after translation (:mod:`studio.models.translate_eval`).

These jobs wrap those modules' functions in the shared job API, so the CLI (and any tool) runs them
like every other long task: progress lines, Cancel between stages, clear errors, atomic writes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from studio.core.checkpoint import read_card, update_card
from studio.core.errors import StudioError
from studio.core.jobs import Reporter
from studio.models.job_common import check_output, write_json

MEASURES = ("scores", "gadn", "translation")


def _load(model: str, device: str) -> tuple[Path, Any]:
    from studio.core.store import ModelStore, load_model

    store = ModelStore()
    path = store.resolve(model)
    return path, load_model(path, device=device, registry=store.registry)


def _store_in_card(path: Path, key: str, results: dict[str, Any]) -> None:
    metrics = dict(read_card(path).metrics)
    metrics[key] = results
    update_card(path, metrics=metrics)


class GADNEvaluationJob:
    """The GADN paper's measures for one model on its training folder (``metrics["gadn_eval"]``)."""

    def __init__(
        self,
        model: str,
        data: str,
        generated: int = 0,
        per_pair: int = 200,
        features: str = "mobilenet_v2",
        classifier_steps: int = 1500,
        max_per_artist: int = 0,
        holdout_contents: float | None = None,
        device: str = "cpu",
        write_card: bool = False,
        json_path: str | None = None,
        overwrite: bool = False,
    ):
        if not data:
            raise StudioError("--measure gadn needs --data FOLDER (the folder the model was trained on)")
        self.model, self.data, self.device = model, data, device
        self.generated, self.per_pair, self.features = generated, per_pair, features
        self.classifier_steps, self.max_per_artist = classifier_steps, max_per_artist
        self.holdout_contents = holdout_contents
        self.write_card = write_card
        self.json_path = check_output(json_path, overwrite, (".json",)) if json_path else None
        self.title = f"GADN evaluation of {model}"
        self.results: dict[str, Any] = {}
        self.summary = ""

    def run(self, reporter: Reporter) -> dict[str, Any]:
        from studio.models.gadn.data import load_artist_folder
        from studio.models.gadn.evaluate import evaluate_gadn, summary
        from studio.models.gadn.model import GADNModel

        reporter.message(f"loading {self.model}…")
        path, model = _load(self.model, self.device)
        if not isinstance(model, GADNModel):
            raise StudioError(f"{path}: --measure gadn needs a GADN model, not a '{read_card(path).family}' model")
        data = load_artist_folder(self.data, model.image_size, self.max_per_artist)
        self.results = evaluate_gadn(
            model,
            data,
            self.generated,
            self.per_pair,
            self.features,
            self.classifier_steps,
            log=reporter.message,
            holdout_contents=self.holdout_contents,
        )
        self.summary = summary(self.results)
        out: dict[str, Any] = {"model": str(path)}
        if self.json_path is not None:
            out["json"] = str(write_json(self.json_path, self.results))
        if self.write_card:
            _store_in_card(path, "gadn_eval", self.results)
            out["card"] = str(path)
        return out


class TranslatorEvaluationJob:
    """KID to the target domain before/after translation, both directions (``metrics["translation"]``)."""

    def __init__(
        self,
        model: str,
        dir_a: str,
        dir_b: str,
        features: str = "mobilenet_v2",
        limit: int = 0,
        device: str = "cpu",
        write_card: bool = False,
        grid: str | None = None,
        cell: int = 0,
        json_path: str | None = None,
        overwrite: bool = False,
        size: int = 0,
        other_a: str | None = None,
        other_b: str | None = None,
    ):
        if not dir_a or not dir_b:
            raise StudioError("--measure translation needs --a FOLDER and --b FOLDER (test images of each domain)")
        self.model, self.dir_a, self.dir_b, self.device = model, dir_a, dir_b, device
        self.features, self.limit, self.write_card, self.cell = features, limit, write_card, cell
        self.size, self.other_a, self.other_b = size, other_a, other_b
        self.grid = check_output(grid, overwrite, (".png",)) if grid else None
        self.json_path = check_output(json_path, overwrite, (".json",)) if json_path else None
        self.title = f"translator evaluation of {model}"
        self.results: dict[str, Any] = {}
        self.summary = ""

    def run(self, reporter: Reporter) -> dict[str, Any]:
        from studio.core.export import save_png
        from studio.models.translate_common import TranslatorModel
        from studio.models.translate_eval import evaluate_translator, example_grid

        reporter.message(f"loading {self.model}…")
        path, model = _load(self.model, self.device)
        if not isinstance(model, TranslatorModel):
            raise StudioError(
                f"{path}: --measure translation needs a translator model, not a '{read_card(path).family}' model"
            )
        self.results = evaluate_translator(
            model,
            self.dir_a,
            self.dir_b,
            self.features,
            self.limit,
            progress=reporter.message,
            size=self.size,
            other_a=self.other_a,
            other_b=self.other_b,
        )
        self.summary = "\n".join(
            f"{d}: KID to the target {r['kid_source_to_target']:.4f} before, {r['kid_translated_to_target']:.4f} "
            f"after translation (ratio {r['kid_ratio']}); "
            f"a colour-statistics transfer {r['kid_colour_transfer_to_target']:.4f} "
            f"(ratio {r['kid_colour_transfer_ratio']}); mean pixel change {r['mean_change']:.3f} "
            f"(colour transfer {r['mean_change_colour_transfer']:.3f}); FID {r['fid_source_to_target']:.1f} -> "
            f"{r['fid_translated_to_target']:.1f}, MiFID {r['mifid_translated_to_target']:.1f}"
            + (
                f"; other real images of the target domain {r['kid_other_target_to_target']:.4f} "
                f"(ratio {r['kid_other_target_ratio']}: the floor)"
                if "kid_other_target_to_target" in r
                else ""
            )
            for d, r in ((d, self.results[d]) for d in ("a2b", "b2a"))
        )
        out: dict[str, Any] = {"model": str(path)}
        if self.json_path is not None:
            out["json"] = str(write_json(self.json_path, self.results))
        if self.grid is not None:
            reporter.message("example grid…")
            image = example_grid(model, self.dir_a, self.dir_b, cell=self.cell, size=self.size)
            save_png(self.grid, image, {"model": path.stem, "grid": "A | A→B | B / B | B→A | A"})
            out["grid"] = str(self.grid)
        if self.write_card:
            _store_in_card(path, "translation", self.results)
            out["card"] = str(path)
        return out
