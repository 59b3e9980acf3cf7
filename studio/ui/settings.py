"""Settings remembered between runs (QSettings), with typed getters so bad stored values never crash.

Tests and portable installs pass their own QSettings (e.g. an INI file in a temp folder).
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings

ORGANISATION = "GAN Studio"
APPLICATION = "studio"


def default_settings() -> QSettings:
    """The platform's usual place, or ``$STUDIO_HOME/settings.ini`` when STUDIO_HOME is set (portable
    installs, tests and screenshots keep their settings with their models)."""
    if os.environ.get("STUDIO_HOME"):
        return QSettings(str(Path(os.environ["STUDIO_HOME"]) / "settings.ini"), QSettings.Format.IniFormat)
    return QSettings(ORGANISATION, APPLICATION)


class StudioSettings:
    """Thin typed wrapper. Keys: geometry, window_state, last_model, device, grid_rows, grid_cols,
    grid_mode, zoom, dir/<purpose> (last folders: export, open, data)."""

    def __init__(self, qsettings: QSettings | None = None) -> None:
        self.q = qsettings if qsettings is not None else default_settings()

    def get_str(self, key: str, default: str = "") -> str:
        value = self.q.value(key, default)
        return value if isinstance(value, str) else default

    def get_int(self, key: str, default: int, lo: int = -(2**31), hi: int = 2**31 - 1) -> int:
        raw = self.q.value(key, default)
        try:
            value = int(raw) if isinstance(raw, (int, float, str)) else default
        except ValueError:
            return default
        return min(hi, max(lo, value))

    def get_float(self, key: str, default: float) -> float:
        raw = self.q.value(key, default)
        try:
            return float(raw) if isinstance(raw, (int, float, str)) else default
        except ValueError:
            return default

    def get_bool(self, key: str, default: bool = False) -> bool:
        value = self.q.value(key, default)
        if isinstance(value, str):
            return value.lower() in ("1", "true", "yes")
        return bool(value)

    def get_bytes(self, key: str) -> QByteArray | None:
        value = self.q.value(key)
        return value if isinstance(value, QByteArray) else None

    def set(self, key: str, value) -> None:
        self.q.setValue(key, value)

    def folder(self, purpose: str, default: str = "") -> str:
        return self.get_str(f"dir/{purpose}", default)

    def set_folder(self, purpose: str, folder: str) -> None:
        self.set(f"dir/{purpose}", folder)

    def sync(self) -> None:
        self.q.sync()
