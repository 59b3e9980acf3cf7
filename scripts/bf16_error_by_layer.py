"""Where does a translator lose precision in bf16? Render held-out images with the generator in bf16
(channels_last, as studio.core.fastnet renders), then again with one submodule at a time kept in fp32, and
print how far each render is from the fp32 reference (images in [0, 1]).

Why: a family whose bf16 render misses the tolerance of tests/core/test_fastnet.py renders in fp32; this
says whether keeping one part in fp32 would bring it back, and which part.

    python scripts/bf16_error_by_layer.py photo2painting-ugatit data/photo2painting/testA/*.png --depth 1
"""

from __future__ import annotations

import argparse
import copy
from pathlib import Path

import torch

from studio.core.errors import StudioError
from studio.core.images import fit_square, load_image, pil_to_tensor
from studio.core.store import ModelStore, load_model
from studio.models.translate.data import to_model_range


class KeptInFp32(torch.nn.Module):
    """``module`` in fp32 inside a bf16 network: inputs cast up, outputs cast back down."""

    def __init__(self, module: torch.nn.Module):
        super().__init__()
        self.module = module.float()

    def forward(self, *args: torch.Tensor):
        out = self.module(*(a.float() for a in args))
        if isinstance(out, tuple):
            return tuple(o.to(torch.bfloat16) for o in out)
        return out.to(torch.bfloat16)


def first_output(out):
    return out[0] if isinstance(out, tuple) else out


def errors(net: torch.nn.Module, xs: list[torch.Tensor], refs: list[torch.Tensor]) -> tuple[float, float]:
    """(max, mean) absolute difference from the references, on the [0, 1] scale."""
    diffs = []
    with torch.inference_mode():
        for x, ref in zip(xs, refs, strict=True):
            y = first_output(net(x.to(torch.bfloat16).contiguous(memory_format=torch.channels_last))).float()
            diffs.append((y - ref).abs() / 2)
    return max(float(d.max()) for d in diffs), float(torch.stack([d.mean() for d in diffs]).mean())


def with_fp32_part(net: torch.nn.Module, reference: torch.nn.Module, name: str) -> torch.nn.Module | None:
    """A bf16 copy of ``net`` whose submodule ``name`` runs in fp32, or None where it cannot stand alone
    (a module its parent reads weights from, or iterates over)."""
    fast = copy.deepcopy(net)
    parent_name, _, leaf = name.rpartition(".")
    parent = fast.get_submodule(parent_name) if parent_name else fast
    if isinstance(getattr(parent, leaf, None), (torch.nn.ModuleList, torch.nn.ModuleDict)):
        return None
    parent.add_module(leaf, KeptInFp32(copy.deepcopy(reference.get_submodule(name))))
    return fast


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", help="a model name from `studio models`")
    parser.add_argument("images", nargs="+", type=Path)
    parser.add_argument("--direction", default="a2b")
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--depth", type=int, default=1, help="try submodules down to this many dots deep")
    args = parser.parse_args()
    torch.set_num_threads(1)
    store = ModelStore()
    if args.model not in store.entries:
        parser.error(f"no model named {args.model!r}: see `studio models`")
    model = load_model(store.entries[args.model].path, torch.device("cpu"))
    reference = model.generators[args.direction]
    # the project's safe loader (clear errors for bad files), centre square at --size, in the model's [-1, 1]
    try:
        xs = [to_model_range(pil_to_tensor(fit_square(load_image(p), args.size))[None]) for p in args.images]
    except StudioError as exc:
        parser.error(str(exc))
    with torch.inference_mode():
        refs = [first_output(reference(x)).float() for x in xs]
    fast = copy.deepcopy(reference).to(torch.bfloat16).to(memory_format=torch.channels_last)
    print(f"{len(xs)} images at {args.size} px, {args.model} {args.direction}")
    worst, mean = errors(fast, xs, refs)
    print(f"{'all bf16':32s} max {worst:.4f}  mean {mean:.5f}")
    for name, _ in reference.named_modules():
        if not name or name.count(".") >= args.depth:
            continue
        try:
            net = with_fp32_part(fast, reference, name)
            result = None if net is None else errors(net, xs, refs)
        except (AttributeError, TypeError, RuntimeError):  # a parent reads this module's weights directly
            result = None
        if result is None:
            print(f"{name + ' in fp32':32s} (cannot run on its own)")
        else:
            print(f"{name + ' in fp32':32s} max {result[0]:.4f}  mean {result[1]:.5f}")


if __name__ == "__main__":
    main()
