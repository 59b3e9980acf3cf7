"""The render engine: one worker QThread that turns canvas states into frames, newest request first.

Why this shape (after NVlabs/stylegan3's ``viz/renderer.py``): a slider drag produces dozens of state
changes per second, far more than a CPU can render. Every request gets a stamp and goes into a
one-slot-per-channel mailbox, so a newer request on the same channel replaces an older one that has not
started yet (it is *skipped*, never rendered). At most one render runs at a time and the worker always
takes the newest request next, so a drag never builds a queue. Channels named ``bg:…`` (previews such as
the direction strips) are taken only when no other request waits, so they never delay a drag's frames by
more than the one small render that may already be running. Results older than a frame already shown
on the same channel are dropped (*stale*), as are results for a model the channel has since left.

The UI talks to :class:`RenderEngine` (a QObject in the GUI thread). It never sees tensors: frames
arrive as :class:`~studio.engine.frames.Frame` with a QImage and uint8 pixels. Code running on the
qasync loop can ``await engine.render_async(...)`` / ``await engine.load_async(...)`` instead of wiring
signals.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from PySide6.QtCore import QObject, QThread, QTimer, Signal, Slot

from studio.core.errors import StudioError
from studio.core.family import normalise_state
from studio.core.fastnet import fast_nets, render_precision
from studio.core.grid import tile
from studio.core.threads import RenderThreadTuner, set_threads_here

from .frames import Frame, array_to_qimage
from .model_cache import ModelCache, model_key

LOAD_CHANNEL = "load"
CALIBRATION_MAX_MS = 25.0  # idle-time tuner frames only for models this fast (a request waits one at most)
CALIBRATION_RETRY_MS = 50  # while the opened model's graph is being frozen, look again this often
CALIBRATION_WAIT_S = 10.0  # ... for at most this long
BACKGROUND_PREFIX = "bg:"  # channels that wait while any other request is pending (direction strips…)


@dataclass
class RenderRequest:
    stamp: int
    channel: str
    model: str  # model key (resolved card path)
    device: str
    states: list[dict[str, Any]] = field(default_factory=list)
    rows: int = 1
    cols: int = 1
    pad: int = 2
    requested_at: float = 0.0
    background: int = 255  # grid padding grey level


@dataclass
class RenderFailure:
    stamp: int
    channel: str
    model_key: str
    message: str


@dataclass
class ModelReady:
    stamp: int
    model_key: str
    device: str
    model: Any  # studio.core.family.LoadedModel (read its controls/default_state; don't touch tensors)


class _Mailbox:
    """Newest request per channel; ``take`` hands the worker the next one (loads first)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.pending: dict[str, RenderRequest] = {}
        self.wake_posted = False
        self.skipped = 0

    def put(self, req: RenderRequest) -> bool:
        """Store a request; True when the worker must be woken (no wake-up is on its way yet)."""
        with self.lock:
            if req.channel in self.pending:
                self.skipped += 1
            self.pending[req.channel] = req
            if self.wake_posted:
                return False
            self.wake_posted = True
            return True

    def take(self) -> RenderRequest | None:
        with self.lock:
            if not self.pending:
                self.wake_posted = False
                return None
            loads = [c for c in self.pending if c.startswith(LOAD_CHANNEL)]
            # loads first, then the canvas and tools; background previews only when nothing else waits
            front = [c for c in self.pending if not c.startswith(BACKGROUND_PREFIX)]
            channel = min(loads or front or self.pending, key=lambda c: self.pending[c].stamp)
            return self.pending.pop(channel)


