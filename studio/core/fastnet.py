"""Fast inference for rendering: a network's bf16 channels_last copy, frozen per input shape in the background.

Why: a 64 px frame is a few milliseconds of small convolutions, where fp32 eager PyTorch leaves most of
the CPU unused. On CPUs with native bf16 (AVX-512 BF16 / AMX) a bf16 copy of the weights in
channels_last runs 2-5x faster, and a frozen TorchScript graph of it (``torch.jit.trace`` +
``torch.jit.freeze``: folded batch norms, fused oneDNN convolutions) another 1.2-3x (the batch norms after
transposed convolutions, which freezing leaves, are folded first: studio.core.bnfold); ``torch.compile``
measured slower here and costs minutes of compiling (bench/bench_render_latency.py --compile).

:class:`FastNet` stands in for a network attribute of a loaded model. It is not a module: every
attribute, ``parameters()``, ``state_dict()``, ``train()`` go to the original fp32 network, which stays
the reference. Only a plain call without gradients (rendering, scoring) takes the fast path; a call
that needs gradients (steering, encoding) or a network put in training mode runs the original. The
fast copy follows in-place weight changes (``load_state_dict``, e.g. the style strength slider).
Freezing runs in a daemon thread, so it never delays a frame: until a shape's graph is ready (and
checked against the eager copy), that shape renders eagerly; a graph that fails to build or to
match leaves that shape eager for good.

Setting: ``STUDIO_RENDER_PRECISION`` = ``auto`` (bf16 on CPUs with native bf16, else fp32), ``bf16``
or ``fp32``; ``STUDIO_RENDER_FREEZE=0`` turns the frozen graphs off.
"""

from __future__ import annotations

import atexit
import copy
import operator
import os
import threading
import warnings
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import torch

from .bnfold import fold_batch_norms
from .errors import StudioError

PRECISIONS = ("auto", "bf16", "fp32")
MAX_GRAPHS = 16  # input shapes (x plain / pixel head) frozen per network (a translator sees many tile sizes)
MATCH_TOL = 0.05  # a frozen graph must match its eager bf16 copy this closely (outputs in [-1, 1])


def native_bf16() -> bool:
    """True on CPUs whose bf16 convolutions are fast (AVX-512 BF16 or AMX)."""
    import torch.cpu

    for name in ("_is_amx_tile_supported", "_is_avx512_bf16_supported"):
        fn = getattr(torch.cpu, name, None)
        try:
            if fn is not None and fn():
                return True
        except RuntimeError:
            pass
    return False


def render_precision(name: str | None = None, device: torch.device | None = None) -> str:
    """The precision renders use: 'bf16' or 'fp32' ('auto' decides from the device)."""
    choice = (name or os.environ.get("STUDIO_RENDER_PRECISION") or "auto").strip().lower()
    if choice not in PRECISIONS:
        raise StudioError(f"unknown render precision '{choice}': use {', '.join(PRECISIONS)}")
    if choice != "auto":
        return choice
    if device is not None and device.type != "cpu":
        return "fp32"  # only measured on CPUs so far
    return "bf16" if native_bf16() else "fp32"


def freeze_enabled() -> bool:
    return os.environ.get("STUDIO_RENDER_FREEZE", "1").strip() not in ("0", "no", "false", "off")


def _fast_path_allowed() -> bool:
    return torch.is_inference_mode_enabled() or not torch.is_grad_enabled()


def _map_tensors(value: Any, fn: Callable[[torch.Tensor], torch.Tensor]) -> Any:
    if isinstance(value, torch.Tensor):
        return fn(value)
    if isinstance(value, tuple):
        return tuple(_map_tensors(v, fn) for v in value)
    if isinstance(value, list):
        return [_map_tensors(v, fn) for v in value]
    return value


