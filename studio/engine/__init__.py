"""QObjects that do the GUI's work in worker threads (QtCore only, no widgets).

- :class:`RenderEngine` (render.py): stamped render requests, newest wins, model cache, device choice.
- :class:`JobRunner` / :class:`JobHandle` (jobs.py): any studio.core.jobs job in a QThread with Cancel.
"""

from .refguard import install as _install_refguard

_install_refguard()  # PySide6 6.12 drops references to None/True/False on Python 3.11: see refguard.py

from .frames import Frame, array_to_qimage, qimage_to_array
from .jobs import JobHandle, JobRunner
from .model_cache import ModelCache, model_key
from .render import ModelReady, RenderEngine, RenderFailure

__all__ = [
    "Frame",
    "JobHandle",
    "JobRunner",
    "ModelCache",
    "ModelReady",
    "RenderEngine",
    "RenderFailure",
    "array_to_qimage",
    "model_key",
    "qimage_to_array",
]
