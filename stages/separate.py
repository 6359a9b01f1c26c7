"""Separate: find QR cover sheets among scanned pages and read the dossier code from their payload.

Why: a clerk scans a stack as one batch — the receipt (Giấy tiếp nhận hồ sơ, whose QR code sits in the
upper-left corner, Circular 01/2023/TT-VPCP) or a printed separator sheet, then that dossier's pages,
then the next receipt. Each QR page starts a new document and names its dossier. Payload layouts vary
by province, so parsing tries JSON, ``key=value`` pairs and delimited fields with configurable keys,
and always falls back to finding a code-shaped token anywhere in the text.
The upper-left region is decoded first (small and fast); the whole page only when that finds nothing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import zxingcpp

from sohoa.config.watch import CoverSheetSettings
from sohoa.stages.model import Page


@dataclass
class CoverSheet:
    """A page recognised as a cover sheet: its index in the batch, the code and the parsed fields."""

    index: int
    dossier_code: str
    payload: str
    fields: dict[str, str] = field(default_factory=dict)


def _as_grey(image: np.ndarray) -> np.ndarray:
    if image.dtype == bool:
        return np.where(image, 0, 255).astype(np.uint8)
    if image.ndim == 3:
        # integer luma keeps this cheap; zxing binarises anyway
        return ((image[..., 0].astype(np.uint16) * 77 + image[..., 1].astype(np.uint16) * 150
                 + image[..., 2].astype(np.uint16) * 29) >> 8).astype(np.uint8)
    return image


def _upscale(grey: np.ndarray, dpi: float, min_dpi: float) -> np.ndarray:
    factor = int(np.ceil(min_dpi / dpi)) if dpi < min_dpi else 1
    return np.repeat(np.repeat(grey, factor, axis=0), factor, axis=1) if factor > 1 else grey


def _decode(grey: np.ndarray) -> list[str]:
    found = zxingcpp.read_barcodes(np.ascontiguousarray(grey), formats=zxingcpp.BarcodeFormat.QRCode,
                                   try_rotate=True, try_downscale=True)
    return [b.text for b in found if b.valid and b.text]


def read_qr_texts(page: Page, settings: CoverSheetSettings) -> list[str]:
    """QR payloads on a page: the upper-left region first, then the whole page."""
    grey = _upscale(_as_grey(page.image), min(page.dpi), settings.min_dpi)
    h, w = grey.shape[:2]
    region = grey[: max(1, int(h * settings.region)), : max(1, int(w * settings.region))]
    return _decode(region) or _decode(grey)


def _search_code(text: str, pattern: re.Pattern[str]) -> str | None:
    match = pattern.search(text.upper())
    return match.group(0) if match else None


def parse_payload(text: str, *, keys: Sequence[str], delimiters: str,
                  code_pattern: str) -> tuple[str | None, dict[str, str]]:
    """(dossier code, fields) from a QR payload: JSON, key=value pairs or delimited fields.

    The code is the value of the first configured key present, validated against ``code_pattern``;
    failing that, the first code-shaped token anywhere in the payload.
    """
    pattern = re.compile(code_pattern)
    fields: dict[str, str] = {}
    stripped = text.strip()
    if stripped.startswith("{"):
        try:
            data = json.loads(stripped)
            if isinstance(data, dict):
                fields = {str(k): str(v) for k, v in data.items() if v is not None}
        except json.JSONDecodeError:
            fields = {}
    if not fields:
        separators = "[" + re.escape(delimiters + "&") + "]"
        for part in re.split(separators, stripped):
            key, sep, value = part.partition("=") if "=" in part else part.partition(":")
            if sep and key.strip():
                fields[key.strip()] = value.strip()
    lowered = {k.lower(): v for k, v in fields.items()}
    for key in keys:
        value = lowered.get(key.lower())
        if value:
            code = _search_code(value, pattern)
            if code:
                return code, fields
    return _search_code(stripped, pattern), fields


def find_cover_sheets(pages: Sequence[Page], settings: CoverSheetSettings, code_pattern: str) -> list[CoverSheet]:
    """Cover sheets among ``pages`` (index order); a QR without a recognisable code is not a cover."""
    sheets: list[CoverSheet] = []
    for index, page in enumerate(pages):
        for text in read_qr_texts(page, settings):
            code, fields = parse_payload(text, keys=settings.keys, delimiters=settings.delimiters,
                                         code_pattern=code_pattern)
            if code:
                sheets.append(CoverSheet(index, code, text, fields))
                break
    return sheets
