"""The model report: one self-contained HTML page (PNG images embedded as data URIs) with the metric
table, sample grids, reference grid, training loss curves and the memorisation pairs (each flagged
sample beside its nearest training image). Several models give one page with a side-by-side table.
"""

from __future__ import annotations

import base64
import html
import io
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from studio.core.atomic import atomic_write_text
from studio.core.grid import resize_cells, tile
from studio.core.images import fit_square, load_image
from studio.core.paper_comparison import paper_comparison_html

from .curves import draw_curves, loss_history
from .memorisation import THRESHOLD
from .scores import COLUMNS, check_comparable, format_value, matched_floor_text

_CSS = """body{font-family:system-ui,sans-serif;margin:24px;color:#222;max-width:1200px}
table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}
th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}img{image-rendering:pixelated}
.pairs{display:flex;flex-wrap:wrap;gap:12px}.pair{text-align:center;font-size:12px}.note{color:#666;font-size:13px}
section{margin-bottom:32px}"""


def png_data_uri(pixels: np.ndarray) -> str:
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _img(pixels: np.ndarray, alt: str, width: int | None = None) -> str:
    w = f' width="{width}"' if width else ""
    return f'<img src="{png_data_uri(pixels)}" alt="{html.escape(alt)}"{w}>'


def _grid(images: np.ndarray, cell: int = 64) -> np.ndarray:
    images = resize_cells(images, cell) if images.shape[1] != cell else images
    cols = min(8, len(images))
    return tile(images, math.ceil(len(images) / cols), cols)


def _reference_grid(files: Sequence[Path], size: int, count: int = 32) -> np.ndarray | None:
    picks = [files[int(i)] for i in np.linspace(0, len(files) - 1, min(count, len(files)))]
    cells = []
    for f in picks:
        try:
            cells.append(np.asarray(fit_square(load_image(f), size)))
        except Exception:  # a reference image that fails now just leaves a gap in the picture
            continue
    return _grid(np.stack(cells), 64) if cells else None


def _metric_table(evaluations) -> str:
    head = "".join(f"<th>{html.escape(label)}</th>" for _, label, _ in COLUMNS)
    rows = []
    for ev in evaluations:
        cells = "".join(f"<td>{html.escape(format_value(ev.result, k))}</td>" for k, _, _ in COLUMNS)
        rows.append(f"<tr><td>{html.escape(ev.model_id)}</td>{cells}</tr>")
    return f"<table><tr><th>model</th>{head}</tr>{''.join(rows)}</table>"


