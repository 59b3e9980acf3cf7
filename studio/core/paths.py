"""Where the studio finds bundled resources, user models, plugins and settings.

``STUDIO_HOME`` (default ``$XDG_DATA_HOME/gan-studio``) holds the user's models and plugins, so tests
and portable installs can point it elsewhere.
"""

from __future__ import annotations

import os
import sys
import sysconfig
from pathlib import Path


def _checkout_dir() -> Path:
    """The folder above the ``studio`` package: the repository in a source checkout or editable install."""
    return Path(__file__).resolve().parents[2]


def _installed_data_dirs() -> list[Path]:
    """Where a wheel (non-editable) install puts the bundled models and the example plugin: the data files
    of pyproject.toml go to ``<prefix>/share/gan-studio``, for this interpreter's prefix or the one the
    package was installed under (``pip install --prefix`` / ``--user``: site-packages is lib/pythonX.Y/...)."""
    dirs = [Path(sysconfig.get_path("data")) / "share" / "gan-studio"]
    package_parents = Path(__file__).resolve().parents
    if len(package_parents) > 5:
        dirs.append(package_parents[5] / "share" / "gan-studio")
    return dirs


def resources_dir() -> Path:
    if "STUDIO_RESOURCES" in os.environ:
        return Path(os.environ["STUDIO_RESOURCES"])
    frozen = getattr(sys, "_MEIPASS", None)  # PyInstaller one-folder build
    if frozen:
        return Path(frozen) / "resources"
    checkout = _checkout_dir() / "resources"
    if checkout.is_dir():
        return checkout
    for data in _installed_data_dirs():
        if (data / "resources").is_dir():
            return data / "resources"
    return checkout  # nothing bundled anywhere: an empty list of bundled models


def studio_home() -> Path:
    if "STUDIO_HOME" in os.environ:
        return Path(os.environ["STUDIO_HOME"])
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "gan-studio"


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
