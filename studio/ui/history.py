"""Undo/redo of canvas states (plain Python, no Qt).

Why a separate "live" and "committed" state: while a slider is being dragged the canvas follows every
value (live edits), but the whole drag must be one undo step. ``edit(state, live=True)`` changes only
the current state; ``commit()`` (on slider release, or any non-live edit) turns the change since the
last commit into one step.
"""

from __future__ import annotations

import copy
from typing import Any


class StateHistory:
    def __init__(self, limit: int = 200) -> None:
        self.limit = limit
        self.current: dict[str, Any] | None = None
        self._committed: dict[str, Any] | None = None
        self._undo: list[dict[str, Any]] = []
        self._redo: list[dict[str, Any]] = []

    def reset(self, state: dict[str, Any] | None) -> None:
        """Start over (e.g. a different model was opened)."""
        self.current = copy.deepcopy(state)
        self._committed = copy.deepcopy(state)
        self._undo.clear()
        self._redo.clear()

    def edit(self, state: dict[str, Any], live: bool = False) -> None:
        self.current = copy.deepcopy(state)
        if not live:
            self.commit()

    def commit(self) -> bool:
        """Close the pending change as one undo step; False when nothing changed."""
        if self.current == self._committed:
            return False
        if self._committed is not None:
            self._undo.append(self._committed)
            del self._undo[: -self.limit]
        self._committed = copy.deepcopy(self.current)
        self._redo.clear()
        return True

    @property
    def pending(self) -> bool:
        return self.current != self._committed

    def can_undo(self) -> bool:
        return bool(self._undo) or (self.pending and self._committed is not None)

    def can_redo(self) -> bool:
        return bool(self._redo) and not self.pending

    def undo(self) -> dict[str, Any] | None:
        self.commit()
        if not self._undo:
            return None
        assert self._committed is not None  # undo steps exist only once a state was committed
        self._redo.append(self._committed)
        self._committed = self._undo.pop()
        self.current = copy.deepcopy(self._committed)
        return copy.deepcopy(self.current)

    def redo(self) -> dict[str, Any] | None:
        if self.pending or not self._redo:
            return None
        assert self._committed is not None  # redo steps exist only after an undo restored a state
        self._undo.append(self._committed)
        self._committed = self._redo.pop()
        self.current = copy.deepcopy(self._committed)
        return copy.deepcopy(self.current)

    def replace(self, state: dict[str, Any]) -> None:
        """Show ``state`` as the current step without making a new one (a model switch that undo or redo
        asked for: the step is already in the history; the loaded model only normalised it)."""
        self.current = copy.deepcopy(state)
        self._committed = copy.deepcopy(state)

    def steps(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """Copies of the undo and redo steps (oldest undo first; the next redo last), e.g. to save them."""
        return copy.deepcopy(self._undo), copy.deepcopy(self._redo)

    def restore_steps(self, undo: list[dict[str, Any]], redo: list[dict[str, Any]]) -> None:
        """Put saved undo / redo steps back behind and ahead of the current state (a restarted session)."""
        self.commit()
        self._undo = copy.deepcopy(undo)[-self.limit :]
        self._redo = copy.deepcopy(redo)[-self.limit :]
