"""What every file-writing command shares: ``--overwrite``, checking the target before the work, and the
default name that never replaces anything."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

GRID_PAD = 2  # studio.core.grid.tile's default padding


def add_overwrite_argument(parser: Any, what: str = "the output file") -> None:
    parser.add_argument(
        "--overwrite", "--force", dest="overwrite", action="store_true", help=f"replace {what} if it exists"
    )


def image_target(given: Path | None, default: str | Path, overwrite: bool, inputs: Iterable[Path] = ()) -> Path:
    """The path to write: ``-o`` as given (refused if it exists, unless --overwrite, or if it is an input),
    or the default name made free (``NAME-2.png``…), announced on stderr when it had to change."""
    from studio.core.export import check_image_target, free_path

    if given is not None:
        return check_image_target(given, overwrite, inputs)
    default = Path(default)
    if overwrite:
        return check_image_target(default, True)
    path = free_path(default)
    check_image_target(path, False, inputs)
    if path != default:
        print(f"{default} exists: writing {path} instead (-o chooses the name, --overwrite replaces)", file=sys.stderr)
    return path


def grid_pixels(rows: int, cols: int, cell: int, what: str = "the grid") -> tuple[int, int]:
    """(width, height) of a rows × cols grid of cell-px squares; a StudioError (with the memory estimate and
    the limit) when it is too big to assemble."""
    from studio.core.argtypes import check_image_size

    width = cols * cell + GRID_PAD * (cols + 1)
    height = rows * cell + GRID_PAD * (rows + 1)
    check_image_size(width, height, what, "use fewer seeds, fewer --cols or a smaller --cell")
    return width, height
