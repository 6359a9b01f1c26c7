"""Typed values that flow between stages: ``Page``, ``OcrWord``/``OcrLine``/``PageOcr``, ``Document``.

Geometry convention (shared by clean, ocr and assemble, so the text layer lands on the words):
- ``Page.image`` is the page as scanned (source pixel frame), never rotated in place, so that an
  untouched JPEG can go into the PDF byte for byte.
- ``Page.rotation`` (0/90/180/270, clockwise) and ``Page.skew`` (degrees, counter-clockwise positive,
  |skew| small) say how to turn the source frame into the *upright frame*.
- ``upright_size()`` is the upright frame's size in pixels; ``Page.ocr_image`` (set by clean) and every
  OCR box are in the upright frame. ``upright_matrix()`` maps source pixels to upright pixels; assemble
  uses it to place the original image on the PDF page through geometry instead of re-encoding.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

ImageMode = Literal["color", "gray", "bitonal"]


@dataclass(frozen=True)
class EncodedImage:
    """The scanner's own compressed bytes for a page, kept so assemble can embed them unchanged.

    ``codec`` names the PDF filter the bytes fit: ``jpeg`` → DCTDecode, ``ccitt_g4`` → CCITTFaxDecode
    (K=-1, ``black_is_1`` tells the polarity), ``jbig2`` → JBIG2Decode (an MFP's embedded JBIG2 stream and
its global segments).
    """

    codec: Literal["jpeg", "ccitt_g4", "jbig2"]
    data: bytes
    width: int
    height: int
    components: int = 3
    black_is_1: bool = False
    jbig2_globals: bytes = b""  # the shared symbol dictionary an MFP's JBIG2 page refers to, if any


@dataclass
class OcrWord:
    text: str  # NFC
    box: tuple[int, int, int, int]  # left, top, right, bottom in upright pixels
    confidence: float  # 0-100


@dataclass
class OcrLine:
    words: list[OcrWord]
    box: tuple[int, int, int, int]
    baseline: tuple[float, float] = (0.0, 0.0)  # slope, offset (px, below box bottom) as Tesseract gives


@dataclass
class PageOcr:
    lines: list[OcrLine] = field(default_factory=list)
    languages: str = ""
    seconds: float = 0.0
    failed: str | None = None  # reason when OCR failed or timed out; the page keeps its image

    @property
    def words(self) -> list[OcrWord]:
        return [w for line in self.lines for w in line.words]

    @property
    def mean_confidence(self) -> float | None:
        words = self.words
        if not words:
            return None
        return sum(w.confidence for w in words) / len(words)

    def text(self) -> str:
        return "\n".join(" ".join(w.text for w in line.words) for line in self.lines)


@dataclass
class Page:
    image: np.ndarray  # source frame: HxWx3 uint8 RGB, HxW uint8 grey, or HxW bool (True = black) bitonal
    dpi: tuple[float, float]
    source: Path
    source_index: int = 0  # page number inside a multi-page source, from 0
    encoded: EncodedImage | None = None  # original compressed bytes, when embeddable unchanged
    rotation: int = 0
    skew: float = 0.0
    content_box: tuple[int, int, int, int] | None = None  # upright px; outside is scanner border
    ocr_image: np.ndarray | None = None  # upright frame, uint8 grey or bitonal, cleaned for OCR
    ocr: PageOcr | None = None
    blank: bool = False
    warnings: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def mode(self) -> ImageMode:
        if self.image.dtype == bool:
            return "bitonal"
        return "color" if self.image.ndim == 3 else "gray"

    @property
    def label(self) -> str:
        """``file.tif`` or ``file.tif#3`` (1-based) for messages."""
        return f"{self.source.name}#{self.source_index + 1}" if self.source_index else self.source.name

    def upright_size(self) -> tuple[int, int]:
        """(width, height) in pixels of the upright frame (rotation applied; skew keeps the size)."""
        h, w = self.image.shape[:2]
        return (h, w) if self.rotation in (90, 270) else (w, h)

    def upright_dpi(self) -> tuple[float, float]:
        return (self.dpi[1], self.dpi[0]) if self.rotation in (90, 270) else self.dpi

    def upright_matrix(self) -> np.ndarray:
        """2x3 affine matrix mapping source pixel (x, y) to upright pixel coordinates.

        Rotation by ``rotation`` degrees clockwise, then ``skew`` degrees counter-clockwise about
        the upright frame's centre (image y axis points down).
        """
        h, w = self.image.shape[:2]
        uw, uh = self.upright_size()
        theta = math.radians(self.rotation)
        c, s = round(math.cos(theta)), round(math.sin(theta))
        # clockwise quarter turn in y-down coordinates, recentred to the upright frame
        rot = np.array([[c, -s, 0.0], [s, c, 0.0], [0, 0, 1.0]])
        to_centre = np.array([[1, 0, -w / 2], [0, 1, -h / 2], [0, 0, 1.0]])
        from_centre = np.array([[1, 0, uw / 2], [0, 1, uh / 2], [0, 0, 1.0]])
        phi = math.radians(self.skew)
        cs, sn = math.cos(phi), math.sin(phi)
        # counter-clockwise as seen on screen (y down) = negative angle in math convention
        deskew = np.array([[cs, sn, 0.0], [-sn, cs, 0.0], [0, 0, 1.0]])
        m = from_centre @ deskew @ rot @ to_centre
        return m[:2, :]


@dataclass
class DocumentMeta:
    title: str | None = None
    dossier_code: str | None = None
    kind: Literal["component", "result", "copy"] | None = None
    author: str | None = None
    subject: str | None = None
    keywords: list[str] = field(default_factory=list)
    result_data: dict[str, str] = field(default_factory=dict)  # Decree-30 fields written to the XMP


@dataclass
class Document:
    pages: list[Page]
    meta: DocumentMeta = field(default_factory=DocumentMeta)
    warnings: list[str] = field(default_factory=list)

    @property
    def sources(self) -> list[Path]:
        seen: dict[Path, None] = {}
        for page in self.pages:
            seen.setdefault(page.source, None)
        return list(seen)
