"""One family of exception types, so every layer can show users a clear message.

Every error a user can cause (a bad file, a foreign checkpoint, a cancelled job) is a
``StudioError``; its ``str()`` is the sentence the UI and CLI show, naming the file and the problem.
"""

from __future__ import annotations

from pathlib import Path


class StudioError(Exception):
    """Base of every user-facing error."""


class FileProblem(StudioError):
    """A problem with one file: the message always names the file."""

    def __init__(self, path: str | Path, problem: str):
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{self.path.name}: {problem}")


class CheckpointError(FileProblem):
    """A checkpoint or model card could not be loaded or saved."""


class ImageLoadError(FileProblem):
    """A user image could not be read."""


class JobCancelled(StudioError):
    """Raised inside a job when its cancel token was set."""

    def __init__(self, message: str = "cancelled by the user"):
        super().__init__(message)


class JobDiverged(StudioError):
    """Raised when a training loss became NaN/inf or exploded."""


class UnknownFamily(StudioError):
    """A model card names a family that is not installed."""
