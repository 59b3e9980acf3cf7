"""The job panel: the running job's title, progress bar, live preview, loss curve, message and Cancel.

It shows one job at a time (the newest); finished jobs leave their final message and curve visible.
Cancel is acknowledged at once ("stopping: saving step N…"), then the job's own messages show the save
("saving step N…", "exporting…"). Closing the window during a job asks first (:func:`ask_close_during_jobs`)
and, for "cancel and save", shows the save in a :class:`SaveProgressDialog` until the job has ended.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QProgressBar,
    QProgressDialog,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from studio.core.jobs import JobResult, Progress
from studio.engine.frames import array_to_qimage
from studio.engine.jobs import JobHandle

from .loss_curve import LossCurve


def _eta(progress: Progress) -> str:
    if progress.step <= 0 or progress.total <= 0 or progress.elapsed_s <= 0:
        return ""
    left, by_limit = progress.eta(progress.elapsed_s / progress.step * max(0, progress.total - progress.step))
    until = " (time limit)" if by_limit else ""
    return (f" · {left / 60:.0f} min left" if left >= 90 else f" · {left:.0f} s left") + until


def stopping_text(handle: JobHandle) -> str:
    """What a stop says before the job has noticed it (the job then reports its save itself)."""
    step = handle.last.step if handle.last is not None else 0
    return f"stopping: saving step {step}…" if step > 0 else "stopping: saving the work so far…"


# the three answers to "a job is running: close the window?"
CLOSE_IN_BACKGROUND, CLOSE_CANCEL_AND_SAVE, CLOSE_GO_BACK = "background", "cancel", "back"


def ask_close_during_jobs(parent: QWidget | None, handles: Sequence[JobHandle]) -> str:
    """Ask what to do with running jobs when the window closes; one of the three CLOSE_* answers."""
    titles = ", ".join(h.title for h in handles)
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle("A job is running")
    box.setText(f"<b>{titles}</b> is still running.")
    box.setInformativeText(
        "Keep it running in the background (the window closes; GAN Studio quits when the job ends), "
        "cancel it and save its work first, or go back to the window."
    )
    keep = box.addButton("Keep running in background", QMessageBox.ButtonRole.AcceptRole)
    stop = box.addButton("Cancel job and save", QMessageBox.ButtonRole.DestructiveRole)
    back = box.addButton("Go back", QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(back)
    box.setEscapeButton(back)
    box.exec()
    clicked = box.clickedButton()
    if clicked is keep:
        return CLOSE_IN_BACKGROUND
    if clicked is stop:
        return CLOSE_CANCEL_AND_SAVE
    return CLOSE_GO_BACK


class SaveProgressDialog(QProgressDialog):
    """Shown while cancelled jobs save their work before the window closes; it follows their messages.

    It has no Cancel button: the save is what keeps the work, and it is quick (one checkpoint and the
    export). It closes itself when the last job has ended.
    """

    def __init__(self, parent: QWidget | None, handles: Sequence[JobHandle]) -> None:
        super().__init__(parent)
        self.setWindowTitle("Saving before closing")
        self.setRange(0, 0)  # busy: a save has no steps
        self.setCancelButton(None)  # Qt: None removes the button
        self.setMinimumDuration(0)
        self.setAutoClose(False)
        self.setAutoReset(False)
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.handles = [h for h in handles if h.running]
        for h in self.handles:
            h.progress.connect(self._on_progress)
            h.finished.connect(self._on_finished)
        self.setLabelText(" · ".join(stopping_text(h) for h in self.handles) or "saving…")
        if not self.handles:
            self._on_finished(None)

    def _on_progress(self, event: Progress) -> None:
        if event.message and not event.losses:  # a status ("saving step N…", "exporting…"), not a step
            self.setLabelText(event.message)

    def _on_finished(self, _result: object) -> None:
        if all(not h.running for h in self.handles):
            self.done(0)

    def keyPressEvent(self, event) -> None:  # Escape would only hide the dialog, not stop the save
        if event.key() != Qt.Key.Key_Escape:
            super().keyPressEvent(event)


def outputs_summary(outputs: dict, limit: int = 160) -> str:
    """The short outputs of a finished job as one line (paths, steps, numbers, nested scores flattened).
    Images, arrays and other bulky values are left out (the thumbnail shows an image): printed, they broke
    the panel's layout. See :func:`studio.ui.result_view.outputs_line`."""
    from .result_view import outputs_line

    return outputs_line(outputs, limit)


