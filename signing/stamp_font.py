"""The font a visible stamp is drawn with, made cheap to use once per signature (issue 14).

Why: pyHanko's glyph accumulator parses the stamp font anew for every signature — glyph names,
metrics, cmap and glyph table of all ~2600 glyphs of Liberation Serif (~6000 in DejaVu Sans) — and
then subsets and saves it: ~50 ms of a B-B signature's ~95 ms of CPU. Two things cut that:

- a *Latin copy* of the (1000 units per em, ``pyhanko_compat.pdf_ready_font``) font, with only the
  Latin, Vietnamese, punctuation and currency blocks (``LATIN``), made once per font file and kept in
  the private font cache. A stamp whose text lies inside those blocks (any Vietnamese name, date
  and label) is drawn from it; any other text gets the whole font. The copy keeps the layout tables
  for those glyphs, so HarfBuzz shapes the text exactly as with the whole font (same glyphs, same
  advances and offsets: ``tests/signing/test_stamp_font.py``); the PDF then embeds a subset of it,
  as before a subset of the whole font;
- the subset itself is made once per glyph set and process (``pyhanko_compat.SubsetCachingAccumulator``).

Both caches are keyed on the font file's identity (path, size, mtime), so a replaced font is read again.
"""

from __future__ import annotations

import functools
import hashlib
import threading
import unicodedata
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTFont

from sohoa.common.atomic import atomic_writer
from sohoa.common.cachedir import private_cache_dir
from sohoa.signing.pyhanko_compat import (
    FileIdentity,
    SubsetCachingAccumulatorFactory,
    file_identity,
    pdf_ready_font,
)

# Basic Latin … Latin Extended-B, combining marks, Latin Extended Additional (Vietnamese), general
# punctuation, currency (₫), letterlike symbols (№)
LATIN = ((0x20, 0x24F), (0x300, 0x36F), (0x1E00, 0x1EFF), (0x2000, 0x206F), (0x20A0, 0x20CF), (0x2100, 0x214F))
_lock = threading.Lock()


def fits_latin(text: str) -> bool:
    """Whether every drawn character of ``text`` (NFC) is in the Latin copy's blocks."""
    return all(ch.isspace() or any(low <= ord(ch) <= high for low, high in LATIN)
               for ch in unicodedata.normalize("NFC", text))


def stamp_font(font: Path, text: str) -> Path:
    """The font file the stamp of ``text`` is drawn with: the Latin copy when the text fits, else the whole
    (1000-unit) font."""
    ready = pdf_ready_font(font)
    if not fits_latin(text):
        return ready
    target = _latin_target(file_identity(ready))
    if target.is_file():
        return target
    with _lock:
        if not target.is_file():
            _write_latin_copy(ready, target)
    return target


def stamp_font_factory(font: Path, text: str, size: int) -> SubsetCachingAccumulatorFactory:
    """The pyHanko font engine factory for a stamp of ``text`` at ``size`` points."""
    return SubsetCachingAccumulatorFactory(str(stamp_font(font, text)), font_size=size)


@functools.lru_cache(maxsize=8)
def _latin_target(identity: FileIdentity) -> Path:
    path = identity[0]
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    return private_cache_dir("sohoa-fonts") / f"{path.stem}-{digest}-latin.ttf"


def _write_latin_copy(source: Path, target: Path) -> None:
    """Keep the Latin glyphs with everything HarfBuzz shapes them with (layout features, kerning, names)."""
    options = subset.Options()
    options.layout_features = ["*"]
    options.legacy_kern = True
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.name_legacy = True
    options.glyph_names = True
    options.notdef_glyph = True
    options.notdef_outline = True
    options.recalc_timestamp = False
    font = TTFont(str(source))
    subsetter = subset.Subsetter(options=options)
    subsetter.populate(unicodes=[code for low, high in LATIN for code in range(low, high + 1)])
    subsetter.subset(font)
    with atomic_writer(target) as (stream, _):
        font.save(stream)
