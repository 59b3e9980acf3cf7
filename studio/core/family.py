"""What a generator family provides to the studio.

A *family* (CSGAN, CAN, GADN, a plugin...) knows how to build its networks from a model card, which
*controls* a loaded model exposes, how to render a *state* into images, and which *jobs* it offers.

A *state* is a plain JSON-serialisable dict describing what is on the canvas::

    {"model": "emoji-dcgan", "seed": 7, "z_edits": {"3": 1.2}, "directions": {"pc0": -1.5},
     "truncation": 0.8, "labels": {"artist": "google"}, "scalars": {"style_strength": 0.5}}

It is what undo/redo stores, what exported PNGs carry and what a dropped PNG restores. Keys a family
does not use are ignored, so states stay portable.
"""

from __future__ import annotations

import copy
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import torch

from .checkpoint import ModelCard
from .direction_edits import state_offset
from .grid import to_uint8
from .latents import seed_to_z, truncate
from .states import clean_state


@dataclass(frozen=True)
class Control:
    """One thing a user can change. ``kind`` is one of: seed, latent, direction, choice, scalar."""

    kind: str
    name: str
    label: str
    minimum: float = -3.0
    maximum: float = 3.0
    default: Any = 0.0
    options: tuple[str, ...] = ()
    count: int = 0  # for 'latent': number of raw dimensions
    option_labels: tuple[str, ...] = ()  # for 'choice': what the user reads for each option (else the option)
    help: str = ""


def new_state(model_id: str, seed: int = 0) -> dict[str, Any]:
    return {
        "model": model_id,
        "seed": int(seed),
        "z_edits": {},
        "directions": {},
        "truncation": 1.0,
        "labels": {},
        "scalars": {},
    }


def normalise_state(state: Mapping[str, Any]) -> dict[str, Any]:
    """A defensive deep copy with every standard key present, well-typed and finite (states come from
    untrusted images too: see :func:`studio.core.states.clean_state`). Never raises."""
    return clean_state(state)


class LoadedModel(ABC):
    """A model ready to render, on one device. Subclasses hold plain ``torch.nn.Module``s."""

    def __init__(self, card: ModelCard, device: torch.device):
        self.card = card
        self.device = device

    @property
    def image_size(self) -> int:
        return self.card.image_size

    @abstractmethod
    def controls(self) -> list[Control]:
        """The controls the UI shows for this model."""

    @abstractmethod
    def render(self, states: Sequence[Mapping[str, Any]]) -> torch.Tensor:
        """Render states into [N,3,H,W] float images in [0,1] on the CPU."""

    def render_pixels(self, states: Sequence[Mapping[str, Any]]) -> np.ndarray:
        """The states as the window's pixels, [N,H,W,3] uint8 (what the render thread calls). Families
        whose frame is one network call override it with :func:`studio.core.fastnet.net_pixels`, so
        the conversion runs inside the frozen graph."""
        return to_uint8(self.render(states))

    def default_state(self, model_id: str, seed: int = 0) -> dict[str, Any]:
        state = new_state(model_id, seed)
        for c in self.controls():
            if c.kind == "choice" and c.options:
                state["labels"][c.name] = c.default if c.default in c.options else c.options[0]
            elif c.kind == "scalar":
                state["scalars"][c.name] = c.default
        return state

    def variations(self, state: Mapping[str, Any], count: int, spread: float = 0.5) -> list[dict[str, Any]]:
        """States near ``state`` for the variations grid: cell 0 is ``state`` itself."""
        base = normalise_state(state)
        out = [base]
        for i in range(1, count):
            s = copy.deepcopy(base)
            s["variation"] = {"seed": int(base["seed"]) * 1000 + i, "spread": float(spread)}
            out.append(s)
        return out


class LatentModel(LoadedModel):
    """Shared state→z logic for families driven by one Gaussian latent code (CSGAN, CAN, plugins).

    z = seed code, with raw-dimension edits, plus principal-direction offsets (in standard deviations),
    plus variation noise, then truncation towards the mean.
    """

    latent_dim: int
    pca_directions: torch.Tensor | None = None  # [k, D]
    pca_stds: torch.Tensor | None = None  # [k]

    def controls(self) -> list[Control]:
        ctl = [
            Control("seed", "seed", "Seed", 0, 2**31 - 1, 0),
            Control(
                "scalar",
                "truncation",
                "Truncation",
                0.0,
                1.5,
                1.0,
                help="pull the code towards the average image (lower = safer, less varied)",
            ),
        ]
        if self.pca_directions is not None:
            for i in range(self.pca_directions.shape[0]):
                ctl.append(
                    Control(
                        "direction",
                        f"pc{i}",
                        f"Direction {i + 1}",
                        -3.0,
                        3.0,
                        0.0,
                        help="principal direction of the generator's features (GANSpace)",
                    )
                )
        ctl.append(Control("latent", "z", "Raw latent dimensions", -3.0, 3.0, 0.0, count=self.latent_dim))
        return ctl

    def default_state(self, model_id: str, seed: int = 0) -> dict[str, Any]:
        state = super().default_state(model_id, seed)
        state["scalars"].pop("truncation", None)
        return state

    def latent_for(self, state: Mapping[str, Any]) -> torch.Tensor:
        """The [D] latent code for a state (on the CPU, float32)."""
        s = normalise_state(state)
        z = seed_to_z(s["seed"], self.latent_dim)[0]
        for key, value in s["z_edits"].items():
            try:
                idx = int(key)
            except (TypeError, ValueError):
                continue
            if 0 <= idx < self.latent_dim:
                z[idx] = float(value)
        if self.pca_directions is not None and self.pca_stds is not None:
            for key, value in s["directions"].items():
                if isinstance(key, str) and key.startswith("pc") and key[2:].isdigit():
                    i = int(key[2:])
                    if i < self.pca_directions.shape[0]:
                        z = z + float(value) * float(self.pca_stds[i]) * self.pca_directions[i].cpu()
        offset = state_offset(s, self.latent_dim)  # two-state ("from A to B") directions
        if offset is not None:
            z = z + offset
        var = s.get("variation")
        if isinstance(var, Mapping):
            z = z + float(var.get("spread", 0.5)) * seed_to_z(int(var.get("seed", 0)), self.latent_dim)[0]
        return truncate(z, float(s["truncation"]))

    def latents_for(self, states: Sequence[Mapping[str, Any]]) -> torch.Tensor:
        return torch.stack([self.latent_for(s) for s in states])


class Family(ABC):
    """A generator family. Subclasses are discovered through the 'studio.families' entry points or
    a ``FAMILIES = [...]`` list in a file under ``plugins/``."""

    name: ClassVar[str]
    title: ClassVar[str]
    description: ClassVar[str] = ""

    @abstractmethod
    def load(self, tensors: Mapping[str, torch.Tensor], card: ModelCard, device: torch.device) -> LoadedModel:
        """Build the networks from the card, load the tensors, return a model ready to render."""

    def jobs(self) -> dict[str, str]:
        """Job names this family offers, with a one-line description each (e.g. {'train': ...})."""
        return {}

    def add_job_arguments(self, name: str, parser: Any) -> None:  # noqa: B027 (an optional hook, empty by design)
        """Add the CLI options of job ``name`` to an argparse parser (the GUI builds forms from jobs too)."""

    def make_job(self, name: str, /, **options: Any):
        """Create a job (see studio.core.jobs) by name with keyword options (the parsed CLI options).
        The job name is positional-only, so the options may hold a ``name`` of their own."""
        raise KeyError(f"family '{self.name}' has no job '{name}'")
