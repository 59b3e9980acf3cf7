"""The tiling of fully convolutional networks moved to :mod:`studio.core.tiling` (Gatys stylisation
uses it too); this name stays for the translators' imports."""

from studio.core.tiling import pad_to_multiple, tile_count, tiled_apply

__all__ = ["pad_to_multiple", "tile_count", "tiled_apply"]