def _to_fast(x: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    if not x.is_floating_point():
        return x
    fmt = torch.channels_last if x.dim() == 4 else torch.contiguous_format
    return x.to(dtype=dtype).contiguous(memory_format=fmt)


def _to_fp32(x: torch.Tensor) -> torch.Tensor:
    """fp32 in the layout the graph produced: images stay channels_last, which is the layout
    :func:`studio.core.grid.to_uint8` turns into pixels fastest (a [N,H,W,3] view that is already
    contiguous); converting to NCHW here and back to NHWC there cost 3x the conversion itself."""
    return x.float() if x.is_floating_point() else x


def _max_diff(a: Any, b: Any) -> float:
    ta = [t for t in (a if isinstance(a, (tuple, list)) else (a,)) if isinstance(t, torch.Tensor)]
    tb = [t for t in (b if isinstance(b, (tuple, list)) else (b,)) if isinstance(t, torch.Tensor)]
    if len(ta) != len(tb) or any(x.shape != y.shape for x, y in zip(ta, tb, strict=True)):
        return float("inf")
    return max(
        (float((x.float() - y.float()).abs().max()) for x, y in zip(ta, tb, strict=True) if x.numel()), default=0.0
    )


class PixelHead(torch.nn.Module):
    """``net``, then the family's affine map to [0, 1] and :func:`studio.core.grid.to_uint8`'s 8-bit
    conversion, as one module, so one frozen graph turns a code into the [N,H,W,3] pixels the window
    shows. Why: every small op run just after a oneDNN graph measured 10-90 us (a cost per op, not per
    pixel: 12k pixels take 3 us alone), so the float copy, scaling and conversion cost a single frame
    ~0.1-0.15 ms outside the graph and ~0.05 ms inside it (bench/bench_render_latency.py)."""

    def __init__(self, net: torch.nn.Module, scale: float, shift: float, dtype: torch.dtype = torch.bfloat16):
        super().__init__()
        self.net = net
        self.dtype = dtype  # the inputs' cast to the fast copy's precision is in the graph too
        self.scale = float(scale) * 255.0  # to_uint8: clip(x * scale + shift, 0, 1) * 255 + 0.5, truncated
        self.offset = float(shift) * 255.0 + 0.5

    def forward(self, *args: torch.Tensor) -> torch.Tensor:
        x = self.net(*(_to_fast(a, self.dtype) for a in args))
        x = x.permute(0, 2, 3, 1).float()  # NHWC: a view of the channels_last output
        x.mul_(self.scale).add_(self.offset).clamp_(0.0, 255.0)  # in place: no new buffer to fault in
        return x.to(torch.uint8).contiguous()


class FastNet:
    """A render-time stand-in for ``net`` (see the module docstring)."""

    def __init__(self, net: torch.nn.Module, precision: str = "bf16", freeze: bool = True):
        self._reference = net
        self._dtype = torch.bfloat16 if precision == "bf16" else torch.float32
        self.precision = precision
        self._freeze = freeze
        self._lock = threading.Lock()
        self._graphs: dict[tuple, Any] = {}  # input signature -> frozen graph, or None (stays eager)
        self._building: set[tuple] = set()
        self._version = -1
        self._fast: torch.nn.Module | None = None
        self._heads: dict[tuple[float, float], PixelHead] = {}  # (scale, shift) -> the fast copy's pixel head
        self.calls = {"fast": 0, "frozen": 0, "reference": 0}

    # -- a module to everyone else
    def __getattr__(self, name: str) -> Any:
        if name.startswith("_FastNet") or name in ("_reference",):
            raise AttributeError(name)
        return getattr(self._reference, name)

    def __repr__(self) -> str:
        return f"FastNet({self.precision}, {type(self._reference).__name__})"

    @property
    def reference(self) -> torch.nn.Module:
        return self._reference

    def _weights_version(self) -> int:
        tensors = self.__dict__.get("_tensors")
        if tensors is None:  # listed once: walking the module tree on every call costs ~0.1 ms
            tensors = self.__dict__["_tensors"] = [*self._reference.parameters(), *self._reference.buffers()]
        return sum(map(_VERSION, tensors))  # map + attrgetter: in C, ~4x faster than a generator

    def _fast_copy(self) -> torch.nn.Module:
        """The bf16 channels_last copy, remade (and the graphs dropped) after the weights changed."""
        version = self._weights_version()
        with self._lock:
            if self._fast is None or version != self._version:
                fast = copy.deepcopy(self._reference).eval()
                for p in fast.parameters():
                    p.requires_grad_(False)
                fold_batch_norms(fast)  # in fp32, before the cast: transposed-conv norms cost a pass each
                fast.to(dtype=self._dtype).to(memory_format=torch.channels_last)
                self._fast, self._version = fast, version
                self._graphs.clear()
            return self._fast

    # -- calls
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        ref = self._reference
        if kwargs or ref.training or not _fast_path_allowed():
            self.calls["reference"] += 1
            return ref(*args, **kwargs)
        return _map_tensors(self._run(None, args), _to_fp32)

    def pixels(self, *args: torch.Tensor, scale: float = 1.0, shift: float = 0.0) -> np.ndarray:
        """The network's images as the window's 8-bit pixels, [N,H,W,3] uint8: ``net(*args) * scale +
        shift`` is the family's map to [0, 1], then :func:`studio.core.grid.to_uint8`'s conversion. On the
        fast path all of it is one frozen graph (see :class:`PixelHead`); otherwise the reference network
        and ``to_uint8`` (the same pixels up to rounding)."""
        from .grid import to_uint8

        ref = self._reference
        if ref.training or not _fast_path_allowed():
            self.calls["reference"] += 1
            return to_uint8(ref(*args).float() * scale + shift)
        return self._run((float(scale), float(shift)), args).numpy()

    def _head(self, fast: torch.nn.Module, head: tuple[float, float] | None) -> torch.nn.Module:
        if head is None:
            return fast
        with self._lock:
            module = self._heads.get(head)
            if module is None or module.net is not fast:
                module = self._heads[head] = PixelHead(fast, *head, dtype=self._dtype)
            return module

    def _run(self, head: tuple[float, float] | None, args: tuple) -> Any:
        """The fast copy (or its pixel head) on ``args``: its frozen graph for this input signature when
        one is ready, else eagerly (scheduling the freeze)."""
        fast = self._fast
        if fast is None or self._weights_version() != self._version:
            fast = self._fast_copy()
        dtype = self._dtype
        if len(args) == 1 and isinstance(args[0], torch.Tensor):  # a frame's usual call: kept shortest
            a = args[0] if head is not None else _to_fast(args[0], dtype)  # a pixel head casts itself
            inputs: tuple = (a,)
            key: tuple = (self._version, head, (a.shape, a.dtype))
        elif all(isinstance(a, torch.Tensor) for a in args):
            inputs = args if head is not None else tuple(_to_fast(a, dtype) for a in args)
            key = (self._version, head, *((a.shape, a.dtype) for a in inputs))
        else:
            inputs = tuple(_map_tensors(a, lambda t: _to_fast(t, dtype)) for a in args)
            key = (
                self._version,
                head,
                *((t.shape, t.dtype) if isinstance(t, torch.Tensor) else type(t) for t in inputs),
            )
        graph = self._graphs.get(key)
        if graph is not None and torch.is_inference_mode_enabled():  # the render thread's case: no context
            self.calls["frozen"] += 1
            return graph(*inputs)
        with torch.inference_mode():
            if graph is not None:
                self.calls["frozen"] += 1
                return graph(*inputs)
            self.calls["fast"] += 1
            module = self._head(fast, head)
            out = module(*inputs)
            if self._freeze and all(isinstance(t, torch.Tensor) for t in inputs):
                self._schedule_freeze(key, module, inputs, out)
        return out

    def frozen_shapes(self) -> int:
        return sum(1 for g in self._graphs.values() if g is not None)

    def wait_frozen(self, timeout: float = 30.0) -> bool:
        """Wait for the graphs being built (tests, benches); True when none is still building."""
        import time

        end = time.monotonic() + timeout
        while self._building and time.monotonic() < end:
            time.sleep(0.01)
        return not self._building

    def _schedule_freeze(self, key: tuple, fast: torch.nn.Module, inputs: tuple, expected: Any) -> None:
        with self._lock:
            if key in self._graphs or key in self._building or len(self._graphs) >= MAX_GRAPHS:
                return
            self._building.add(key)
        example = tuple(t.clone() for t in inputs)
        expected = _map_tensors(expected, lambda t: t.clone())
        threads = torch.get_num_threads()  # the caller's count: the graph is built and warmed with it
        builder = threading.Thread(
            target=self._build, args=(key, fast, example, expected, threads), name="studio-freeze", daemon=True
        )
        _track_builder(builder)
        builder.start()

    def _build(self, key: tuple, fast: torch.nn.Module, example: tuple, expected: Any, threads: int = 0) -> None:
        graph = None
        if threads > 0:
            # oneDNN keeps the kernels it creates here, for as many threads as this thread has: build them
            # for the count of the thread that will run the graph (the render thread uses 1 for a frame)
            from .threads import set_threads_here

            set_threads_here(threads)
        try:
            # one build at a time in the process: two traces of the same module at once (a frame's float
            # graph and its pixel graph) break each other, and the loser would stay eager for good
            with _BUILD_LOCK, warnings.catch_warnings(), torch.inference_mode():
                warnings.simplefilter("ignore")
                traced = torch.jit.trace(fast, example, check_trace=False)
                graph = torch.jit.freeze(traced.eval())
                for _ in range(3):  # the profiling executor optimises on the first runs: do them here
                    got = graph(*example)
                tol = MATCH_TOL * abs(fast.scale) + 1.0 if isinstance(fast, PixelHead) else MATCH_TOL  # in 8-bit levels
                if _max_diff(got, expected) > tol:
                    graph = None
        except Exception:  # no TorchScript for this network (or this build): it stays eager
            graph = None
        with self._lock:
            if key[0] == self._version:
                self._graphs[key] = graph
            self._building.discard(key)


_VERSION = operator.attrgetter("_version")
_BUILDERS: set[threading.Thread] = set()
_BUILDERS_LOCK = threading.Lock()
_BUILD_LOCK = threading.Lock()


def _track_builder(thread: threading.Thread) -> None:
    """Remember a freezing thread so the process can wait for it at exit (see :func:`_join_builders`)."""
    with _BUILDERS_LOCK:
        _BUILDERS.difference_update({t for t in _BUILDERS if not t.is_alive()})
        _BUILDERS.add(thread)


def _join_builders(timeout: float = 20.0) -> None:
    """At exit, wait (bounded) for graphs still being frozen: a daemon thread left inside TorchScript while
    the interpreter shuts down can abort the process in native code. They are daemons only so that a
    stuck build can never keep the program alive past this bound."""
    import time

    end = time.monotonic() + timeout
    with _BUILDERS_LOCK:
        pending = list(_BUILDERS)
    for thread in pending:
        thread.join(max(0.0, end - time.monotonic()))


atexit.register(_join_builders)


def _wrap(value: Any, precision: str, freeze: bool) -> Any:
    if isinstance(value, FastNet):
        return value
    if isinstance(value, torch.nn.Module):
        return FastNet(value, precision, freeze)
    if isinstance(value, dict) and value and all(isinstance(v, torch.nn.Module) for v in value.values()):
        return {k: FastNet(v, precision, freeze) for k, v in value.items()}
    return value


def accelerate(model: Any, precision: str | None = None, freeze: bool | None = None) -> str:
    """Give a loaded model's render networks (its class's ``render_networks`` attribute names; a name
    holding another loaded model is followed) fast stand-ins. Returns the precision used; 'fp32'
    changes nothing (the reference path)."""
    prec = render_precision(precision, getattr(model, "device", None))
    wrapped = False
    if prec != "fp32":
        do_freeze = freeze_enabled() if freeze is None else freeze
        for name in getattr(type(model), "render_networks", ()):
            value = getattr(model, name, None)
            if value is None:
                continue
            if hasattr(type(value), "render_networks"):
                wrapped = accelerate(value, prec, do_freeze) != "fp32" or wrapped
            else:
                setattr(model, name, _wrap(value, prec, do_freeze))
                wrapped = True
    model.render_precision = prec if wrapped else "fp32"  # what renders (the window's status bar says it)
    return model.render_precision


def fast_nets(model: Any) -> list[FastNet]:
    """The FastNet stand-ins of an accelerated model (for tests and the bench)."""
    out: list[FastNet] = []
    for name in getattr(type(model), "render_networks", ()):
        value = getattr(model, name, None)
        if isinstance(value, FastNet):
            out.append(value)
        elif isinstance(value, Mapping):
            out += [v for v in value.values() if isinstance(v, FastNet)]
        elif value is not None and hasattr(type(value), "render_networks"):
            out += fast_nets(value)
    return out


def net_pixels(net: Any, *args: torch.Tensor, scale: float = 1.0, shift: float = 0.0) -> np.ndarray:
    """[N,H,W,3] uint8 pixels of ``net(*args) * scale + shift`` (the family's map to [0, 1]): through the
    fast stand-in's pixel graph when ``net`` is a :class:`FastNet`, else the plain network and
    :func:`studio.core.grid.to_uint8`. Families use it in ``render_pixels``."""
    if isinstance(net, FastNet):
        return net.pixels(*args, scale=scale, shift=shift)
    from .grid import to_uint8

    with torch.inference_mode():
        return to_uint8(net(*args).float() * scale + shift)


def prepare_for_render(model: Any, precision: str | None = None) -> Any:
    """Accelerate a freshly loaded model and render one warm-up frame (its default state), so the
    first frame a user asks for meets allocated buffers and created oneDNN kernels (a cold first
    frame measured 240-300 ms against 3-7 ms warm). The warm-up also starts freezing that shape in the
    background. A warm-up that fails is ignored: the real request reports the error."""
    import time

    accelerate(model, precision)
    t0 = time.perf_counter()
    try:
        with torch.inference_mode():
            render = getattr(model, "render_pixels", None) or model.render  # pixels: what the render thread runs
            render([model.default_state(getattr(model.card, "name", "") or "warm-up", 0)])
        model.warmed = True
    except Exception:
        model.warmed = False
    model.warm_up_ms = (time.perf_counter() - t0) * 1000.0
    return model
