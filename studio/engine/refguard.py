"""Work around a PySide6 reference-count bug on Python < 3.12 (found while benchmarking).

PySide6 6.12 (the version this project installs) returns ``None``/``True``/``False`` from many calls
without taking a reference: ``QCoreApplication.processEvents()`` and every ``Signal.emit()`` each
drop one reference to a singleton. From Python 3.12 those singletons are immortal, so nothing
happens; on 3.11 (our supported minimum) the interpreter aborts with "Fatal Python error:
bool_dealloc: deallocating True or False" after a few thousand signal emits — i.e. a few seconds
of slider dragging. Reproduce with 1000 × ``obj.someSignal.emit(1)`` and ``sys.getrefcount(True)``.

The fix makes the three singletons effectively immortal, as 3.12 does: add 2**40 to their reference
counts once, under the GIL. Nothing else changes; on 3.12+ this is a no-op. Every module that uses
Qt goes through :func:`install` (studio.engine and studio.ui call it on import).
"""

from __future__ import annotations

import ctypes
import sys
import threading

_BOOST = 1 << 40
_lock = threading.Lock()
_installed = False


def install() -> bool:
    """Make None/True/False immortal-ish on CPython < 3.12; True when a boost was applied."""
    global _installed
    if sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return False
    with _lock:
        if _installed:
            return False
        for obj in (None, True, False):
            ctypes.c_ssize_t.from_address(id(obj)).value += _BOOST
        _installed = True
    return True
