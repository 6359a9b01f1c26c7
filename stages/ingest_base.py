"""What both halves of ingest share: the page reference, the size checks and the pixel layout.

``stages.ingest`` reads image files and drives the whole stage; ``stages.ingest_pdf`` reads PDFs.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from PIL import Image

from sohoa.common.errors import InputTooLarge, InputTooSmall
from sohoa.common.messages import _
from sohoa.config.settings import IngestSettings

FileKind = Literal["jpeg", "png", "tiff", "bmp", "pdf"]

# What Pillow raises on damaged image data besides OSError: found by tests/fuzz (a truncated multi-page
# TIFF gives TypeError "Missing dimensions"; broken tables give struct.error, IndexError, KeyError).
DECODE_FAILURES = (OSError, EOFError, ValueError, SyntaxError, TypeError, IndexError, KeyError, struct.error,
                    ZeroDivisionError)

# Our own cap (IngestSettings.max_megapixels) is checked from the header before decoding, with a
# message naming the file; Pillow's global bomb guard would fire first with a generic one.
Image.MAX_IMAGE_PIXELS = None


@dataclass(frozen=True)
class PageRef:
    """Where one page comes from; small and picklable so workers can load pages themselves."""

    path: Path
    kind: FileKind
    index: int  # frame (TIFF) or page (PDF) number, from 0
    width: int  # pixels as stored (0 for PDF pages that will be rasterised)
    height: int
    keep_as_is: bool = False  # a PDF page that already has text: copied unchanged, not OCR'd


def check_size(path: Path, width: int, height: int, settings: IngestSettings, index: int) -> None:
    if min(width, height) < settings.min_side_px:
        size = _("{width}x{height} px", width=width, height=height)
        detail = _("page {page} ({size})", page=index + 1, size=size) if index else _("the image ({size})", size=size)
        raise InputTooSmall(path=path, detail=detail, limit=f"{settings.min_side_px} px")
    megapixels = width * height / 1e6
    if megapixels > settings.max_megapixels:
        size = _("{width}x{height} px = {mp:.0f} MP", width=width, height=height, mp=megapixels)
        detail = _("page {page}: {reason}", page=index + 1, reason=size) if index else size
        raise InputTooLarge(path=path, detail=detail,
                            limit=f"{settings.max_megapixels:g}")


def to_array(image: Image.Image) -> np.ndarray:
    """Pillow image → RGB uint8, grey uint8, or bool (True = black), flattening alpha onto white."""
    mode = image.mode
    if mode == "1":
        return ~np.asarray(image, dtype=bool)
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        data = np.asarray(image, dtype=np.float64)
        peak = 65535.0 if mode.startswith("I;16") or data.max() > 255 else 255.0
        return np.clip(data / peak * 255.0 + 0.5, 0, 255).astype(np.uint8)
    if mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
        mode = image.mode
    if mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        background = Image.new("RGBA", image.size, (255, 255, 255, 255))
        background.alpha_composite(image.convert("RGBA"))
        rgb = background.convert("RGB")
        # grey+alpha stays grey: the three channels are equal after flattening onto white
        return np.asarray(rgb)[..., 0].copy() if mode.startswith("L") else np.asarray(rgb)
    if mode == "L":
        return np.asarray(image)
    return np.asarray(image.convert("RGB"))
