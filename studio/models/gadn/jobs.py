"""GADN's model jobs beyond training (Qt-free): encode an image into the model's content space.

The window's GADN tools dock runs :class:`EncodeImageJob` on a dropped image and puts the content code
on the canvas; ``studio run gadn encode MODEL IMAGE`` runs the same class and writes a file::

    studio run gadn encode gadn-emoji face.png -o face.json                 # the content code + a state
    studio run gadn encode gadn-emoji face.png --artist twitter -o face.png # input | redrawn (+ state)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from studio.core.errors import StudioError
from studio.models.job_common import (
    add_model_argument,
    add_output_arguments,
    check_output,
    model_id_of,
    resolve_model,
    write_json,
)

JOBS = {"encode": "encode an image into the model's content code: JSON, or a PNG of it redrawn by artists"}
SUFFIXES = (".json", ".png")


class EncodeImageJob:
    """Encode a user image into the model's content space (E's mean): the first half of style transfer.

    Without ``out`` the outputs are ``{"content", "input_pixels", "image"}`` (the GUI's drop target);
    with ``out`` a JSON file (the code and a canvas state showing it) or a PNG (the input, then the
    content redrawn by each of ``artists`` — default all — with that state in its metadata) is written.
    """

    def __init__(
        self,
        model: Any,
        path: str | Path,
        out: str | Path | None = None,
        force: bool = False,
        device: str = "auto",
        artists: list[str] | None = None,
        model_id: str | None = None,
        command: str = "",
    ):
        self.model, self.path = model, Path(path)
        self.out, self.force, self.device = out, force, device
        self.artists, self.model_id, self.command = list(artists or []), model_id, command
        self.title = f"Encode {self.path.name}"

    def run(self, reporter) -> dict[str, Any]:
        out = check_output(self.out, self.force, SUFFIXES) if self.out else None
        if not self.path.is_file():  # before loading the model: a typo fails at once
            raise StudioError(f"{self.path}: file not found")
        model = resolve_model(self.model, self.device, reporter)
        if not (hasattr(model, "encode") and hasattr(model, "image_tensor") and hasattr(model, "artists")):
            raise StudioError(
                f"encoding an image needs a GADN model (a content encoder); "
                f"'{model.card.name}' is a {model.card.family} model"
            )
        artists = [model.artists[model.artist_index(a)] for a in self.artists]  # clear error for unknown names
        reporter.message(f"encoding {self.path.name} …")
        tensor = model.image_tensor(self.path)  # safe loader: clear errors for bad files
        code = model.encode(self.path)
        content = [round(float(v), 6) for v in code]
        total = 2 if out else 1
        reporter.report(1, total, message="encoded")
        if out is None:
            pixels = ((tensor[0].permute(1, 2, 0).numpy() + 1) * 127.5 + 0.5).clip(0, 255).astype(np.uint8)
            return {"content": content, "input_pixels": pixels, "image": str(self.path)}
        mid = model_id_of(self.model, self.model_id)
        state = model.default_state(mid)
        state["content"] = content
        state["labels"]["artist"] = (artists or list(model.artists))[0]
        state["source_image"] = self.path.name
        check_output(out, self.force, SUFFIXES)
        if out.suffix.lower() == ".json":
            write_json(
                out,
                {
                    "model": mid,
                    "image": str(self.path),
                    "content_dim": len(content),
                    "content": content,
                    "state": state,
                },
            )
        else:
            import torch

            from studio.core.export import save_result  # a failed write keeps the image in $STUDIO_HOME/recovered
            from studio.core.grid import tile, to_uint8

            names = artists or list(model.artists)
            source = (tensor[0] + 1) / 2
            cells = to_uint8(torch.cat([source.unsqueeze(0), model.content_grid(state, names)]))
            save_result(out, tile(cells, 1, len(cells)), state)
        reporter.report(2, 2, message=f"wrote {out}")
        return {"out": str(out), "image": self.path.name, "content_dim": len(content)}


def add_job_arguments(name: str, parser: Any) -> None:
    if name != "encode":
        raise KeyError(f"family 'gadn' has no job '{name}'")
    add_model_argument(parser, "GADN model")
    parser.add_argument("image", help="the image to encode (any format the studio's loader reads)")
    parser.add_argument(
        "--artist",
        action="append",
        default=None,
        metavar="NAME",
        help="artist of the state (and of the PNG's redrawn cells; repeatable; default: all)",
    )
    add_output_arguments(parser, SUFFIXES, "IMAGE-MODEL-content.json")


def make_job(name: str, options: dict[str, Any]):
    if name != "encode":
        raise KeyError(f"family 'gadn' has no job '{name}'")
    o = {k.replace("-", "_"): v for k, v in options.items()}
    if not o.get("model") or not o.get("image"):
        raise StudioError("'encode' needs a model and an image")
    image = Path(o["image"])
    out = o.get("out") or f"{image.stem}-{model_id_of(o['model'])}-content.json"
    artists = o.get("artist") or []
    if isinstance(artists, str):
        artists = [a.strip() for a in artists.split(",") if a.strip()]
    return EncodeImageJob(
        o["model"],
        image,
        out=out,
        force=bool(o.get("force")),
        device=o.get("device", "auto"),
        artists=artists,
        command=o.get("command", ""),
    )
