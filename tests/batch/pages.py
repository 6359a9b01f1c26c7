"""Tiny generated scans for the batch tests: A6 at 200 dpi, one or two lines of Vietnamese, JPEG.

Why tiny: the batch suite pushes dozens of documents through real OCR on two shared cores; an A6 page
with a line or two keeps each document around a second while still being a real colour scan with a DPI.
Every page differs (a serial number in the text), so every document has its own content hash.
"""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

FONT = Path("/usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf")
UNIT = "000.00.31.H50"


def code(n: int) -> str:
    """A valid dossier code, distinct per ``n`` (1..9999)."""
    return f"{UNIT}-240115-{n:04d}"


def write_scan(path: Path, text: str, *, dpi: int = 200) -> Path:
    width, height = round(105 / 25.4 * dpi), round(148 / 25.4 * dpi)
    image = Image.new("RGB", (width, height), (250, 248, 240))
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(str(FONT), round(dpi * 0.12))
    for number, line in enumerate(text.splitlines()):
        draw.text((round(dpi * 0.4), height // 3 + number * round(dpi * 0.22)), line, fill=(20, 20, 30), font=font)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85, dpi=(dpi, dpi))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buffer.getvalue())
    return path


def make_tree(root: Path, count: int, *, start: int = 1) -> list[Path]:
    """``count`` one-page documents named by their dossier code, spread over two sub-folders."""
    paths = []
    for n in range(start, start + count):
        folder = root / ("kho-a" if n % 2 else "kho-b")
        paths.append(write_scan(folder / f"{code(n)}.jpg", f"Quyết định số {n}/QĐ-UBND\nCấp giấy phép xây dựng"))
    return paths