class _RenderWorker(QObject):
    """Lives in the engine's QThread. Renders whatever the mailbox holds, newest per channel."""

    frameDone = Signal(object)
    failed = Signal(object)
    loaded = Signal(object)

    def __init__(self, mailbox: _Mailbox, cache: ModelCache) -> None:
        super().__init__()
        self.mailbox = mailbox
        self.cache = cache
        self._threads = 0  # this thread's intra-op count (OpenMP keeps it per thread); 0: not set yet
        self._tuner: RenderThreadTuner | None = None
        self._calibrating: tuple[str, str] | None = None  # (model key, device) still to time, when idle
        self._calibrate_by = 0.0  # after this, calibrate even if a graph is still being frozen

    @Slot()
    def drain(self) -> None:
        while True:
            req = self.mailbox.take()
            if req is None:
                if self._calibrating is not None and self._calibration_render():
                    continue  # one frame at a time: a request that arrives meanwhile goes first
                return
            try:
                if req.channel.startswith(LOAD_CHANNEL):
                    model = self.cache.get(req.model, req.device)
                    self.loaded.emit(ModelReady(req.stamp, req.model, str(model.device), model))
                    self._calibrating = (req.model, req.device)
                    self._calibrate_by = time.monotonic() + CALIBRATION_WAIT_S
                else:
                    self.frameDone.emit(self._render(req))
            except StudioError as exc:
                self.failed.emit(RenderFailure(req.stamp, req.channel, req.model, str(exc)))
            except MemoryError:
                self.failed.emit(
                    RenderFailure(
                        req.stamp, req.channel, req.model, "out of memory while rendering: try a smaller grid"
                    )
                )
            except Exception as exc:  # a family bug must not kill the render thread
                self.failed.emit(RenderFailure(req.stamp, req.channel, req.model, f"rendering failed: {exc!r}"))

    def _set_threads(self, n: int) -> None:
        if n != self._threads:
            set_threads_here(n)
            self._threads = n

    def _tuned_render(self, key: str, model: Any, states: Sequence[Mapping[str, Any]]) -> tuple[Any, int, float]:
        """Pixels of ``states`` on the thread count the tuner picks, and the time, which it learns from."""
        if self._tuner is None:
            self._tuner = RenderThreadTuner(torch.get_num_threads())
        threads = self._tuner.choose(key, len(states))
        self._set_threads(threads)
        t0 = time.perf_counter()
        with torch.inference_mode():
            cells = model.render_pixels(states)
        render_ms = (time.perf_counter() - t0) * 1000.0
        self._tuner.record(key, len(states), threads, render_ms)
        return cells, threads, render_ms

    def _calibration_render(self) -> bool:
        """While the mailbox is empty after a model opened: one frame of its default state, so the tuner
        has timed both thread counts before the first slider drag. Why: timing them during the drag put
        its slow-count renders (2-4x slower under load) into the drag's 95th percentile. Returns False
        (and stops) once the tuner has chosen, when frames are too slow to spend idle time on, or on an
        error, which the next real request reports."""
        assert self._calibrating is not None
        key, device = self._calibrating
        try:
            done = self._tuner is not None and self._tuner.chosen(key, 1) is not None
            if not done:
                model = self.cache.get(key, device)
                if not all(net.wait_frozen(0) for net in fast_nets(model)) and time.monotonic() < self._calibrate_by:
                    # its graph is still being frozen in the background: renders now would be eager ones,
                    # slowed by the freezing thread, so the counts would be compared on the wrong path
                    QTimer.singleShot(CALIBRATION_RETRY_MS, self.drain)
                    return False
                state = normalise_state(model.default_state(getattr(model.card, "name", "") or key, 0))
                done = self._tuned_render(key, model, [state])[2] > CALIBRATION_MAX_MS
        except Exception:
            done = True
        if done:
            self._calibrating = None
        return not done

    def _render(self, req: RenderRequest) -> Frame:
        model = self.cache.get(req.model, req.device)
        cells, threads, render_ms = self._tuned_render(req.model, model, req.states)
        if req.rows * req.cols > 1:
            pixels = tile(cells, req.rows, req.cols, pad=req.pad, background=req.background)
        else:
            pixels = cells[0]
        image = array_to_qimage(pixels)
        total_ms = (time.perf_counter() - req.requested_at) * 1000.0
        extra = {
            "warm": bool(getattr(model, "warmed", False)),
            "precision": getattr(model, "render_precision", "fp32"),
            "threads": threads,
        }
        return Frame(
            req.stamp,
            req.channel,
            req.model,
            req.states,
            req.rows,
            req.cols,
            cells,
            image,
            render_ms,
            total_ms,
            req.requested_at,
            extra,
        )


