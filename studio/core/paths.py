"""Where the studio finds bundled resources, user models, plugins and settings.

``STUDIO_HOME`` overrides every user folder (models, plugins, runs, caches), so tests and portable installs
can point it elsewhere. Without it the folders are the platform's (``platformdirs``): on Linux
``$XDG_DATA_HOME/gan-studio`` (``~/.local/share/gan-studio``) for data and ``~/.cache/gan-studio`` for caches;
``%LOCALAPPDATA%\\gan-studio`` on Windows; ``~/Library/Application Support/gan-studio`` on macOS.

The bundled models and the example plugin are ``resources/`` and ``plugins/`` of the checkout (source tree,
editable install), ``studio/_bundled/`` inside the installed package (a wheel: setup.py copies them there,
read through ``importlib.resources``), or ``resources/`` and ``plugins/`` of a PyInstaller build.
"""

from __future__ import annotations

import importlib.resources
import os
import sys
from pathlib import Path

import platformdirs

APP_NAME = "gan-studio"


def _checkout_dir() -> Path:
    """The folder above the ``studio`` package: the repository in a source checkout or editable install."""
    return Path(__file__).resolve().parents[2]


def _package_data_dir() -> Path | None:
    """``studio/_bundled`` of an installed wheel (``resources/`` and ``plugins/`` inside it), or None when the
    package has none (a checkout) or is not a plain folder (a zip import)."""
    try:
        bundled = importlib.resources.files("studio") / "_bundled"
    except (ModuleNotFoundError, OSError):
        return None
    return bundled if isinstance(bundled, Path) and bundled.is_dir() else None


def resources_dir() -> Path:
    if "STUDIO_RESOURCES" in os.environ:
        return Path(os.environ["STUDIO_RESOURCES"])
    frozen = getattr(sys, "_MEIPASS", None)  # PyInstaller one-folder build
    if frozen:
        return Path(frozen) / "resources"
    packaged = _package_data_dir()
    if packaged is not None:
        return packaged / "resources"
    return _checkout_dir() / "resources"  # also when nothing is bundled anywhere: an empty list of models


def studio_home() -> Path:
    if os.environ.get("STUDIO_HOME"):
        return Path(os.environ["STUDIO_HOME"])
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def cache_home() -> Path:
    """Caches (recomputable: reference features); inside ``STUDIO_HOME`` when it is set."""
    if os.environ.get("STUDIO_HOME"):
        return Path(os.environ["STUDIO_HOME"]) / "cache"
    return Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False))


def bundled_models_dir() -> Path:
    return resources_dir() / "models"


def user_models_dir() -> Path:
    return studio_home() / "models"


def runs_dir() -> Path:
    """Where training jobs keep their resumable work by default."""
    return studio_home() / "runs"


def plugin_dirs() -> list[Path]:
    dirs = [resources_dir().parent / "plugins", studio_home() / "plugins"]
    for entry in os.environ.get("STUDIO_PLUGIN_PATH", "").split(os.pathsep):
        if entry:
            dirs.append(Path(entry))
    seen, out = set(), []
    for d in dirs:
        key = str(d.resolve()) if d.exists() else str(d)
        if key not in seen:
            seen.add(key)
            out.append(d)
    return out


# -- where a job that exports a model puts it ------------------------------------------------------------
_SEPARATORS = ("/", "\\")
MAX_NAME_LENGTH = 120


def is_model_name(text: str) -> bool:
    """Whether ``text`` is a bare model name (an id): no folder part, nothing a path could escape with."""
    return not model_name_problem(text)


def model_name_problem(text: str) -> str:
    """Why ``text`` cannot be a model name ('' when it can)."""
    if not text or not text.strip():
        return "a model name cannot be empty"
    if any(sep in text for sep in _SEPARATORS):
        return "a model name cannot contain '/' or '\\'"
    if text in (".", "..") or text.startswith("."):
        return "a model name cannot start with '.'"
    if any(ord(c) < 32 or ord(c) == 127 for c in text):
        return "a model name cannot contain control characters"
    if len(text) > MAX_NAME_LENGTH:
        return f"a model name is at most {MAX_NAME_LENGTH} characters"
    return ""


def bundled_model_ids() -> set[str]:
    folder = bundled_models_dir()
    try:
        return {p.stem for p in folder.glob("*.json")} if folder.is_dir() else set()
    except OSError:
        return set()


def model_out_stem(
    out: str | os.PathLike[str] | None, default_name: str, models_dir: Path | None = None, option: str = "--out"
) -> Path:
    """Where a job exports a model (``STEM.safetensors`` + ``STEM.json``). The one rule every job follows:

    - no ``out``: ``default_name`` in the models folder (``models_dir``, default the user models folder);
    - a bare name (no ``/`` or ``\\``; ``.json`` / ``.safetensors`` is dropped): that name in the models
      folder; a name can never leave it (``..``, ``.hidden`` and ``a/b`` are not names);
    - anything with a ``/`` (``./x``, ``../x``, ``runs/x``, ``/abs/x``) is a path the user typed, taken as
      it is, relative to the current folder (never to the models folder); an existing folder gets the
      model under ``default_name`` inside it.

    A model in the models folder whose name a bundled model has is refused: the bundled one would hide it.
    Raises StudioError with the reason.
    """
    from .errors import StudioError

    folder = models_dir if models_dir is not None else user_models_dir()
    problem = model_name_problem(default_name)
    if problem:
        raise StudioError(f"'{default_name}' cannot be a model name: {problem}")
    text = os.fspath(out) if out is not None else ""
    if not text:
        stem = folder / default_name
    elif any(sep in text for sep in _SEPARATORS):
        stem = Path(text)
        if text.endswith(_SEPARATORS) or stem.is_dir():
            stem = stem / default_name
        if stem.suffix in (".json", ".safetensors"):
            stem = stem.with_suffix("")
        problem = model_name_problem(stem.name)
        if problem:
            raise StudioError(f"{option} {text}: {problem}")
    else:
        name = text[: -len(Path(text).suffix)] if Path(text).suffix in (".json", ".safetensors") else text
        problem = model_name_problem(name)
        if problem:
            raise StudioError(f"{option} {text}: {problem} (to save elsewhere, give a path with a '/', e.g. ./{name})")
        stem = folder / name
    if stem.name in bundled_model_ids() and _same_folder(stem.parent, folder):
        raise StudioError(
            f"{option} {stem.name}: a bundled model has this name and would hide yours in the model list; "
            "choose another name"
        )
    return stem


def _same_folder(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except (OSError, RuntimeError):
        return False
