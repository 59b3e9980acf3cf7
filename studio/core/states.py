"""Canvas states that come from outside (a dropped image, ``--state FILE``): read, checked, cleaned.

A state is untrusted input. This module is its door:

- :func:`read_state_file` reads the state of an exported image (PNG ``tEXt``; the EXIF description of a
  JPEG / WebP) or of a JSON file: regular files only (a FIFO or a device is refused, never opened for
  long), size and nesting-depth limits, no pixel decoding of an oversized image, NaN / Infinity refused;
- :func:`check_state` refuses, with a message naming the file and the key, a state whose standard keys
  hold nonsense (``z_edits`` / ``directions`` with non-numbers, NaN, huge values; a seed that is not a
  whole number...). A state that passes renders with any model of its family;
- :func:`clean_state` is the lenient twin used by :func:`studio.core.family.normalise_state`: whatever a
  state holds, what reaches a model is well-typed and finite (bad entries are dropped, values clamped),
  so no state can break every later render;
- :func:`state_model_id`: a state names its model **by id only**. A path in a state (``/x/model.json``,
  ``../m``) is refused: loading a file from anywhere is an explicit user action (File ▸ Open, a MODEL
  argument), never a side effect of a dropped image.
"""

from __future__ import annotations

import copy
import math
import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from .errors import FileProblem
from .paths import model_name_problem
from .safeio import MAX_STATE_BYTES, open_regular, parse_json, read_limited

STATE_KEY = "gan-studio-state"  # the PNG tEXt key (studio.core.export writes it)
EXIF_PREFIX = STATE_KEY + ":"  # JPEG / WebP: the EXIF ImageDescription holds this + the JSON
EXIF_DESCRIPTION = 0x010E
STATE_DEPTH = 32
MAX_IMAGE_PIXELS = 100_000_000  # an image larger than this is not decoded to find a state after its pixels
MAX_VALUE = 100.0  # |z edit|, |direction| in standard deviations (sliders go to ±3)
MAX_SCALAR = 1e6
MAX_TRUNCATION = 3.0
MAX_ENTRIES = 1 << 16  # z_edits / directions / labels / scalars / content entries
MAX_SEED = 1 << 63
MAX_TEXT = 1000


class StateError(FileProblem):
    """A state file, or the state inside an image, cannot be used."""


# ------------------------------------------------------------------------------------------ reading
def read_state_file(path: str | Path) -> dict[str, Any]:
    """The checked state of an exported image or a JSON state file (``{"state": {...}}`` or the state
    itself). Every failure is a :class:`StateError` naming the file."""
    path = Path(path)
    if path.suffix.lower() == ".json":
        raw: str | bytes = read_limited(path, MAX_STATE_BYTES, StateError, "state file")
        what = "state file"
    else:
        found = _image_state_text(path)
        if found is None:
            raise StateError(path, "this image holds no GAN Studio state (it was not exported by GAN Studio)")
        raw, what = found, "GAN Studio state in this image"
    try:
        data = parse_json(raw, path, StateError, "state", STATE_DEPTH, allow_nan=False)
    except StateError as exc:
        raise StateError(path, f"the {what} is damaged: {exc.problem}") from exc
    if isinstance(data, dict) and isinstance(data.get("state"), dict) and path.suffix.lower() == ".json":
        data = data["state"]
    return check_state(data, path)


def image_has_state(path: str | Path) -> bool:
    """Whether an image carries a GAN Studio state (checked or not); a StateError if it cannot be read.
    A picture without one is the user's own: the window offers what can be done with it."""
    return _image_state_text(Path(path)) is not None


def _image_state_text(path: Path) -> str | None:
    from PIL import Image

    with open_regular(path, StateError, "image") as fh:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                with Image.open(fh) as img:
                    return _state_in(img)
        except Image.DecompressionBombError as exc:
            raise StateError(path, f"refused as a possible decompression bomb ({exc})") from exc
        except StateError:
            raise
        except Exception as exc:  # Pillow raises many types for damaged files
            raise StateError(path, f"could not read the image ({type(exc).__name__}: {exc})") from exc