def _pairs(ev) -> str:
    memo, ref = ev.memo, ev.reference
    order = [i for i in np.argsort(memo.per_sample) if int(i) in ev.extra_images]
    flagged = [i for i in order if memo.per_sample[i] < THRESHOLD]
    shown = flagged or order[:6]
    if flagged:
        note = (
            f"{int((memo.per_sample < THRESHOLD).sum())} of {len(memo.per_sample)} samples are closer than "
            f"τ = {THRESHOLD} (cosine distance) to a training image; the closest are shown."
        )
    else:
        note = (
            f"No sample is closer than τ = {THRESHOLD} to a training image; the six closest pairs are "
            "shown for inspection."
        )
    items = []
    size = ev.samples.shape[1] if ev.samples.size else 64
    for i in shown:
        j = int(memo.nearest[i])
        try:
            train_px = np.asarray(fit_square(load_image(ref.files[j]), size))
        except Exception:
            continue
        pair = np.concatenate([ev.extra_images[int(i)], np.full((size, 4, 3), 255, np.uint8), train_px], axis=1)
        pair = np.asarray(Image.fromarray(pair).resize((pair.shape[1] * 96 // size, 96), Image.Resampling.NEAREST))
        items.append(
            f'<div class="pair">{_img(pair, "sample and nearest training image")}<br>'
            f"seed {ev.states[int(i)]['seed']} ↔ {html.escape(ref.files[j].name)}<br>"
            f"d = {memo.per_sample[i]:.4f}</div>"
        )
    return f'<p class="note">{html.escape(note)}</p><div class="pairs">{"".join(items)}</div>'


def _model_section(ev) -> str:
    card, r = ev.card, ev.result
    t = card.training if card is not None else None
    info = []
    if t is not None:
        info = [
            ("family", card.family),
            ("image size", f"{card.image_size} px"),
            ("training data", t.data),
            ("licence", t.licence),
            ("steps", t.steps),
            ("wall time", f"{t.wall_time_s:.0f} s"),
            ("command", t.command),
            ("parent", card.parent or "–"),
        ]
    info_html = "".join(
        f"<tr><th>{html.escape(str(k))}</th><td style='text-align:left'>{html.escape(str(v))}</td></tr>"
        for k, v in info
    )
    labels = ", labels cycled through every choice" if ev.states and ev.states[0].get("labels") else ""
    curves = draw_curves(loss_history(card.extra if card is not None else {}))
    curves_html = (
        _img(curves, "training curves")
        if curves is not None
        else '<p class="note">The card has no training history (extra["loss_history"]).</p>'
    )
    return (
        f"<section><h2>{html.escape(ev.model_id)}</h2><table>{info_html}</table>{paper_comparison_html(card)}"
        f"<h3>Samples (seeds {r['first_seed']}…{labels})</h3>{_img(_grid(ev.samples), 'samples')}"
        f"<h3>Training curves</h3>{curves_html}"
        f"<h3>Memorisation: samples beside their nearest training image</h3>{_pairs(ev)}</section>"
    )


def render_report(evaluations) -> str:
    check_comparable([e.result for e in evaluations])
    first = evaluations[0].result
    title = (
        "Model report: " + evaluations[0].model_id
        if len(evaluations) == 1
        else "Model comparison: " + ", ".join(e.model_id for e in evaluations)
    )
    ref_grid = _reference_grid(evaluations[0].reference.files, int(first["image_size"]))
    explain = (
        f"Scores use the feature network <b>{html.escape(first['feature_net'])}</b> "
        f"({html.escape(first.get('feature_net_description', ''))}) on {first['n_generated']} samples "
        f"per model against {first['n_reference']} reference images from "
        f"<code>{html.escape(str(first['reference']))}</code> (content hash {first['reference_digest']}). "
        "Numbers from other feature networks are different quantities and are not comparable. "
        "FID/KID: lower is better. MiFID = FID × m with m = 1/(s + ε), s = d if d < τ else 1, "
        f"d = mean nearest cosine distance of samples to the training set, τ = {THRESHOLD}. "
        "IS-style: exp E KL(p(y|x) ‖ p(y)) with this network's ImageNet classes"
        + (
            f" (the reference images themselves score {first['reference_is']:.2f})"
            if first.get("reference_is") is not None
            else ""
        )
        + "."
        + (
            f" Noise floor: FID between two halves of the reference set is {first['reference_half_fid']:.2f}."
            if first.get("reference_half_fid") is not None
            else ""
        )
        + "".join(
            f" {html.escape(ev.model_id)}: {html.escape(text, quote=False)}."
            for ev in evaluations
            if (text := matched_floor_text(ev.result))
        )
    )
    parts = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{_CSS}</style></head><body><h1>{html.escape(title)}</h1>",
        f"<p class='note'>{explain}</p>",
        _metric_table(evaluations),
    ]
    if ref_grid is not None:
        parts.append(f"<h3>Reference images</h3>{_img(ref_grid, 'reference images')}")
    parts += [_model_section(ev) for ev in evaluations]
    parts.append(
        f"<p class='note'>Generated {html.escape(first['date'])} by GAN Studio's evaluation job.</p></body></html>"
    )
    return "\n".join(parts)


def write_report(target: str | Path, evaluations) -> Path:
    """Write the report atomically. ``target`` is a folder (report.html inside) or an .html path."""
    target = Path(target)
    path = target if target.suffix.lower() in (".html", ".htm") else target / "report.html"
    atomic_write_text(path, render_report(evaluations))
    return path
