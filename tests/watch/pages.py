"""Small generated scans for the daemon tests: A6 at 200 dpi, one or two lines of Vietnamese text.

Why small: the watch suite pushes about a hundred pages through real OCR on two shared cores; an A6
page with two lines keeps each one around a second while still being a real colour scan with a DPI.
Cover sheets carry a real QR code (zxing-cpp writer) in the upper-left corner, optionally skewed.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import zxingcpp
from PIL import Image, ImageDraw, ImageFont

FONT = Path("/usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf")
A6_MM = (105, 148)


def page_image(text: str, *, dpi: int = 200, qr: str | None = None, skew: float = 0.0,
               size_mm: tuple[int, int] = A6_MM) -> Image.Image:
    width, height = (round(v / 25.4 * dpi) for v in size_mm)
    image = Image.new("RGB", (width, height), (250, 248, 240))
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(str(FONT), max(12, round(dpi * 0.12)))
    top = height // 3
    for number, line in enumerate(text.splitlines()):
        draw.text((round(dpi * 0.4), top + number * round(dpi * 0.22)), line, fill=(20, 20, 30), font=font)
    if qr is not None:
        code = np.array(zxingcpp.write_barcode_to_image(
            zxingcpp.create_barcode(qr, zxingcpp.BarcodeFormat.QRCode), scale=max(3, dpi // 60)))
        mark = Image.fromarray(code).convert("RGB")
        image.paste(mark, (round(dpi * 0.3), round(dpi * 0.3)))
    if skew:
        image = image.rotate(skew, resample=Image.Resampling.BICUBIC, fillcolor=(250, 248, 240))
    return image


def save(image: Image.Image, path: Path, *, dpi: int = 200) -> Path:
    """Write in the format the suffix names (jpg/png/tif/pdf), with the DPI recorded."""
    path.parent.mkdir(parents=True, exist_ok=True)
    suffix = path.suffix.lower()
    buffer = io.BytesIO()
    if suffix in (".jpg", ".jpeg"):
        image.save(buffer, "JPEG", quality=85, dpi=(dpi, dpi))
    elif suffix == ".png":
        image.save(buffer, "PNG", dpi=(dpi, dpi))
    elif suffix in (".tif", ".tiff"):
        image.save(buffer, "TIFF", compression="tiff_lzw", dpi=(dpi, dpi))
    elif suffix == ".pdf":
        image.save(buffer, "PDF", resolution=float(dpi))
    else:
        raise ValueError(suffix)
    temp = path.with_name(f".{path.name}.tmp")
    temp.write_bytes(buffer.getvalue())
    temp.replace(path)  # tests drop whole files, like a scanner that writes then renames
    return path


def page_bytes(text: str, suffix: str, **kwargs: object) -> bytes:
    image = page_image(text, **kwargs)  # type: ignore[arg-type]
    buffer = io.BytesIO()
    fmt = {".jpg": "JPEG", ".png": "PNG", ".tif": "TIFF", ".pdf": "PDF"}[suffix]
    extra: dict[str, object] = {"resolution": 200.0} if fmt == "PDF" else {"dpi": (200, 200)}
    image.save(buffer, fmt, **extra)
    return buffer.getvalue()
