"""KID every N steps inside a training loop, shared by every family's trainer.

The trainer hands over two callables: ``reference(n)`` returns n training (or target-domain) images and
``samples(n)`` returns n images from the model as it is now, both [n,3,H,W] in ``value_range``. Each is
called once per measurement with the full count (sources batch internally if they must), so a source
built on fixed seeds or a fixed image list never hands back the same images twice. The
feature network and the reference features are loaded lazily at the first measurement, so a run that
never reaches one pays nothing. If the feature network cannot be loaded (its package missing), the
monitor says so once and switches itself off; training goes on.

The score is reported under the name ``kid@<feature net>`` (scores of different feature networks must
never be compared, so the name carries it); the job panel plots every metric whose name starts with
``kid@`` beside the losses.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import torch

from studio.core import argtypes
from studio.core.errors import StudioError
from studio.core.jobs import SCORE_PREFIX

from .features import DEFAULT_FEATURES

if TYPE_CHECKING:
    from .monitor import KIDMonitor

DEFAULT_EVERY = 500
DEFAULT_SAMPLES = 256

ImageSource = Callable[[int], torch.Tensor]


def add_kid_arguments(parser: Any) -> None:
    """The CLI (and so the GUI form) options every training job offers for its in-training KID."""
    parser.add_argument(
        "--kid-every",
        dest="kid_every",
        type=argtypes.nonneg_int,
        default=DEFAULT_EVERY,
        help="compute KID of a few hundred samples every N steps and plot it (0 = off)",
    )
    parser.add_argument(
        "--kid-samples",
        dest="kid_samples",
        type=argtypes.int_range(8),
        default=DEFAULT_SAMPLES,
        help="images per KID measurement (more = steadier and slower)",
    )
    parser.add_argument(
        "--kid-features",
        dest="kid_features",
        default=DEFAULT_FEATURES,
        help="feature network for the in-training KID (mobilenet_v2 or efficientnet_lite0)",
    )


class TrainingKID:
    def __init__(
        self,
        every: int = DEFAULT_EVERY,
        n: int = DEFAULT_SAMPLES,
        features: str = DEFAULT_FEATURES,
        device: str | torch.device = "cpu",
        value_range: tuple[float, float] = (-1.0, 1.0),
        label: str = "",
    ) -> None:
        self.every, self.n = max(0, int(every or 0)), max(8, int(n or DEFAULT_SAMPLES))
        self.label = label
        self.features, self.device, self.value_range = str(features or DEFAULT_FEATURES), device, value_range
        self._monitor: KIDMonitor | None = None
        self.disabled_reason = ""

    @classmethod
    def from_options(
        cls,
        options: Any,
        device: str | torch.device = "cpu",
        value_range: tuple[float, float] = (-1.0, 1.0),
        label: str = "",
    ) -> TrainingKID:
        """Build from an object or mapping with kid_every / kid_samples / kid_features."""
        get = options.get if isinstance(options, dict) else (lambda k, d=None: getattr(options, k, d))
        return cls(
            get("kid_every", 0),
            get("kid_samples", DEFAULT_SAMPLES),
            get("kid_features", DEFAULT_FEATURES),
            device,
            value_range,
            label,
        )

    @property
    def name(self) -> str:
        """``kid@<feature net>``, plus the label (e.g. a translation direction) when there is one."""
        return SCORE_PREFIX + self.features + (f" {self.label}" if self.label else "")

    def due(self, step: int) -> bool:
        return bool(self.every) and not self.disabled_reason and step > 0 and step % self.every == 0

    def measure(
        self, reference: ImageSource, samples: ImageSource, message: Callable[[str], None] | None = None
    ) -> dict[str, float]:
        """One KID score ``{name: value}``, or ``{}`` when the monitor is (or just became) switched off."""
        if self.disabled_reason:
            return {}
        try:
            if self._monitor is None:
                from .monitor import KIDMonitor

                if message:
                    message(f"preparing the in-training KID ({self.features}, {self.n} images)…")
                with torch.no_grad():
                    ref = reference(self.n).detach().float().cpu()
                self._monitor = KIDMonitor(
                    ref, self.features, n=self.n, device=self.device, value_range=self.value_range, subsets=10
                )
            with torch.no_grad():  # one call: a source asked twice would repeat its fixed seeds or images
                images = samples(self.n).detach().float().cpu()
            return {self.name: float(self._monitor(images))}
        except (StudioError, ImportError, OSError) as exc:
            self.disabled_reason = str(exc)
            if message:
                message(f"in-training KID switched off: {exc}")
            return {}