class JobPanel(QWidget):
    jobFinished = Signal(object)  # JobResult

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.handle: JobHandle | None = None
        self.title = QLabel("No job running. Start one with File ▸ Train on my folder…")
        self.title.setWordWrap(True)
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.bar.setValue(0)
        self.bar.setFormat("")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.preview = QLabel()
        self.preview.setFixedSize(96, 96)
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview.setStyleSheet("background: #1e1e22; color: #888;")
        self.preview.setText("preview")
        self.curve = LossCurve()
        # quality scores (KID every N steps) get their own axis: they live on a different scale
        self.score_curve = LossCurve(empty_text="KID appears here every --kid-every steps")
        self.score_curve.setVisible(False)
        top = QHBoxLayout()
        top.addWidget(self.bar, 1)
        top.addWidget(self.cancel_button)
        body = QHBoxLayout()
        body.addWidget(self.preview)
        curves = QVBoxLayout()
        curves.addWidget(self.curve, 2)
        curves.addWidget(self.score_curve, 1)
        body.addLayout(curves, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.title)
        layout.addLayout(top)
        layout.addLayout(body, 1)
        layout.addWidget(self.status)

    def attach(self, handle: JobHandle) -> None:
        """Follow a job (replacing the one shown before)."""
        if self.handle is not None:
            try:
                self.handle.progress.disconnect(self._on_progress)
                self.handle.finished.disconnect(self._on_finished)
                self.handle.cancelRequested.disconnect(self._on_cancel_requested)
            except (RuntimeError, TypeError):
                pass
        self.handle = handle
        self.title.setText(f"<b>{handle.title}</b>")
        self.bar.setValue(0)
        self.bar.setFormat("starting…")
        self.status.setText("")
        self.curve.clear()
        self.score_curve.clear()
        self.score_curve.setVisible(False)
        self.preview.setPixmap(QPixmap())
        self.preview.setText("preview")
        self.cancel_button.setEnabled(True)
        self.cancel_button.setText("Cancel")
        handle.progress.connect(self._on_progress)
        handle.finished.connect(self._on_finished)
        handle.cancelRequested.connect(self._on_cancel_requested)
        if handle.result is not None:
            self._on_finished(handle.result)

    def cancel(self) -> None:
        if self.handle is not None and self.handle.running:
            self.handle.cancel()  # cancelRequested -> _on_cancel_requested, at once

    def _on_cancel_requested(self) -> None:
        if self.handle is None or not self.handle.running:
            return
        self.cancel_button.setEnabled(False)
        self.cancel_button.setText("Stopping…")
        self.status.setText(stopping_text(self.handle))

    def _on_progress(self, event: Progress) -> None:
        if event.total > 0:
            self.bar.setValue(int(event.fraction * 1000))
            self.bar.setFormat(f"{event.step} / {event.total}{_eta(event)}")
        stopping = self.handle is not None and self.handle.cancel_requested
        if event.message and not (stopping and event.losses):  # while stopping, keep the save's status
            self.status.setText(event.message)
        if event.preview is not None:
            try:
                img = array_to_qimage(event.preview)
                self.preview.setPixmap(
                    QPixmap.fromImage(img).scaled(
                        self.preview.size(),
                        Qt.AspectRatioMode.KeepAspectRatio,
                        Qt.TransformationMode.FastTransformation,
                    )
                )
            except ValueError:
                pass  # a job sent a malformed preview: ignore it, keep the job running
        self._refresh_curves()

    def _refresh_curves(self) -> None:
        if self.handle is None:
            return
        self.curve.set_history(list(self.handle.history))
        scores = list(self.handle.score_history)
        if scores:
            self.score_curve.set_history(scores)
            self.score_curve.setVisible(True)

    def _show_result_image(self, outputs: dict) -> None:
        """The job's picture (an image output, or the image file it wrote) as the panel's thumbnail."""
        from .result_view import result_pixels

        pixels = result_pixels(outputs)
        if pixels is not None:
            self.preview.setPixmap(
                QPixmap.fromImage(array_to_qimage(pixels)).scaled(
                    self.preview.size(), Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
                )
            )

    def _on_finished(self, result: JobResult) -> None:
        self.cancel_button.setEnabled(False)
        self.cancel_button.setText("Cancel")
        if result.status == "finished":
            self.bar.setValue(1000)
        self.bar.setFormat(result.status)
        self.status.setText(result.message + (f"\n{summary}" if (summary := outputs_summary(result.outputs)) else ""))
        self._show_result_image(result.outputs)
        self._refresh_curves()
        self.jobFinished.emit(result)
