"""The user-image loader: every mode becomes RGB, bad files get clear errors naming the file."""

import io

import numpy as np
import pytest
from PIL import Image

from studio.core.errors import ImageLoadError
from studio.core.images import fit_square, list_images, load_image, pil_to_tensor


def _save(img, path, **kw):
    img.save(path, **kw)
    return path


@pytest.mark.parametrize("mode", ["RGB", "L", "1", "P", "CMYK", "RGBA", "LA", "I", "F", "I;16"])
def test_every_mode_becomes_rgb(tmp_path, mode):
    img = (
        Image.new("RGB", (9, 7), (200, 100, 50)).convert(mode)
        if mode not in ("I;16", "I", "F")
        else Image.fromarray(
            (np.arange(63).reshape(7, 9) * 1000).astype(
                np.uint16 if mode == "I;16" else np.int32 if mode == "I" else np.float32
            )
        )
    )
    fmt = "TIFF" if mode in ("CMYK", "F", "I") else "PNG"
    path = _save(img, tmp_path / f"x.{fmt.lower()}", format=fmt)
    out = load_image(path)
    assert out.mode == "RGB" and out.size == (9, 7)


def test_sixteen_bit_png_uses_the_full_range(tmp_path):
    arr = np.linspace(0, 65535, 64, dtype=np.uint16).reshape(8, 8)
    path = _save(Image.fromarray(arr), tmp_path / "deep.png")
    out = np.asarray(load_image(path))
    assert out.min() == 0 and out.max() == 255


def test_transparent_pixels_go_on_the_background(tmp_path):
    img = Image.new("RGBA", (4, 4), (255, 0, 0, 0))
    img.putpixel((0, 0), (255, 0, 0, 255))
    out = np.asarray(load_image(_save(img, tmp_path / "a.png"), background=(0, 255, 0)))
    assert tuple(out[0, 0]) == (255, 0, 0)
    assert tuple(out[3, 3]) == (0, 255, 0)


def test_palette_with_transparency(tmp_path):
    img = Image.new("P", (4, 4), 0)
    img.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    img.putpixel((1, 1), 1)
    img.info["transparency"] = 0
    out = np.asarray(load_image(_save(img, tmp_path / "p.png", transparency=0)))
    assert tuple(out[0, 0]) == (255, 255, 255) and tuple(out[1, 1]) == (255, 0, 0)


def test_exif_orientation_is_applied(tmp_path):
    img = Image.new("RGB", (20, 10), (0, 0, 255))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise on display
    path = tmp_path / "o.jpg"
    img.save(path, exif=exif.tobytes())
    assert load_image(path).size == (10, 20)


def test_not_an_image(tmp_path):
    path = tmp_path / "notes.png"
    path.write_text("hello, I am text")
    with pytest.raises(ImageLoadError, match="notes.png: not an image"):
        load_image(path)


def test_truncated_png(tmp_path):
    buf = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8)).save(buf, "PNG")
    path = tmp_path / "cut.png"
    path.write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])
    with pytest.raises(ImageLoadError, match="cut.png: .*(truncated|damaged)"):
        load_image(path)


def test_empty_missing_and_folder(tmp_path):
    (tmp_path / "empty.png").write_bytes(b"")
    with pytest.raises(ImageLoadError, match="empty"):
        load_image(tmp_path / "empty.png")
    with pytest.raises(ImageLoadError, match="not found"):
        load_image(tmp_path / "nope.png")
    with pytest.raises(ImageLoadError, match="folder"):
        load_image(tmp_path)


def test_huge_image_is_refused_before_decoding(tmp_path):
    path = _save(Image.new("L", (4000, 3000)), tmp_path / "big.png")
    with pytest.raises(ImageLoadError, match="megapixels"):
        load_image(path, max_pixels=1_000_000)
    assert load_image(path).size == (4000, 3000)  # under the default limit it loads


def test_one_pixel_wide_and_fit_square(tmp_path):
    img = load_image(_save(Image.new("RGB", (1, 50), (10, 20, 30)), tmp_path / "thin.png"))
    sq = fit_square(img, 16)
    assert sq.size == (16, 16)
    assert fit_square(img, 16, mode="pad").size == (16, 16)
    t = pil_to_tensor(sq)
    assert t.shape == (3, 16, 16) and 0 <= float(t.min()) <= float(t.max()) <= 1


def test_list_images_skips_non_images_and_hidden(tmp_path):
    for name in ["b.png", "a.JPG", ".hidden.png", "notes.txt", "sub/c.webp"]:
        p = tmp_path / name
        p.parent.mkdir(exist_ok=True)
        p.write_bytes(b"x")
    assert [p.name for p in list_images(tmp_path)] == ["a.JPG", "b.png", "c.webp"]
    with pytest.raises(ImageLoadError, match="not a folder"):
        list_images(tmp_path / "b.png")
