"""Tesseract hOCR → typed lines of words (``parse_hocr``), with each word's character alternatives.

Why hOCR for both engines: it is the one Tesseract output that carries word boxes, word confidences
*and* each line's baseline (which assemble uses to lay the invisible text along the printed line), and
the CLI and the in-memory API produce the same markup, so one parser serves both engines and switching
engine can never change the shape of the result. With ``lstm_choice_mode=2`` it also carries, for each
character, the alternatives the model considered (``ocrx_cinfo`` spans inside the word), which the
lexicon correction uses.
"""

from __future__ import annotations

import re
import unicodedata
import xml.etree.ElementTree as ET
from collections.abc import Callable

from sohoa.stages.model import OcrLine, OcrWord

_LINE_CLASSES = frozenset({"ocr_line", "ocr_textfloat", "ocr_header", "ocr_caption"})
_PAGE_START = re.compile(r"<div\s+class=['\"]ocr_page['\"]")


def _title(element: ET.Element) -> dict[str, list[str]]:
    """hOCR properties: ``"bbox 1 2 3 4; x_wconf 96"`` → ``{"bbox": [...], "x_wconf": ["96"]}``."""
    props: dict[str, list[str]] = {}
    for part in element.get("title", "").split(";"):
        fields = part.split()
        if fields:
            props[fields[0]] = fields[1:]
    return props


def _box(props: dict[str, list[str]], scale: tuple[float, float],
         offset: tuple[float, float] = (0, 0)) -> tuple[int, int, int, int] | None:
    values = props.get("bbox")
    if not values or len(values) != 4:
        return None
    dx, dy = offset
    left, top, right, bottom = (int(v) for v in values)
    sx, sy = scale
    return (round((left + dx) * sx), round((top + dy) * sy), round((right + dx) * sx), round((bottom + dy) * sy))


WordHook = Callable[[str, tuple[int, int, int, int], float, list[list[tuple[str, float]]]], tuple[str, float]]


def _word_choices(span: ET.Element) -> list[list[tuple[str, float]]]:
    """Per-character alternatives of an hOCR word (``lstm_choice_mode=2``), best first; [] if none."""
    out = []
    for group in span:
        if group.get("class") != "ocrx_cinfo" or not (group.get("id") or "").startswith("lstm_choices"):
            continue
        options = []
        for choice in group:
            conf = _title(choice).get("x_confs", ["0"])[0]
            options.append((unicodedata.normalize("NFC", choice.text or ""), float(conf)))
        out.append(options)
    return out


def parse_hocr(text: str, *, scale: tuple[float, float] = (1.0, 1.0),
               origin: tuple[float, float] = (0, 0), on_word: WordHook | None = None) -> list[OcrLine]:
    """Lines of non-empty NFC words from Tesseract hOCR (a whole document or the page ``div`` alone).

    ``origin`` is where the recognised crop sits in the OCR image; ``scale`` then multiplies every
    coordinate (OCR image pixels → upright-frame pixels). ``on_word(text, box, confidence, choices)``
    may replace a word's text and confidence (box in the recognised image's pixels; choices as
    ``_word_choices`` gives them).
    """
    start = _PAGE_START.search(text)
    if start is None:
        return []
    end = text.rfind("</body>")
    root = ET.fromstring("<root>" + text[start.start():end if end > start.start() else len(text)] + "</root>")
    lines: list[OcrLine] = []
    for element in root.iter():
        if element.get("class") not in _LINE_CLASSES:
            continue
        words: list[OcrWord] = []
        for span in element.iter():
            if span.get("class") != "ocrx_word":
                continue
            choices = _word_choices(span)
            raw = span.text if choices else "".join(span.itertext())  # choices are child spans
            word = unicodedata.normalize("NFC", raw or "").strip()
            props = _title(span)
            box = _box(props, scale, origin)
            if not word or box is None:
                continue
            confidence = float(props.get("x_wconf", ["0"])[0])
            if on_word is not None:
                own = _box(props, (1.0, 1.0))
                assert own is not None
                word, confidence = on_word(word, own, confidence, choices)
            words.append(OcrWord(text=word, box=box, confidence=min(100.0, max(0.0, confidence))))
        line_props = _title(element)
        line_box = _box(line_props, scale, origin)
        if not words or line_box is None:
            continue
        slope, offset = 0.0, 0.0
        if len(line_props.get("baseline", [])) == 2:
            slope = float(line_props["baseline"][0]) * scale[1] / scale[0]
            offset = float(line_props["baseline"][1]) * scale[1]
        lines.append(OcrLine(words=words, box=line_box, baseline=(slope, offset)))
    return lines
