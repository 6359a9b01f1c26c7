"""What a lossless page image really holds, judged from its pixels, not from its container.

Why: "lossless colour → JPEG" once turned a clean text page stored as a palette PNG (315 KB) into an
811 KB RGB JPEG. A page is encoded by what it is: two levels → CCITT G4; grey, or grey stored as RGB,
that is mostly paper and ink (text, forms) → 8-bit grey Flate; few colours (a palette drawing, coloured
text) → Flate; photographic or real colour content → JPEG. The judgement reads every 4th pixel of every
4th row, a few milliseconds on an A4 page at 300 dpi.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

ContentKind = Literal["bitonal", "grey-text", "grey-photo", "few-colour", "colour"]

GREY_CHROMA = 12  # channel spread up to this is grey (scanner noise on a grey original)
GREY_SHARE = 0.995  # of the sampled pixels
MIDTONE = (40, 215)  # neither ink nor paper
TEXT_MAX_MIDTONES = 0.08  # a text page's anti-aliased edges and stamps stay under this share
FEW_COLOURS = 256  # a palette image has at most this many; a scanned photograph has thousands
STEP = 4


def content_kind(pixels: np.ndarray) -> ContentKind:
    """Classify an RGB or grey uint8 page image (a bool image is bitonal)."""
    if pixels.dtype == bool:
        return "bitonal"
    sample = pixels[::STEP, ::STEP]
    if sample.ndim == 3:
        spread = sample.max(axis=2).astype(np.int16) - sample.min(axis=2).astype(np.int16)
        if np.count_nonzero(spread <= GREY_CHROMA) < GREY_SHARE * spread.size:
            packed = (sample[..., 0].astype(np.uint32) << 16) | (sample[..., 1].astype(np.uint32) << 8) \
                | sample[..., 2].astype(np.uint32)
            return "few-colour" if np.unique(packed).size <= FEW_COLOURS else "colour"
        sample = sample.mean(axis=2).astype(np.uint8)
    levels = np.bincount(sample.ravel(), minlength=256)
    if np.count_nonzero(levels) <= 2:
        return "bitonal"
    midtones = levels[MIDTONE[0]:MIDTONE[1] + 1].sum() / sample.size
    return "grey-text" if midtones <= TEXT_MAX_MIDTONES else "grey-photo"


def as_grey(pixels: np.ndarray) -> np.ndarray:
    """An RGB image whose channels agree, as one grey plane (the mean keeps noise averaged)."""
    return pixels if pixels.ndim == 2 else pixels.mean(axis=2).round().astype(np.uint8)


def palette_of(pixels: np.ndarray, limit: int = 256) -> tuple[np.ndarray, np.ndarray] | None:
    """(indices HxW uint8, palette Nx1 or Nx3 uint8) when the image has at most ``limit`` distinct values.

    Why not one ``np.unique`` over the page: sorting 8.7 million RGB keys of a 300-dpi A4 page took
    1.5 s, paid by every lossless colour page. Grey pages are counted (256 bins); colour pages are
    looked up among the colours of a sample, and only the pixels of colours it missed are sorted."""
    if pixels.ndim == 2:
        counts = np.bincount(pixels.reshape(-1), minlength=256)
        values = np.flatnonzero(counts)
        if values.size > limit:
            return None
        lut = np.zeros(256, dtype=np.uint8)
        lut[values] = np.arange(values.size, dtype=np.uint8)
        return lut[pixels], values.astype(np.uint8).reshape(-1, 1)
    flat = pixels.reshape(-1, 3)
    keys = (flat[:, 0].astype(np.uint32) << 16) | (flat[:, 1].astype(np.uint32) << 8) | flat[:, 2]
    values = np.unique(keys[:: max(1, keys.size // 65536)])
    if values.size > limit:
        return None
    inverse = np.minimum(np.searchsorted(values, keys), values.size - 1)
    missed = values[inverse] != keys
    if missed.any():  # rare colours the sample missed: only their pixels are sorted
        values = np.union1d(values, np.unique(keys[missed]))
        if values.size > limit:
            return None
        inverse = np.searchsorted(values, keys)
    palette = np.stack([(values >> 16) & 255, (values >> 8) & 255, values & 255], axis=1).astype(np.uint8)
    return inverse.reshape(pixels.shape[:2]).astype(np.uint8), palette
