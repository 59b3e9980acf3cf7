"""Two-state directions and preview-strip states (Qt-free)."""

from __future__ import annotations

import json

import pytest
import torch

from studio.core.direction_edits import (
    STRIP_VALUES,
    VECTORS_KEY,
    direction_code,
    next_two_state_key,
    state_offset,
    strip_states,
    two_state_vector,
    with_amount,
)
from studio.core.direction_names import (
    DirectionBook,
    DirectionFileError,
    TwoStateDirection,
    book_path,
    load_book,
    save_book,
    set_aside,
)
from studio.core.errors import StudioError
from studio.core.store import load_model


@pytest.fixture
def tiny(tiny_model):
    return load_model(tiny_model, "cpu")


def test_a_two_state_direction_moves_the_latent_from_a_to_b(tiny):
    a = tiny.default_state("tiny", 3)
    b = tiny.default_state("tiny", 11)
    b["directions"] = {"pc1": 1.5}
    vector = two_state_vector(tiny, a, b)
    za, zb = tiny.latent_for(a), tiny.latent_for(b)
    dist = [float((tiny.latent_for(with_amount(a, "ab1", t, vector)) - zb).norm()) for t in (0.0, 0.5, 1.0)]
    assert dist[0] == pytest.approx(float((za - zb).norm()), abs=1e-5)
    assert dist[0] > dist[1] > dist[2]
    assert dist[2] < 1e-4  # amount 1 reaches B
    # truncation applies after the move, as to every other edit
    half = with_amount(a, "ab1", 1.0, vector)
    half["truncation"] = 0.5
    assert torch.allclose(tiny.latent_for(half), 0.5 * zb, atol=1e-4)


def test_same_codes_make_no_direction_and_bad_vectors_are_ignored(tiny):
    a = tiny.default_state("tiny", 3)
    with pytest.raises(StudioError, match="same code"):
        two_state_vector(tiny, a, dict(a, labels={"colour": "blue"}))
    base = tiny.latent_for(a)
    for vector in ([1.0] * 3, ["x"] * 8, [float("nan")] * 8, [1e9] * 8):
        s = dict(a, directions={"ab1": 1.0}, **{VECTORS_KEY: {"ab1": vector}})
        assert torch.equal(tiny.latent_for(s), base)
    assert state_offset({"directions": {"ab1": 0.0}, VECTORS_KEY: {"ab1": [1.0] * 8}}, 8) is None
    assert next_two_state_key(["pc0", "ab1", "ab3"]) == "ab2"


def test_strip_states_sit_around_the_current_amount(tiny):
    s = with_amount(tiny.default_state("tiny", 1), "pc0", 0.5)
    states = strip_states(s, "pc0")
    assert [x["directions"]["pc0"] for x in states] == [0.5 + v for v in STRIP_VALUES]
    mid = states[len(states) // 2]
    assert torch.equal(tiny.latent_for(mid), tiny.latent_for(s))
    code = direction_code(tiny, s)
    assert code.shape == (8,)


def test_names_survive_a_reload_and_a_damaged_file_is_kept(tmp_path):
    book = DirectionBook("tiny", "ab" * 32, {"pc0": "  smile\n wider "})
    book.two_state.append(TwoStateDirection("ab1", "day to night", [0.5, -1.0], {"a": {"seed": 1}}))
    path = save_book(book)
    assert path.parent.name == "directions" and path == book_path("tiny", "ab" * 32)
    again = load_book("tiny", "ab" * 32)
    assert again.names == {"pc0": "smile wider"}
    assert again.find("ab1").vector == [0.5, -1.0]
    assert load_book("tiny", "cd" * 32).names == {}  # another version of the model: its own file
    path.write_text('{"format": "gan-studio-directions/1", "names": [')
    with pytest.raises(DirectionFileError, match="damaged|not valid JSON"):
        load_book("tiny", "ab" * 32)
    with pytest.raises(DirectionFileError):
        save_book(book)  # never overwritten silently
    assert path.read_text().endswith("[")
    moved = set_aside("tiny", "ab" * 32)
    assert moved is not None and moved.exists() and not path.exists()
    save_book(book)
    assert json.loads(path.read_text())["names"]["pc0"] == "smile wider"


def test_gadn_directions_move_the_content_code():
    from studio.core.store import ModelStore

    store = ModelStore()
    if "gadn-emoji" not in store.entries:
        pytest.skip("the bundled gadn-emoji model is not installed")
    gadn = load_model(store.resolve("gadn-emoji"), "cpu")
    a = gadn.default_state("gadn-emoji", 1)
    b = gadn.default_state("gadn-emoji", 9)
    vector = two_state_vector(gadn, a, b)
    cb = gadn.content_for(b)
    dist = [float((gadn.content_for(with_amount(a, "ab1", t, vector)) - cb).norm()) for t in (0.0, 0.5, 1.0)]
    assert dist[0] > dist[1] > dist[2] and dist[2] < 1e-4
    images = gadn.render(strip_states(a, "pc0"))
    steps = [float((images[i + 1] - images[i]).abs().mean()) for i in range(len(images) - 1)]
    assert min(steps) > 0.01  # every step along 'Content axis 1' changes the image
