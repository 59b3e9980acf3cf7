"""Model cards' extra["paper_comparison"]: every bundled card has one, well formed, survives a card
round trip, and `studio models inspect --paper` and the model report show it."""

from __future__ import annotations

import json
from pathlib import Path

from studio.core.checkpoint import ModelCard, read_card
from studio.core.paper_comparison import FIELDS, format_paper_comparison, paper_comparison, paper_comparison_html

BUNDLED = Path(__file__).resolve().parents[2] / "resources" / "models"


def test_every_bundled_card_compares_with_its_paper():
    cards = sorted(BUNDLED.glob("*.json"))
    assert cards
    for path in cards:
        raw = json.loads(path.read_text(encoding="utf-8"))["extra"]["paper_comparison"]
        card = read_card(path)
        entries = paper_comparison(card)
        assert entries and len(entries) == len(raw), path.name  # none dropped as malformed
        for e in entries:
            assert isinstance(e["comparable"], bool) and e["why"].strip() and e["paper"][:3].isdigit()
        # the section survives the card's own round trip (it lives in extra, a known field)
        assert paper_comparison(ModelCard.from_dict(card.to_dict())) == entries


def test_gadn_card_holds_table_8_and_text_says_not_comparable():
    card = read_card(BUNDLED / "gadn-emoji.json")
    theirs = {e["theirs"] for e in paper_comparison(card)}
    assert theirs == {0.8665, 0.1437}
    text = format_paper_comparison(card)
    assert "paper: 0.8665" in text and "NOT comparable" in text and "studio eval gadn-emoji" in text


def test_malformed_entries_are_skipped_and_absent_section_is_said():
    card = ModelCard(name="m", family="x", config={}, image_size=8)
    assert "no paper comparison" in format_paper_comparison(card) and paper_comparison_html(card) == ""
    card.extra = {"paper_comparison": [{"paper": "001"}, dict.fromkeys(FIELDS, "v") | {"comparable": True}, 3]}
    assert len(paper_comparison(card)) == 1
    html = paper_comparison_html(card)
    assert "<table>" in html and "<td style='text-align:left'>yes</td>" in html
    card.extra = {"paper_comparison": "not a list"}
    assert paper_comparison(card) == []


def test_cli_inspect_paper(capsys):
    from studio.cli import main

    assert main(["models", "inspect", str(BUNDLED / "can-emoji-styles.json"), "--paper"]) == 0
    out = capsys.readouterr().out
    assert "003 CAN report" in out and "samples 0.407" in out and "paper: –" in out
