"""The OCR copy prepared for thin strokes: bitonal pages softened into grey, small text enlarged.

Why: Tesseract's LSTM models were trained on anti-aliased grey text lines. On a bitonal scan a tone
mark is a handful of hard-edged pixels, and printer halftone turns every stroke into dots; a
Gaussian blur of about 1.2 px at 300 dpi closes the dots and gives marks the soft edges the model
knows (bench/results/vietnamese.md, ``vie``: halftoned pages 5.7 % → 0.7 % CER on the tuning pages,
3.4 % → 0.5 % on the held-out ones; the sigma was chosen on tuning pages only: 0.6 px left halftone
at 2.6 % and 1.6 px was worse again than 1.2 px). Enlarging pages under ``upscale_to_dpi`` (bicubic) is
here but off by default: it helped 200 dpi tuning pages and hurt held-out ones.
That sigma is for halftone only (``halftoned``). On a solid bitonal scan (a grey scan thresholded by a
mono scanner: the counter corpus's TIFF pages) it cost more than it gave: on the counter tuning seeds
(``bench/tune_counter_ocr.py``, ``bench/results/counter-tuning.md``) it dropped whole lines of Noto
Serif Display forms; bitonal pages of seed 79 read at 3.8 % CER with it, 2.5 % with no blur. No blur
at all loses tone marks of bold capitals ("QUẢ" → "QUÁ", tests/stages/test_vietnamese.py) and the
Vietnamese tuning split's solid pages went 0.35 % → 0.41 %; 0.4 px keeps both (2.55 %, 0.37 %).
Only the copy Tesseract reads changes; the page image in the PDF is the scan's own.
"""

from __future__ import annotations

import cv2
import numpy as np

# Tesseract parameters that add each character's alternatives to the hOCR (used by the lexicon).
CHOICE_VARIABLES = {"lstm_choice_mode": "2"}
ANTIALIAS_SIGMA_AT_300DPI = 1.2  # px; tuned on the PIL/Liberation pages only (see the benchmark)
# A closing of 3 px (at 300 dpi) fills the gaps between halftone dots: the ink grows by 28-41 % on the
# halftoned tuning pages, by at most 4 % on solid bitonal ones (dotted form leaders are too far apart).
HALFTONE_CLOSING_PX_AT_300DPI = 3
HALFTONE_MIN_GROWTH = 1.15
SOLID_SIGMA_AT_300DPI = 0.4  # px: a solid page only needs its stair-step edges softened (see above)


def halftoned(ink: np.ndarray, *, dpi: float) -> bool:
    """Whether the strokes of a bitonal page (``ink``: True or non-zero where black) are printer dots."""
    ink = ink.astype(np.uint8)
    count = int(np.count_nonzero(ink))
    if count == 0:
        return False
    k = max(2, round(HALFTONE_CLOSING_PX_AT_300DPI * dpi / 300.0))
    closed = cv2.morphologyEx(ink, cv2.MORPH_CLOSE, np.ones((k, k), np.uint8))
    return int(np.count_nonzero(closed)) >= HALFTONE_MIN_GROWTH * count


def prepare_ocr_image(image: np.ndarray, *, dpi: int, antialias: bool,
                      upscale_to_dpi: float) -> tuple[np.ndarray, float]:
    """(the image Tesseract reads, the factor by which it was enlarged: 1.0 when not).

    ``antialias``: the page is bitonal (a bool array, or the clean stage's 0/255 grey copy of one); it is
    softened when its strokes are halftone dots."""
    if antialias and (image.dtype == bool or image.ndim == 2):
        dots = halftoned(image if image.dtype == bool else image < 128, dpi=dpi)
        grey = np.where(image, np.uint8(0), np.uint8(255)) if image.dtype == bool else image
        sigma = ANTIALIAS_SIGMA_AT_300DPI if dots else SOLID_SIGMA_AT_300DPI
        image = cv2.GaussianBlur(grey, (0, 0), sigma * dpi / 300.0)
    factor = 1.0
    if upscale_to_dpi and dpi < 0.95 * upscale_to_dpi:
        factor = upscale_to_dpi / dpi
        if image.dtype == bool:
            image = np.where(image, np.uint8(0), np.uint8(255))
        size = (max(1, round(image.shape[1] * factor)), max(1, round(image.shape[0] * factor)))
        image = cv2.resize(image, size, interpolation=cv2.INTER_CUBIC)
        factor = image.shape[1] / size[0] * factor  # the exact width ratio after rounding
    return np.ascontiguousarray(image), factor
