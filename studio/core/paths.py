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
