"""Convert torchvision's SqueezeNet 1.1 ImageNet weights (.pth) into the safetensors file the studio reads.

    python scripts/convert_squeezenet_weights.py squeezenet1_1-b8a52dc0.pth squeezenet1_1.safetensors

Why a converter: the CSGAN paper fine-tunes through SqueezeNet 1.1, but no package the studio can depend on
ships its ImageNet weights, and the studio never unpickles a user's file. torchvision's .pth is a pickle;
this script, run by the user on a file they chose, reads it with ``torch.load(weights_only=True)`` (tensors
and plain containers only: no code runs), keeps the ``features.*`` tensors, checks them against the
architecture and writes them as safetensors. Then:

    studio finetune MODEL painting.jpg --loss-net squeezenet --loss-net-weights squeezenet1_1.safetensors
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path


def convert(src: str | Path, dst: str | Path, overwrite: bool = False) -> str:
    """Write ``dst`` from ``src``; returns the SHA-256 of the written file. Raises StudioError on problems."""
    import torch
    from safetensors.torch import save_file

    from studio.core.atomic import atomic_write_with
    from studio.core.errors import StudioError
    from studio.losses.squeezenet import expected_shapes

    src, dst = Path(src), Path(dst)
    if dst.suffix.lower() != ".safetensors":
        raise StudioError(f"{dst}: the output must end in .safetensors")
    if dst.exists() and not overwrite:
        raise StudioError(f"{dst} already exists; pass --overwrite to replace it")
    try:
        data = torch.load(src, map_location="cpu", weights_only=True)
    except Exception as exc:  # weights_only refuses anything but tensors and plain containers
        raise StudioError(f"{src}: not a plain PyTorch state dict ({exc})") from None
    if isinstance(data, dict) and isinstance(data.get("state_dict"), dict):
        data = data["state_dict"]
    if not isinstance(data, dict):
        raise StudioError(f"{src}: expected a state dict (a mapping of names to tensors)")
    want = expected_shapes()
    out = {}
    for key, shape in want.items():
        value = data.get(key, data.get("module." + key))
        if not isinstance(value, torch.Tensor):
            raise StudioError(f"{src}: no tensor '{key}': not torchvision's squeezenet1_1 weights")
        if tuple(value.shape) != shape:
            raise StudioError(f"{src}: '{key}' has shape {tuple(value.shape)}, SqueezeNet 1.1 needs {shape}")
        out[key] = value.detach().float().contiguous().clone()
    atomic_write_with(dst, lambda tmp: save_file(out, str(tmp), metadata={"source": src.name, "net": "squeezenet1_1"}))
    return hashlib.sha256(dst.read_bytes()).hexdigest()


def main(argv: list[str] | None = None) -> int:
    from studio.core.errors import StudioError

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("src", help="torchvision's squeezenet1_1 .pth (a state dict)")
    ap.add_argument("dst", help="the .safetensors file to write")
    ap.add_argument("--overwrite", action="store_true", help="replace an existing output")
    args = ap.parse_args(argv)
    try:
        digest = convert(args.src, args.dst, args.overwrite)
    except StudioError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {args.dst} (sha256 {digest})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
