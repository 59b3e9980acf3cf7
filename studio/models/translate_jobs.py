"""The 'translate' job of the translator families (CycleGAN, U-GAT-IT): Qt-free.

:class:`ModelTranslateJob` loads a translator (once per card path and device when given a cache; in the
job's thread, so even loading stays off the UI thread) and translates one image at its own resolution,
in overlapping tiles for large images (one progress step per tile, cancellable between tiles). The
window's Translate tool runs it without ``out`` and shows the pixels; ``studio run cyclegan translate``
(or ``ugatit``) runs it with an output PNG that carries the translation in its metadata::

    studio run cyclegan translate emoji-google2twitter face.png -o face-twitter.png
    studio run cyclegan translate emoji-google2twitter face.png --direction b2a --side-by-side
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from studio.core import argtypes
from studio.core.errors import StudioError
from studio.models.job_common import add_model_argument, add_output_arguments, check_output, model_id_of, resolve_model

JOBS = {"translate": "translate an image with a trained translator (any size, tiled when large): a PNG"}
SUFFIXES = (".png",)
AUTO_TILE_ABOVE = 1024  # tile=None: whole image up to this side, else AUTO_TILE px tiles
AUTO_TILE = 512


class ModelTranslateJob:
    """Translate ``image`` (a path or a PIL image) with ``model`` (a loaded translator, a model id or a
    card path). Outputs ``{"image": HxWx3 uint8, "direction", "tiles", "model"}`` (plus "attention", an HxWx3
    map, for a U-GAT-IT) without ``out``; with ``out`` a PNG (optionally input | output) is written and the
    outputs are its path and size."""

    def __init__(
        self,
        model: Any,
        image: Any,
        direction: str = "a2b",
        tile: int | None = None,
        overlap: int | None = None,
        out: str | Path | None = None,
        force: bool = False,
        device: str = "auto",
        cache: dict | None = None,
        side_by_side: bool = False,
        command: str = "",
    ):
        if direction not in ("a2b", "b2a"):
            raise StudioError(f"direction must be 'a2b' or 'b2a', not {direction!r}")
        self.model, self.image, self.direction = model, image, direction
        self.tile, self.overlap, self.out, self.force, self.device = tile, overlap, out, force, device
        self.cache, self.side_by_side, self.command = cache, bool(side_by_side), command
        self.model_id = model_id_of(model)
        self.title = f"Translate {direction} with {self.model_id}"

    def run(self, reporter) -> dict[str, Any]:
        import numpy as np

        from studio.core.images import load_image
        from studio.models.translate_common import TranslateImageJob, TranslatorModel

        out = check_output(self.out, self.force, SUFFIXES) if self.out else None
        source = Path(self.image) if isinstance(self.image, (str, Path)) else None
        image = load_image(source) if source is not None else self.image  # before the model: fail fast
        model = resolve_model(self.model, self.device, reporter, self.cache)
        if not isinstance(model, TranslatorModel):
            raise StudioError(f"'{self.model_id}' is a {model.card.family} model, not an image translator")
        tile = self.tile
        if tile is None:
            tile = AUTO_TILE if max(image.size) > AUTO_TILE_ABOVE else 0
        result = TranslateImageJob(model, image, self.direction, tile, self.overlap).run(reporter)
        result["model"] = self.model_id
        if out is None:
            from studio.models.ugatit.attention import attention_map, has_attention

            if has_attention(model):  # U-GAT-IT: where its generator looked, for the Translate tool
                result["attention"] = attention_map(model, image, self.direction)
            return result
        pixels = result["image"]
        if self.side_by_side:
            pixels = np.concatenate([np.asarray(image.convert("RGB"), dtype=np.uint8), pixels], axis=1)
        state = model.default_state(self.model_id)
        state["labels"]["direction"] = self.direction
        state["translate"] = {
            "source": source.name if source else "",
            "direction": self.direction,
            "tile": tile,
            "size": [image.width, image.height],
            "side_by_side": self.side_by_side,
        }
        from studio.core.export import save_result  # a failed write keeps the image in $STUDIO_HOME/recovered

        check_output(out, self.force, SUFFIXES)
        save_result(out, pixels, state)
        return {
            "out": str(out),
            "size": f"{image.width}x{image.height}",
            "direction": self.direction,
            "tiles": result.get("tiles", 0),
        }


def add_job_arguments(name: str, parser: Any) -> None:
    if name != "translate":
        raise KeyError(f"no job '{name}'")
    add_model_argument(parser, "translator")
    parser.add_argument("image", help="any image (PNG, JPEG, WebP, ...)")
    parser.add_argument(
        "--direction", default="a2b", choices=["a2b", "b2a"], help="a2b: domain A → B (default); b2a: the reverse"
    )
    parser.add_argument(
        "--tile",
        type=argtypes.nonneg_int,
        default=None,
        help="process in tiles of N px with overlap (bounds memory on large images); 0 = whole "
        f"image; default: whole image up to {AUTO_TILE_ABOVE} px, else {AUTO_TILE} px tiles",
    )
    parser.add_argument(
        "--overlap", type=argtypes.nonneg_int, default=None, help="tile overlap in px (default: from the model)"
    )
    parser.add_argument("--side-by-side", action="store_true", help="save input | output next to each other")
    add_output_arguments(parser, SUFFIXES, "IMAGE-MODEL-DIRECTION.png")


def make_job(name: str, options: dict[str, Any]):
    if name != "translate":
        raise KeyError(f"no job '{name}'")
    o = {k.replace("-", "_"): v for k, v in options.items()}
    if not o.get("model") or not o.get("image"):
        raise StudioError("'translate' needs a translator model and an image")
    image, direction = Path(o["image"]), o.get("direction") or "a2b"
    out = o.get("out") or f"{image.stem}-{model_id_of(o['model'])}-{direction}.png"
    return ModelTranslateJob(
        o["model"],
        image,
        direction,
        o.get("tile"),
        o.get("overlap"),
        out=out,
        force=bool(o.get("force")),
        device=o.get("device", "auto"),
        side_by_side=bool(o.get("side_by_side")),
        command=o.get("command", ""),
    )
