"""A too-large picture is offered a scale-down (ImageTooLarge says to what), opened scaled down on request,
and sizes past Pillow's hard guard are refused with a sentence, not a 'DOS attack' (issue 17 item 8)."""

from __future__ import annotations

import struct
import zlib

import pytest
from PIL import Image

from studio.core.errors import ImageLoadError
from studio.core.images import ImageTooLarge, load_image, scale_down_limit, scaled_size


def _png_header_only(path, w, h):
    """A PNG that claims w×h (IHDR, one empty IDAT, IEND): enough for Pillow to read its size."""

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", w, h, 1, 0, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")
    )
    return path


@pytest.mark.parametrize("suffix", [".png", ".jpg"])
def test_too_large_is_offered_a_scale_down_and_opens_scaled(tmp_path, suffix):
    path = tmp_path / f"big{suffix}"
    Image.new("RGB", (1500, 1000), (200, 40, 40)).save(path)
    with pytest.raises(ImageTooLarge) as info:
        load_image(path, max_pixels=300_000)
    assert info.value.size == (1500, 1000) and "scaled down to 670×447" in str(info.value)
    assert "megapixels" in str(info.value) and "DOS" not in str(info.value)
    img = load_image(path, max_pixels=300_000, scale_down=True)
    assert img.size == scaled_size((1500, 1000), 300_000) == (670, 447) and img.mode == "RGB"
    assert img.getpixel((300, 200))[0] > 150  # the picture, not a blank


def test_absurd_sizes_are_refused_even_scaled_down(tmp_path):
    side = int(scale_down_limit() ** 0.5) + 100
    path = _png_header_only(tmp_path / "huge.png", side, side)
    for scale in (False, True):
        with pytest.raises(ImageLoadError) as info:
            load_image(path, scale_down=scale)
        assert "too large to open even scaled down" in str(info.value) and "DOS" not in str(info.value)
