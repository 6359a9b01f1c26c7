"""Fonts that really draw Vietnamese, checked through their character maps.

Why: Debian's ``fonts-liberation`` 1.07 lacks precomposed Vietnamese letters (ệ, ể, ờ ...) and renders
boxes; a stamp or a test page in such a font silently loses the diacritics that make a name a name.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

VIETNAMESE_SAMPLE = (
    "ẠẢẤẦẨẪẬẮẰẲẴẶẸẺẼẾỀỂỄỆỈỊỌỎỐỒỔỖỘỚỜỞỠỢỤỦỨỪỬỮỰỲỴỶỸĐƠƯ"
    "ạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹđơư"
)

# Searched in this order when the config names no font: Times-like serif first (Decree 30 wants a
# Times-like face for copy stamps), then common sans faces.
KNOWN_FONTS = [
    Path("/usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf"),
    Path("/usr/share/fonts/truetype/noto/NotoSerif-Regular.ttf"),
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf"),
    Path("/usr/share/fonts/truetype/liberation2/LiberationSans-Regular.ttf"),
    Path("/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf"),
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
]
FONT_PACKAGES = "fonts-liberation2 fonts-noto-core fonts-dejavu-core"


@lru_cache(maxsize=32)
def missing_glyphs(path: Path, text: str = VIETNAMESE_SAMPLE) -> str:
    """Characters of ``text`` the font at ``path`` has no glyph for ('' = covers all)."""
    from fontTools.ttLib import TTFont, TTLibError

    try:
        cmap = TTFont(path, lazy=True, fontNumber=0).getBestCmap() or {}
    except (OSError, TTLibError):
        return text
    return "".join(ch for ch in dict.fromkeys(text) if ord(ch) not in cmap)


def vietnamese_fonts(candidates: list[Path] | None = None) -> list[Path]:
    """Installed fonts among ``candidates`` (default ``KNOWN_FONTS``) that cover Vietnamese."""
    return [p for p in (candidates or KNOWN_FONTS) if p.exists() and not missing_glyphs(p)]
