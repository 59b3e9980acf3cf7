"""File ▸ Train on my folder…: the wizard checks the folder, follows the model on the canvas, times real
steps for its presets, keeps the full form behind "Advanced", and its Start button stays on screen."""

from __future__ import annotations

from types import SimpleNamespace

from PySide6.QtCore import QPoint, QRect
from PySide6.QtWidgets import QLabel

from studio.core.family import Family
from studio.train import presets
from studio.ui.train_wizard import TrainWizard, make_train_wizard
from tests.train.test_data_check import make_mixed_folder


class ToyTrainFamily(Family):
    """A trainable family whose train job is the Trainer on the toy task (real, very short steps)."""

    name = "toy-train-test"
    title = "Toy trainable"

    def load(self, tensors, card, device):
        raise NotImplementedError

    def jobs(self):
        return {"train": "train a toy GAN on points"}

    def add_job_arguments(self, name, parser):
        parser.add_argument("--data", required=True, help="folder of training images")
        parser.add_argument("--out", default=None)
        parser.add_argument("--run-dir", default=None)
        parser.add_argument("--steps", type=int, default=1000)
        parser.add_argument("--ema", type=float, default=0.0)
        parser.add_argument("--lr-g", type=float, default=2e-4)

    def make_job(self, name, **options):
        from pathlib import Path

        from tests.train.toy_task import toy_job

        return toy_job(Path(options["run_dir"] or options["data"]).parent, steps=options["steps"], sleep_s=0.01)


def _wizard(qtbot, window, **kw) -> TrainWizard:
    wizard = make_train_wizard(window, **kw)
    qtbot.addWidget(wizard)
    return wizard


def test_the_wizard_counts_usable_images_of_a_folder_with_bad_files(window, qtbot, tmp_path):
    folder = make_mixed_folder(tmp_path / "my drawings")
    wizard = TrainWizard(window.registry, None, window, family_name="csgan", measure=False)
    qtbot.addWidget(wizard)
    wizard.set_folder(folder)
    qtbot.waitUntil(lambda: "data" in wizard.reports, timeout=5000)
    report = wizard.reports["data"]
    assert report.usable == 5 and len(report.skipped) == 3
    text = wizard.check_labels["data"].text()
    assert "5 usable images" in text and "3 will be skipped" in text and "truncated.png" in text
    assert wizard.job_form.field("data").text() == str(folder)  # the wizard writes into the full form
    wizard.set_folder(tmp_path / "missing")
    qtbot.waitUntil(lambda: "data" in wizard.reports, timeout=5000)
    assert "does not exist" in wizard.check_labels["data"].text()
    wizard._try_accept()
    assert wizard.job is None and "does not exist" in wizard.error.text()


def test_the_family_follows_the_selected_model(window, qtbot, monkeypatch):
    # a model that cannot be trained (the tiny test family): the starter model's family, not the first (CAN)
    monkeypatch.setitem(window.store.entries, "emoji-dcgan", SimpleNamespace(card=SimpleNamespace(family="csgan")))
    assert _wizard(qtbot, window, measure=False).family_name() == "csgan"
    for family, folders in (("csgan", ["data"]), ("cyclegan", ["a", "b"]), ("can", ["data"]), ("gadn", ["data"])):
        monkeypatch.setattr(window, "current_model", lambda f=family: SimpleNamespace(card=SimpleNamespace(family=f)))
        wizard = _wizard(qtbot, window, measure=False)
        assert wizard.family_name() == family and list(wizard.folder_edits) == folders


def test_labels_are_words_and_presets_set_the_steps(window, qtbot):
    wizard = TrainWizard(window.registry, None, window, family_name="csgan", measure=False)
    qtbot.addWidget(wizard)
    labels = {w.text() for w in wizard.job_form.findChildren(QLabel)}
    assert {"Training steps", "Images per step (batch)", "Learning rate"} <= labels
    assert not {"lr", "lr g", "fc dim", "d threshold"} & labels
    assert not wizard.job_form.isVisible()  # the full form waits behind "Advanced options"
    wizard.preset_buttons["quick"].setChecked(True)
    assert wizard.job_form.field("steps").text() == "200"
    wizard.preset_buttons["best"].setChecked(True)
    assert wizard.job_form.field("steps").text() == "8000" and wizard.job_form.field("ema").text() == "0.999"
    wizard.preset_buttons["good"].setChecked(True)
    assert wizard.job_form.field("steps").text() == "2000" and wizard.job_form.field("ema").text() == "0.0"


def test_start_stays_visible_in_a_1280x800_window(window, qtbot):
    window.resize(1280, 800)
    wizard = _wizard(qtbot, window, measure=False)
    wizard.advanced_button.setChecked(True)  # the full 40-field form open
    wizard.show()
    qtbot.waitExposed(wizard)
    assert wizard.height() <= 800
    start = wizard.start_button
    top_left = start.mapTo(wizard, QPoint(0, 0))
    assert start.isVisible() and wizard.rect().contains(QRect(top_left, start.size()))


def test_presets_show_a_time_measured_on_this_machine(window, qtbot, tmp_path):
    if ToyTrainFamily.name not in window.registry.families:
        window.registry.add(ToyTrainFamily, "tests")
    folder = make_mixed_folder(tmp_path / "imgs")
    wizard = TrainWizard(window.registry, window.settings, window, family_name=ToyTrainFamily.name, device="cpu")
    qtbot.addWidget(wizard)
    wizard.set_folder(folder)
    qtbot.waitUntil(lambda: wizard.step_times is not None or bool(wizard.timing_problem), timeout=20000)
    assert not wizard.timing_problem and wizard.step_times and wizard.step_times["train"] > 0.005
    quick, best = (wizard.estimate(presets.get(name)) for name in ("quick", "best"))
    assert quick is not None and best is not None and 0 < quick < best  # 100 vs 4000 steps
    assert best / quick == 40
    assert "100 steps, about" in wizard.preset_buttons["quick"].text()
    assert "measured here" in wizard.timing.text()