def _state_in(img: Any) -> str | None:
    """The raw state text of an opened image, without decoding the pixels of an oversized one."""
    raw = img.info.get(STATE_KEY)  # a text chunk before the pixels (where the studio writes it)
    if isinstance(raw, (str, bytes)):
        return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    if img.format == "PNG":
        width, height = img.size
        if width * height <= MAX_IMAGE_PIXELS:  # text after the pixels: Pillow decodes them to get there
            text = img.text
            if isinstance(text, Mapping) and isinstance(text.get(STATE_KEY), str):
                return text[STATE_KEY]
        return None
    if img.format in ("JPEG", "WEBP", "MPO"):
        value = img.getexif().get(EXIF_DESCRIPTION)
        if isinstance(value, bytes):
            value = value.decode("utf-8", "replace")
        if isinstance(value, str) and value.startswith(EXIF_PREFIX):
            return value[len(EXIF_PREFIX) :]
    return None


# ------------------------------------------------------------------------------------------ checking
def _number(value: Any) -> float | None:
    """A finite float, or None for anything else (bools, strings, NaN, inf, huge ints)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def _whole(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and len(value) <= 40:  # "7" in a hand-written state
        value = _int_key(value.strip())
        if value is None:
            return None
    if isinstance(value, int):
        return value if -MAX_SEED < value < MAX_SEED else None
    number = _number(value)
    if number is None or not number.is_integer():
        return None
    return _whole(int(number))


class _Problems:
    """Strict: raise at the first problem. Lenient: drop / replace and carry on."""

    def __init__(self, strict: bool, source: str | Path | None):
        self.strict, self.source = strict, source

    def __call__(self, message: str) -> None:
        if self.strict:
            raise StateError(self.source or "state", f"the state is damaged: {message}; not applied")


def _table(state: Mapping[str, Any], key: str, bad: _Problems) -> Mapping[Any, Any]:
    value = state.get(key)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        bad(f"'{key}' must be an object, not {type(value).__name__}")
        return {}
    if len(value) > MAX_ENTRIES:
        bad(f"'{key}' has {len(value)} entries (at most {MAX_ENTRIES})")
        return {}
    return value


def _numbers(state: Mapping[str, Any], key: str, limit: float, bad: _Problems, index_keys: bool = False):
    out: dict[str, Any] = {}
    for k, v in _table(state, key, bad).items():
        if not isinstance(k, str) or len(k) > MAX_TEXT or (index_keys and _whole(_int_key(k)) is None):
            bad(f"'{key}' has a key that is not {'a dimension number' if index_keys else 'a name'} ({k!r:.40})")
            continue
        number = _number(v)
        if number is None:
            bad(f"'{key}.{k}' must be a finite number, not {v!r:.40}")
            continue
        if abs(number) > limit:
            bad(f"'{key}.{k}' is {number:g}, outside ±{limit:g}")
            number = math.copysign(limit, number)
            out[k] = number
            continue
        out[k] = v if isinstance(v, (int, float)) and not isinstance(v, bool) else number
    return out


def _int_key(key: str) -> int | None:
    try:
        return int(key)
    except (TypeError, ValueError):
        return None


def _clean(state: Any, strict: bool, source: str | Path | None) -> dict[str, Any]:
    bad = _Problems(strict, source)
    if not isinstance(state, Mapping):
        if strict:
            raise StateError(source or "state", "holds no GAN Studio state (not a JSON object)")
        state = {}
    out: dict[str, Any] = {}
    model = state.get("model", "")
    if model is None:
        model = ""
    if not isinstance(model, str) or len(model) > 4096:
        bad("'model' must be a model id (a short string)")
        model = ""
    out["model"] = model
    seed = _whole(state.get("seed", 0) if state.get("seed") is not None else 0)
    if seed is None:
        bad(f"'seed' must be a whole number, not {state.get('seed')!r:.40}")
        seed = 0
    out["seed"] = seed
    out["z_edits"] = _numbers(state, "z_edits", MAX_VALUE, bad, index_keys=True)
    out["directions"] = _numbers(state, "directions", MAX_VALUE, bad)
    truncation = _number(state.get("truncation", 1.0) if state.get("truncation") is not None else 1.0)
    if truncation is None or not 0.0 <= truncation <= MAX_TRUNCATION:
        bad(f"'truncation' must be a number from 0 to {MAX_TRUNCATION:g}, not {state.get('truncation')!r:.40}")
        truncation = 1.0 if truncation is None else min(max(truncation, 0.0), MAX_TRUNCATION)
    out["truncation"] = truncation
    labels = {}
    for k, v in _table(state, "labels", bad).items():
        if isinstance(k, str) and isinstance(v, str) and len(k) <= MAX_TEXT and len(v) <= MAX_TEXT:
            labels[k] = v
        else:
            bad(f"'labels' must map names to short strings ({k!r:.40}: {v!r:.40})")
    out["labels"] = labels
    out["scalars"] = _numbers(state, "scalars", MAX_SCALAR, bad)
    if isinstance(state.get("content"), list):  # an explicit content code (GADN): finite numbers
        content = state["content"]  # (other tools keep other things under 'content', e.g. a file name)
        values = [_number(v) for v in content] if len(content) <= MAX_ENTRIES else [None]
        if any(v is None or abs(v) > MAX_VALUE * 10 for v in values):
            bad("'content' must be a list of finite numbers")
        else:
            out["content"] = copy.deepcopy(content)
    if "variation" in state:
        var = state["variation"]
        vseed = _whole(var.get("seed", 0)) if isinstance(var, Mapping) else None
        spread = _number(var.get("spread", 0.5)) if isinstance(var, Mapping) else None
        if vseed is None or spread is None or abs(spread) > MAX_VALUE:
            bad("'variation' must hold a whole-number 'seed' and a finite 'spread'")
        else:
            out["variation"] = {**copy.deepcopy(dict(var)), "seed": vseed, "spread": spread}
    for key, value in state.items():
        if (
            key not in out
            and key != "variation"
            and isinstance(key, str)
            and not (key == "content" and isinstance(value, list))
        ):
            out[key] = copy.deepcopy(value)
    return out


def check_state(state: Any, source: str | Path | None = None) -> dict[str, Any]:
    """A copy of ``state`` as it is, if its standard keys are sound; else a :class:`StateError` naming
    ``source`` and the first bad key. (Unknown keys are kept: families ignore what they do not use.)"""
    _clean(state, True, source)
    return copy.deepcopy(dict(state))


def clean_state(state: Any) -> dict[str, Any]:
    """A well-typed, finite copy of any state: bad entries dropped, values clamped (never raises)."""
    return _clean(state, False, None)


# ------------------------------------------------------------------------------------------ models
def state_model_id(
    state: Mapping[str, Any], source: str | Path, installed: Iterable[str], opened: Iterable[str] = ()
) -> str:
    """The id of the model a state names, if it may be used: an installed model's id, or a model the user
    opened this session (``opened``). A path is refused, with what to do instead."""
    model = state.get("model")
    if not isinstance(model, str) or not model.strip():
        raise StateError(source, "the state names no model")
    if model in set(installed) or model in set(opened):
        return model
    problem = model_name_problem(model)
    if problem or model.endswith((".json", ".safetensors")):
        raise StateError(
            source,
            f"the state names its model by a file path ({model!r:.200} is not installed: a state may only name "
            "an installed model, by its id); to use that checkpoint, open it yourself (File ▸ Open "
            "checkpoint…, or give it as the MODEL argument), then apply the state",
        )
    installed_text = ", ".join(sorted(set(installed))) or "none"
    raise StateError(
        source, f"it was made with the model '{model}', which is not installed here (installed: {installed_text})"
    )


def fit_state_to_controls(state: dict[str, Any], controls: Iterable[Any]) -> dict[str, Any]:
    """``state`` with every choice a model offers set to one of its options (an unknown artist, style or
    direction from another model's state would make every render fail)."""
    for control in controls:
        if getattr(control, "kind", None) != "choice" or not getattr(control, "options", ()):
            continue
        value = state["labels"].get(control.name)
        if value is not None and value not in control.options:
            state["labels"][control.name] = (
                control.default if control.default in control.options else control.options[0]
            )
    return state
