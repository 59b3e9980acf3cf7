"""Direction strips: how long a strip takes, and whether rendering strips stalls slider drags.

    OMP_NUM_THREADS=1 QT_QPA_PLATFORM=offscreen python bench/bench_direction_strip.py [--n 60] [--model ID|PATH]

In the real window (bundled emoji-dcgan unless --model), one after the other:
  strip      one direction's strip (5 thumbnails, -2σ … +2σ) through the render engine: the render time in
             the render thread, and request -> strip delivered in the GUI thread (one at a time)
  all        every direction's strip asked for at once (what View ▸ Preview directions does)
  slider     a direction slider setValue() -> the canvas shows the new frame, n times, in four conditions:
               idle        no strips rendering
               view-open   the Directions view open: every strip kept up to date the way the window does it
                           (asked for after a quiet moment, never while a slider is held)
               strips      every strip re-asked for the moment it arrives (the render thread never idles),
                           with the engine's rule that background ('bg:') channels wait for the canvas
               no-priority the same load with that rule switched off (strips and canvas first come, first
                           served), to show what the rule buys
  drag       a slider dragged for 1 s (a value every 2 ms) with and without the strip load: frames shown
Prints p50/p95, ratios, and how many strip renders started in the render thread while a slider frame was
waiting: with the rule none (only the one strip already running when the slider moved can delay it: the
newest-wins rule holds); without it, every queued strip goes first.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_API", "pyside6")

import torch

BUNDLED = "emoji-dcgan"


def pct(values, q):
    v = sorted(values)
    return v[min(len(v) - 1, int(round(q / 100 * (len(v) - 1))))] if v else float("nan")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=60, help="slider frames per condition")
    ap.add_argument("--model", default=None, help="model id or card path (default: the bundled emoji-dcgan)")
    ap.add_argument("--threads", type=int, default=int(os.environ.get("OMP_NUM_THREADS", "1")))
    args = ap.parse_args()
    torch.set_num_threads(max(1, args.threads))

    from PySide6.QtCore import QEventLoop, QSettings
    from PySide6.QtWidgets import QApplication

    import studio.engine.render as render_module
    from studio.core.store import ModelStore
    from studio.ui.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv)
    tmp = Path(tempfile.mkdtemp(prefix="bench-strips-"))
    path = ModelStore().resolve(args.model or BUNDLED)
    os.environ["STUDIO_HOME"] = str(tmp / "home")  # the names file of this run goes there, not in yours
    window = MainWindow(
        settings=QSettings(str(tmp / "s.ini"), QSettings.Format.IniFormat),
        store_folders=[path.parent],
        model=str(path),
        device="cpu",
        load_tools=False,
    )
    window.show()

    def wait(pred, timeout_s=60.0):
        end = time.perf_counter() + timeout_s
        while not pred():
            if time.perf_counter() > end:
                raise TimeoutError("nothing arrived")
            app.processEvents(QEventLoop.ProcessEventsFlag.WaitForMoreEvents)

    wait(lambda: not window.canvas.image().isNull() and window.current_model() is not None)
    strips = window.directions
    keys = [k for k, _name in strips.directions()]
    if not keys:
        print(f"{path.name}: this model has no direction sliders")
        return 1
    model = window.current_model()

    # ---- one strip at a time
    arrived: dict[str, float] = {}
    strips.stripReady.connect(lambda key: arrived.__setitem__(key, time.perf_counter()))
    strip_ms, strip_total = [], []
    for rep in range(3):
        for key in keys:
            arrived.pop(key, None)
            t0 = time.perf_counter()
            strips.request_strip(key)
            wait(lambda key=key: key in arrived)
            if rep:  # the first round warms up
                strip_ms.append(strips.render_ms[key])
                strip_total.append((arrived[key] - t0) * 1000)
    # ---- every strip at once
    arrived.clear()
    t0 = time.perf_counter()
    for key in keys:
        strips.request_strip(key)
    wait(lambda: len(arrived) == len(keys))
    all_ms = (max(arrived.values()) - t0) * 1000

    # ---- slider latency under three conditions
    slider = window.panel.sliders[f"dir:{keys[0]}"].slider
    load = {"on": False}

    def reask(key):
        if load["on"]:
            strips.request_strip(key)

    strips.stripReady.connect(reask)

    # when each render starts in the render thread, and on which channel (list.append is thread-safe)
    starts: list[tuple[float, str, float]] = []  # (render start, channel, when it was requested)
    worker = window.engine._worker
    plain_render = worker._render

    def traced(req):
        starts.append((time.perf_counter(), req.channel, req.requested_at))
        return plain_render(req)

    worker._render = traced
    waited_for: dict[str, list[int]] = {}  # strip renders started while a slider frame was waiting

    def slider_run(n, cond):
        out = []
        for i in range(n):
            before = window.canvas.frames_shown
            t0 = time.perf_counter()
            target = 100 + (i * 37) % 800
            slider.setValue(target if slider.value() != target else target + 1)  # always a change
            wait(
                lambda before=before: (
                    window.canvas.frames_shown > before
                    and window._last_frame is not None
                    and window._last_frame.states[0] == window.current_state()
                )
            )  # this step's own frame, not a late one of the drag before
            out.append((time.perf_counter() - t0) * 1000)
            # the canvas render of this step, and the strips that started after it was asked for, before it
            canvas = [(t, asked) for t, ch, asked in list(starts) if ch == "canvas" and asked >= t0]
            start, asked = canvas[-1] if canvas else (t0, t0)
            cut_in = sum(1 for t, ch, _a in list(starts) if ch.startswith("bg:") and asked <= t < start)
            waited_for.setdefault(cond, []).append(cut_in)
        return out

    def drag():
        slider.setSliderDown(True)
        shown0, sent = window.canvas.frames_shown, 0
        end = time.perf_counter() + 1.0
        while time.perf_counter() < end:
            slider.setValue(sent % 1000)
            sent += 1
            app.processEvents()
            time.sleep(0.002)
        slider.setSliderDown(False)
        return window.canvas.frames_shown - shown0, sent

    def start_load():
        load["on"] = True
        for key in keys:
            strips.request_strip(key)
        wait(lambda: window.engine.stats["rendered"] > 0)

    def stop_load():
        load["on"] = False
        rendered = -1
        while rendered != window.engine.stats["rendered"]:  # let the last strips drain
            rendered = window.engine.stats["rendered"]
            t_end = time.perf_counter() + 0.3
            while time.perf_counter() < t_end:
                app.processEvents()

    results = {}
    drags = {}
    prefix = render_module.BACKGROUND_PREFIX
    for rnd in range(2):  # two rounds in rotating order, so a change of machine load hits every condition
        order = ["idle", "view-open", "strips", "no-priority"]
        order = order[rnd:] + order[:rnd]
        for cond in order:
            render_module.BACKGROUND_PREFIX = prefix if cond != "no-priority" else "\0no-priority"
            if cond == "view-open":  # the Directions view's own refresh: every strip watched, none forced
                strips.watch(keys)
                wait(lambda: all(k in strips.fresh for k in keys))
            elif cond != "idle":
                start_load()
            results.setdefault(cond, []).extend(slider_run(args.n // 2, cond))
            drags.setdefault(cond, []).append(drag())
            if cond == "view-open":
                strips.watch(keys, on=False)
                stop_load()
            elif cond != "idle":
                stop_load()
            render_module.BACKGROUND_PREFIX = prefix
    window.close()

    print(
        f"model: {path.name} ({model.image_size} px, {model.card.family}, {len(keys)} directions); torch threads "
        f"{torch.get_num_threads()}; CPU; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    print(f"{'':30s} {'p50 ms':>8s} {'p95 ms':>8s}")
    print(f"{'strip render (5 cells)':30s} {pct(strip_ms, 50):8.1f} {pct(strip_ms, 95):8.1f}")
    print(f"{'strip request->shown':30s} {pct(strip_total, 50):8.1f} {pct(strip_total, 95):8.1f}")
    print(f"all {len(keys)} strips at once: {all_ms:.0f} ms")
    for cond, vals in results.items():
        w = waited_for[cond]
        print(
            f"{'slider -> frame, ' + cond:30s} {pct(vals, 50):8.1f} {pct(vals, 95):8.1f}   strips started while "
            f"it waited: mean {sum(w) / len(w):.2f}, max {max(w)}"
        )
    idle95, with95, nop95, view95 = (pct(results[c], 95) for c in ("idle", "strips", "no-priority", "view-open"))
    bound = idle95 + pct(strip_ms, 95)
    print(
        f"slider p95 with strips / idle: {with95 / idle95:.2f}x; without the priority rule: {nop95 / idle95:.2f}x; "
        f"p95 <= idle p95 + one strip render ({bound:.1f} ms): {'MET' if with95 <= bound else 'MISSED'}; "
        f"with the Directions view open / idle: {view95 / idle95:.2f}x"
    )
    rule = max(waited_for["strips"]) == 0
    print(
        f"newest-wins rule (no strip starts while a slider frame waits; at most the one already running delays "
        f"it): "
        f"{'HOLDS' if rule else 'BROKEN'} (max {max(waited_for['strips'])}; "
        f"without the priority rule: max {max(waited_for['no-priority'])})"
    )
    for cond, runs in drags.items():
        frames = sum(r[0] for r in runs) / len(runs)
        sent = sum(r[1] for r in runs) / len(runs)
        print(f"drag 1 s, {cond:12s}: {sent:.0f} values -> {frames:.0f} canvas frames shown")
    return 0


if __name__ == "__main__":
    sys.exit(main())
