"""Make a corpus of hostile files: what a user, a download or an attacker could hand the studio.

    python tests/hostile/make_corpus.py OUT_DIR [--marker PATH]

Writes into OUT_DIR (returns, from Python, a list of :class:`Item`):

- ``images/``: broken and lying images (truncated, not an image, empty, a decompression bomb, a PNG
  whose text chunk is huge, a FIFO, a link to ``/dev/zero``);
- ``models/``: checkpoints and cards (``NAME.safetensors`` + ``NAME.json``): pickles (one whose
  ``__reduce__`` would create ``--marker`` if it were ever unpickled), a PyTorch zip, truncated and lying
  safetensors (a header claiming more bytes than the file has, a header length of 2^63, a header that is
  a list or nests 10,000 deep), broken and deeply nested cards, cards with nonsense values, a card
  naming an unknown family, FIFOs, links to ``/dev/zero``, out of the folder and to nowhere;
- ``states/``: exported-image and JSON states with non-numbers, NaN, huge values, deep nesting,
  card paths instead of model ids, a FIFO.

Each item says which CLI entry points it is meant for. The test suite
``tests/hostile/test_hostile_inputs.py`` runs every item through them.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import pickle
import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, PngImagePlugin

GOOD_CARD = {
    "format": "gan-studio-model",
    "format_version": 1,
    "name": "x",
    "family": "tiny-test",
    "config": {"size": 16},
    "image_size": 16,
    "latent_dim": 8,
    "labels": {"colour": ["red", "green", "blue"]},
    "training": {"data": "d", "licence": "CC0", "command": "c", "steps": 0, "wall_time_s": 0.0},
    "metrics": {},
    "parent": None,
    "extra": {},
}


@dataclass(frozen=True)
class Item:
    path: Path
    kind: str  # "image", "model" (a card + tensors pair, path = the card), "state"
    note: str


class _Marker:
    """Unpickling this would create the marker file: proof that code ran."""

    def __init__(self, marker: str):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (Path(self.marker),))


def _safetensors(tensors: dict[str, np.ndarray], header_extra: dict | None = None) -> bytes:
    header: dict = {}
    offset = 0
    blobs = []
    for name, arr in tensors.items():
        data = np.ascontiguousarray(arr, dtype=np.float32).tobytes()
        header[name] = {"dtype": "F32", "shape": list(arr.shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    header.update(header_extra or {})
    raw = json.dumps(header).encode()
    raw += b" " * (-len(raw) % 8)
    return struct.pack("<Q", len(raw)) + raw + b"".join(blobs)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def _png_bomb(width: int, height: int, state: bool = False) -> bytes:
    """A real 1-bit PNG of zeros: tiny on disk, ``width × height`` pixels once decoded."""
    row = b"\x00" * (1 + (width + 7) // 8)  # filter byte + packed bits
    packer = zlib.compressobj(9)
    block = row * 256
    parts = [packer.compress(block) for _ in range(height // 256)]
    parts.append(packer.compress(row * (height % 256)))
    parts.append(packer.flush())
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    tail = _chunk(b"tEXt", b"gan-studio-state\x00" + b'{"model": "emoji-dcgan"}') if state else b""
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", b"".join(parts)) + tail + _chunk(b"IEND", b"")


def _gif_header(width: int, height: int) -> bytes:
    """A GIF whose logical screen and only image claim ``width × height`` (its data is one pixel)."""
    screen = b"GIF89a" + struct.pack("<HHBBB", width, height, 0x80, 0, 0) + b"\x00\x00\x00\xff\xff\xff"
    descriptor = b"," + struct.pack("<HHHHB", 0, 0, width, height, 0)
    return screen + descriptor + b"\x02\x02\x44\x01\x00;"


def _png_with_state(path: Path, text: str, size: int = 4) -> Path:
    info = PngImagePlugin.PngInfo()
    info.add_text("gan-studio-state", text)
    Image.new("RGB", (size, size), "white").save(path, pnginfo=info)
    return path


def make_corpus(out: Path, marker: Path) -> list[Item]:
    out = Path(out)
    images, models, states = out / "images", out / "models", out / "states"
    for folder in (images, models, states):
        folder.mkdir(parents=True, exist_ok=True)
    items: list[Item] = []
    can_fifo = hasattr(os, "mkfifo")

    # -- images ------------------------------------------------------------------------------------
    good = io.BytesIO()
    Image.new("RGB", (32, 32), "red").save(good, format="PNG")
    png = good.getvalue()

    def image(name: str, data: bytes, note: str) -> None:
        (images / name).write_bytes(data)
        items.append(Item(images / name, "image", note))

    image("truncated.png", png[: len(png) // 2], "a PNG cut in half")
    image("header-only.png", png[:40], "a PNG signature and IHDR, nothing else")
    image("not-an-image.jpg", b"hello, I am text\n" * 10, "text named .jpg")
    image("empty.png", b"", "zero bytes")
    image("bomb.png", _png_bomb(40000, 40000), "a decompression bomb: 40000×40000 pixels of zeros in ~200 KB")
    image("bomb-state.png", _png_bomb(20000, 20000, state=True), "a 400 MP bomb whose state sits after its pixels")
    image("bomb-warning.png", _png_bomb(12000, 12000, state=True), "144 MP: over Pillow's warning, under its error")
    image("bomb.gif", _gif_header(30000, 30000), "a GIF claiming 30000×30000 pixels")
    big_text = io.BytesIO()
    info = PngImagePlugin.PngInfo()
    info.add_text("gan-studio-state", "[" * 2_000_000)
    Image.new("RGB", (4, 4)).save(big_text, format="PNG", pnginfo=info)
    image("huge-text-chunk.png", big_text.getvalue(), "a 2 MB tEXt chunk of '['")
    if can_fifo:
        os.mkfifo(images / "fifo.png")
        items.append(Item(images / "fifo.png", "image", "a FIFO named .png"))
    (images / "zero.png").symlink_to("/dev/zero")
    items.append(Item(images / "zero.png", "image", "a link to /dev/zero"))

    # -- models: NAME.json + NAME.safetensors --------------------------------------------------------
    tensors = {
        "net.weight": np.zeros((3 * 16 * 16, 8)),
        "net.bias": np.zeros(3 * 16 * 16),
        "pca.directions": np.eye(4, 8),
        "pca.stds": np.ones(4),
    }
    good_tensors = _safetensors(tensors)

    def model(name: str, card: bytes | dict | None, tensors_bytes: bytes | None, note: str) -> None:
        cpath = models / f"{name}.json"
        if card is not None:
            cpath.write_bytes(card if isinstance(card, bytes) else json.dumps({**card, "name": name}).encode())
        if tensors_bytes is not None:
            (models / f"{name}.safetensors").write_bytes(tensors_bytes)
        items.append(Item(cpath, "model", note))

    evil_pickle = pickle.dumps(_Marker(str(marker)))
    model("pickle", GOOD_CARD, evil_pickle, "tensors file is a pickle that would touch the marker")
    model("pickle-card", evil_pickle, good_tensors, "the card is a pickle")
    torch_zip = io.BytesIO()
    with zipfile.ZipFile(torch_zip, "w") as z:
        z.writestr("archive/data.pkl", evil_pickle)
    model("torch-zip", GOOD_CARD, torch_zip.getvalue(), "tensors file is a PyTorch zip of pickles")
    model("truncated", GOOD_CARD, good_tensors[: len(good_tensors) // 2], "safetensors cut in half")
    model("tiny-file", GOOD_CARD, b"\x01\x02", "a 2-byte tensors file")
    lying = _safetensors(tensors, {"extra": {"dtype": "F32", "shape": [10**6], "data_offsets": [0, 4 * 10**6]}})
    model("lying-offsets", GOOD_CARD, lying, "header claims a 4 MB tensor the file does not have")
    shape_lie = bytearray(good_tensors)
    header_len = struct.unpack("<Q", good_tensors[:8])[0]
    header = json.loads(good_tensors[8 : 8 + header_len])
    header["net.bias"]["shape"] = [10**9]
    raw = json.dumps(header).encode()
    raw += b" " * (-len(raw) % 8)
    shape_lie = struct.pack("<Q", len(raw)) + raw + good_tensors[8 + header_len :]
    model("lying-shape", GOOD_CARD, bytes(shape_lie), "a shape that does not match its offsets")
    model("huge-header", GOOD_CARD, struct.pack("<Q", 2**63) + b"{}", "header length 2^63")
    model("header-list", GOOD_CARD, struct.pack("<Q", 8) + b"[1,2,3] ", "header is a JSON list")
    deep = b"[" * 10000
    model("header-deep", GOOD_CARD, struct.pack("<Q", len(deep)) + deep, "header nests 10,000 deep")
    model("header-garbage", GOOD_CARD, struct.pack("<Q", 16) + os.urandom(16), "header is random bytes")
    model("deep-card", b"[" * 1000, good_tensors, "a 1 KB card nesting 1000 deep")
    model("deeper-card", b'{"a":' * 100000 + b"1" + b"}" * 100000, good_tensors, "a card nesting 100,000 deep")
    model("huge-card", b'{"pad": "' + b"x" * (17 * 1024 * 1024) + b'"}', good_tensors, "a 17 MB card")
    model("not-json", b"this is not json {", good_tensors, "the card is not JSON")
    model("binary-card", os.urandom(256), good_tensors, "the card is random bytes")
    model("list-card", b"[1, 2, 3]", good_tensors, "the card is a JSON list")
    model("foreign-card", {"hello": "world"}, good_tensors, "a JSON file that is not a model card")
    for key, value in [
        ("latent_dim", -5),
        ("latent_dim", "8"),
        ("image_size", 0),
        ("image_size", 10**12),
        ("image_size", "64"),
        ("metrics", "x"),
        ("labels", {"colour": "red"}),
        ("labels", ["red"]),
        ("training", "yesterday"),
        ("config", [1]),
        ("parent", {"evil": 1}),
        ("format_version", 999),
        ("family", ""),
    ]:
        label = str(value).replace(" ", "")[:12].strip("[]{}'\"")
        model(f"card-{key}-{label}", {**GOOD_CARD, key: value}, good_tensors, f"card with {key} = {value!r}")
    model("unknown-family", {**GOOD_CARD, "family": "no-such-family"}, good_tensors, "a family nobody installed")
    model(
        "nan-card",
        json.dumps({**GOOD_CARD, "name": "nan-card", "metrics": {"fid": float("nan")}}).encode(),
        good_tensors,
        "NaN in the metrics (Python writes it; JSON has none)",
    )
    model("no-tensors", GOOD_CARD, None, "a card without its tensors file")
    if can_fifo:
        os.mkfifo(models / "fifo-card.json")
        items.append(Item(models / "fifo-card.json", "model", "the card is a FIFO"))
        (models / "fifo-tensors.json").write_text(json.dumps({**GOOD_CARD, "name": "fifo-tensors"}))
        os.mkfifo(models / "fifo-tensors.safetensors")
        items.append(Item(models / "fifo-tensors.json", "model", "the tensors file is a FIFO"))
    (models / "zero-card.json").symlink_to("/dev/zero")
    items.append(Item(models / "zero-card.json", "model", "the card is a link to /dev/zero"))
    (models / "zero-tensors.json").write_text(json.dumps({**GOOD_CARD, "name": "zero-tensors"}))
    (models / "zero-tensors.safetensors").symlink_to("/dev/zero")
    items.append(Item(models / "zero-tensors.json", "model", "the tensors file is a link to /dev/zero"))
    outside = out / "outside-the-folder.json"
    outside.write_text(json.dumps({**GOOD_CARD, "name": "escaped"}))
    (models / "escaped.json").symlink_to(outside)
    items.append(Item(models / "escaped.json", "model", "a link leading out of the models folder"))
    (models / "dangling.json").symlink_to(out / "nothing-here.json")
    items.append(Item(models / "dangling.json", "model", "a link to nothing"))
    (models / "folder.json").mkdir()
    items.append(Item(models / "folder.json", "model", "a folder named .json"))
    (models / "legacy.pt").write_bytes(evil_pickle)
    items.append(Item(models / "legacy.pt", "legacy", "a .pt pickle that would touch the marker"))

    # -- states --------------------------------------------------------------------------------------
    hostile_states = {
        "letters": '{"model": "emoji-dcgan", "z_edits": {"0": "abc"}}',
        "nan": '{"model": "emoji-dcgan", "directions": {"pc0": NaN}}',
        "infinity": '{"model": "emoji-dcgan", "z_edits": {"3": Infinity}}',
        "huge": '{"model": "emoji-dcgan", "directions": {"pc0": 1e308}}',
        "huge-int": '{"model": "emoji-dcgan", "z_edits": {"1": ' + "9" * 5000 + "}}",
        "deep": '{"model": "emoji-dcgan", "x": ' + "[" * 5000 + "]" * 5000 + "}",
        "seed-letters": '{"model": "emoji-dcgan", "seed": "abc"}',
        "seed-nan": '{"model": "emoji-dcgan", "seed": NaN}',
        "seed-list": '{"model": "emoji-dcgan", "seed": [1, 2]}',
        "edits-list": '{"model": "emoji-dcgan", "z_edits": [1, 2, 3]}',
        "labels-number": '{"model": "emoji-dcgan", "labels": {"artist": 5}}',
        "truncation-letters": '{"model": "emoji-dcgan", "truncation": "lots"}',
        "absolute-path": json.dumps({"model": str(models / "escaped.json"), "seed": 1}),
        "relative-path": '{"model": "../../somewhere/model", "seed": 1}',
        "card-suffix": '{"model": "emoji-dcgan.json", "seed": 1}',
        "not-an-object": "[1, 2, 3]",
        "not-json": "{oops",
        "no-model": '{"seed": 3}',
        "model-number": '{"model": 42}',
    }
    for name, text in hostile_states.items():
        items.append(Item(_png_with_state(states / f"{name}.png", text), "state", f"PNG state: {name}"))
        (states / f"{name}.json").write_text(text)
        items.append(Item(states / f"{name}.json", "state", f"JSON state: {name}"))
    (states / "big.json").write_text('{"model": "emoji-dcgan", "pad": "' + "x" * (5 * 1024 * 1024) + '"}')
    items.append(Item(states / "big.json", "state", "a 5 MB state"))
    if can_fifo:
        os.mkfifo(states / "fifo.json")
        items.append(Item(states / "fifo.json", "state", "a FIFO named .json"))
    (states / "zero.json").symlink_to("/dev/zero")
    items.append(Item(states / "zero.json", "state", "a link to /dev/zero"))
    return items


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="where to write the corpus (created)")
    parser.add_argument("--marker", type=Path, default=None, help="the file a pickle would create (default OUT/PWNED)")
    args = parser.parse_args(argv)
    items = make_corpus(args.out, args.marker or args.out / "PWNED")
    for item in items:
        print(f"{item.kind:6s} {item.path.relative_to(args.out)}  {item.note}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
