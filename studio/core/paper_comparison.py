"""A model card's ``extra["paper_comparison"]``: the source paper's number beside ours, and whether they
can be compared.

Each entry is an object: ``paper`` (which source paper and table/figure), ``measure``, ``theirs`` and
``ours`` (a number or a short text; null when there is none), ``comparable`` (true/false) and ``why``
(what differs: data, feature network, size...), optionally ``command`` (what produced ours) and
``docs``. It lives under ``extra`` so the card format does not change and ``tensors_sha256`` (which
covers the tensors file only) stays valid. docs/papers.md holds the same tables for every paper.
"""

from __future__ import annotations

import html
from typing import Any

from .checkpoint import ModelCard

KEY = "paper_comparison"
FIELDS = ("paper", "measure", "theirs", "ours", "comparable", "why")


def paper_comparison(card: ModelCard) -> list[dict[str, Any]]:
    """The card's well-formed entries (malformed ones are skipped: a card is user data, not code)."""
    entries = (card.extra or {}).get(KEY) or []
    if not isinstance(entries, list):
        return []
    return [e for e in entries if isinstance(e, dict) and all(k in e for k in FIELDS)]


def _value(v: Any) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, dict):
        return ", ".join(f"{k} {_value(x)}" for k, x in v.items())
    return str(v)


def format_paper_comparison(card: ModelCard) -> str:
    """Plain text for the CLI: one block per entry."""
    entries = paper_comparison(card)
    if not entries:
        return f"{card.name}: no paper comparison in its card"
    lines = [f"{card.name}: compared with its source papers"]
    for e in entries:
        verdict = "comparable" if e["comparable"] else "NOT comparable"
        lines.append(f"- {e['paper']} — {e['measure']}")
        lines.append(f"    paper: {_value(e['theirs'])}   ours: {_value(e['ours'])}   ({verdict})")
        lines.append(f"    why: {e['why']}")
        if e.get("command"):
            lines.append(f"    ours from: {e['command']}")
    return "\n".join(lines)


def paper_comparison_html(card: ModelCard | None) -> str:
    """An HTML table for the model report ('' when the card has none)."""
    entries = paper_comparison(card) if card is not None else []
    if not entries:
        return ""
    rows = "".join(
        "<tr>"
        + "".join(
            f"<td style='text-align:left'>{html.escape(_value(x))}</td>"
            for x in (e["paper"], e["measure"], e["theirs"], e["ours"], "yes" if e["comparable"] else "no", e["why"])
        )
        + "</tr>"
        for e in entries
    )
    head = "".join(f"<th>{h}</th>" for h in ("paper", "measure", "paper's", "ours", "comparable", "why"))
    return f"<h3>Compared with the paper</h3><table><tr>{head}</tr>{rows}</table>"
