"""Copies the bundled models and the example plugin into the wheel as ``studio/_bundled`` (package data).

The repository keeps them at ``resources/`` and ``plugins/`` (the checkout, an editable install and the
PyInstaller spec read them there); a built wheel carries them inside the package, where
``studio.core.paths.resources_dir()`` finds them through ``importlib.resources``. Everything else is in
pyproject.toml.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
# (source folder, file patterns, folder inside studio/_bundled)
BUNDLED = [
    ("resources/models", ("*.json", "*.safetensors", "*.LICENCE.txt"), "resources/models"),
    ("plugins", ("*.py",), "plugins"),
]


class BuildWithBundled(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install reads resources/ and plugins/ of the checkout
        for source, patterns, target in BUNDLED:
            files = sorted(f for pattern in patterns for f in (ROOT / source).glob(pattern) if f.is_file())
            if not files:
                raise SystemExit(f"setup.py: nothing to bundle in {source}/ ({', '.join(patterns)})")
            out = Path(self.build_lib) / "studio" / "_bundled" / target
            out.mkdir(parents=True, exist_ok=True)
            for f in files:
                shutil.copy2(f, out / f.name)


setup(cmdclass={"build_py": BuildWithBundled})