class RenderEngine(QObject):
    """GUI-thread front of the render thread. See the module docstring for the rules."""

    frameReady = Signal(object)  # Frame (only the newest per channel; stale ones are dropped)
    renderFailed = Signal(object)  # RenderFailure
    modelReady = Signal(object)  # ModelReady
    _wake = Signal()

    def __init__(self, device: str = "auto", cache: ModelCache | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.device = device or "auto"
        self.cache = cache or ModelCache()
        self._stamps = itertools.count(1)
        self._mailbox = _Mailbox()
        self._shown: dict[str, int] = {}  # newest stamp delivered per channel
        self._floor: dict[str, int] = {}  # results at or below this stamp are stale (model changed)
        self._channel_model: dict[str, str] = {}
        self._waiters: dict[int, asyncio.Future] = {}
        self.stats = {"requested": 0, "rendered": 0, "stale_dropped": 0}
        self._thread = QThread()
        self._thread.setObjectName("studio-render")
        self._worker = _RenderWorker(self._mailbox, self.cache)
        self._worker.moveToThread(self._thread)
        self._wake.connect(self._worker.drain)
        self._worker.frameDone.connect(self._on_frame)
        self._worker.failed.connect(self._on_failed)
        self._worker.loaded.connect(self._on_loaded)
        self._thread.start()

    # ---- requests -------------------------------------------------------------------------
    def set_device(self, name: str) -> None:
        """Later requests render on this device ('auto', 'cpu', 'cuda:0', 'mps')."""
        self.device = name or "auto"

    @property
    def precision(self) -> str:
        """The render precision asked for: 'auto', 'bf16' or 'fp32' (see studio.core.fastnet)."""
        return self.cache.precision or os.environ.get("STUDIO_RENDER_PRECISION", "auto") or "auto"

    def set_precision(self, name: str) -> None:
        """Render later models in this precision ('auto', 'bf16', 'fp32': the reference). Loaded models were
        readied for the old one, so they are dropped from the cache; a StudioError names a bad choice."""
        render_precision(name)  # validates
        self.cache.precision = name.strip().lower()
        self.cache.forget()

    def request(
        self,
        model: str | Path,
        states: Sequence[Mapping[str, Any]],
        channel: str = "canvas",
        rows: int = 1,
        cols: int = 1,
        pad: int = 2,
        background: int = 255,
    ) -> int:
        """Ask for a frame; returns its stamp. A newer request on the same channel supersedes this one."""
        key = model_key(model)
        stamp = next(self._stamps)
        if self._channel_model.get(channel) not in (None, key):
            self._floor[channel] = stamp - 1
        self._channel_model[channel] = key
        clean = [normalise_state(s) for s in states]
        self.stats["requested"] += 1
        self._post(
            RenderRequest(
                stamp,
                channel,
                key,
                self.device,
                clean,
                max(1, rows),
                max(1, cols),
                pad,
                time.perf_counter(),
                int(background),
            )
        )
        return stamp

    def load(self, model: str | Path, channel: str = LOAD_CHANNEL) -> int:
        """Load (or fetch from the cache) a model in the render thread; answers with modelReady."""
        stamp = next(self._stamps)
        self._post(RenderRequest(stamp, channel, model_key(model), self.device, requested_at=time.perf_counter()))
        return stamp

    async def render_async(
        self, model: str | Path, states: Sequence[Mapping[str, Any]], rows: int = 1, cols: int = 1, pad: int = 2
    ) -> Frame:
        """Render and await the frame (its own channel, so nothing supersedes it). Raises StudioError."""
        future = asyncio.get_event_loop().create_future()
        channel = f"await-{id(future)}"
        stamp = self.request(model, states, channel, rows, cols, pad)
        self._waiters[stamp] = future
        try:
            return await future
        finally:
            self._channel_model.pop(channel, None)

    async def load_async(self, model: str | Path):
        future = asyncio.get_event_loop().create_future()
        stamp = self.load(model, f"{LOAD_CHANNEL}-await-{id(future)}")
        self._waiters[stamp] = future
        ready: ModelReady = await future
        return ready.model

    def _post(self, req: RenderRequest) -> None:
        if self._mailbox.put(req):
            self._wake.emit()

    @property
    def skipped(self) -> int:
        """Requests superseded before they started (never rendered)."""
        return self._mailbox.skipped

    # ---- results (GUI thread) ----------------------------------------------------------------
    def _resolve(self, stamp: int, value: Any = None, error: str | None = None) -> bool:
        future = self._waiters.pop(stamp, None)
        if future is None:
            return False
        if not future.done():
            if error is None:
                future.set_result(value)
            else:
                future.set_exception(StudioError(error))
        return True

    @Slot(object)
    def _on_frame(self, frame: Frame) -> None:
        self.stats["rendered"] += 1
        if self._resolve(frame.stamp, frame):
            return
        ch = frame.channel
        if frame.stamp <= self._shown.get(ch, 0) or frame.stamp <= self._floor.get(ch, 0):
            self.stats["stale_dropped"] += 1
            return
        self._shown[ch] = frame.stamp
        self.frameReady.emit(frame)

    @Slot(object)
    def _on_failed(self, failure: RenderFailure) -> None:
        if self._resolve(failure.stamp, error=failure.message):
            return
        if failure.stamp <= self._floor.get(failure.channel, 0):
            return
        self.renderFailed.emit(failure)

    @Slot(object)
    def _on_loaded(self, ready: ModelReady) -> None:
        if self._resolve(ready.stamp, ready):
            return
        self.modelReady.emit(ready)

    def shutdown(self) -> None:
        """Stop the render thread (waits for a render in progress to finish)."""
        if self._thread.isRunning():
            self._thread.quit()
            self._thread.wait(10000)
        for future in self._waiters.values():
            if not future.done():
                future.cancel()
        self._waiters.clear()
