"""The OCR engines: what turns a page's pixels into hOCR, and the one engine per process that keeps warm.

Why a module of its own: ``sohoa process`` starts the OCR helper first thing, in a thread, while the
main thread imports the rest; this module imports no numpy, OpenCV or Pillow, so the helper is on its
way within milliseconds instead of after the page stages' imports (issue 14: start-up per document).
``SubprocessEngine`` starts ``tesseract`` per page; ``WarmEngine`` keeps the model loaded in a helper
process per worker (``common.tesseract_warm``; ``bench/bench_ocr_engine.py`` for why it is the default
when tesserocr is installed).
"""

from __future__ import annotations

import atexit
import importlib.util
import logging
import os
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, ClassVar, Literal

from sohoa.common.errors import MissingDependency
from sohoa.common.tesseract import RawImage, require_languages, run_cli
from sohoa.common.tesseract_warm import WarmTesseract
from sohoa.common.tools import ToolBroken

if TYPE_CHECKING:
    from sohoa.config.settings import OcrSettings

log = logging.getLogger(__name__)

EngineKind = Literal["auto", "subprocess", "tesserocr"]


class OcrEngine:
    """Turns one page's pixels into hOCR. Languages and PSM are fixed per engine (the model is loaded once)."""

    kind: ClassVar[str] = "base"

    def __init__(self, languages: str, psm: int, *, binary: str = "tesseract") -> None:
        self.info = require_languages(languages, binary)  # MissingDependency here, before any page
        self.languages = languages
        self.psm = psm

    @property
    def version(self) -> str:
        """The Tesseract version that reads the pages (for reports and ``sohoa doctor``)."""
        return self.info.tool.version_text

    def hocr(self, image: RawImage, *, dpi: int, timeout_s: float, languages: str | None = None,
             psm: int | None = None, variables: Mapping[str, str] | None = None) -> str:
        """hOCR of ``image``; ``languages``/``psm`` override the engine's for this call (the English
        re-read of one word), ``variables`` are Tesseract parameters for this call."""
        raise NotImplementedError

    def close(self) -> None:
        """Release processes held by the engine; it restarts them if used again."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}(languages={self.languages!r}, psm={self.psm})"


class SubprocessEngine(OcrEngine):
    """One ``tesseract`` process per page: reloads the model every page, but shares nothing."""

    kind = "subprocess"

    def hocr(self, image: RawImage, *, dpi: int, timeout_s: float, languages: str | None = None,
             psm: int | None = None, variables: Mapping[str, str] | None = None) -> str:
        return run_cli(self.info, image, languages=languages or self.languages,
                       psm=self.psm if psm is None else psm, dpi=dpi, timeout_s=timeout_s, variables=variables)


class WarmEngine(OcrEngine):
    """The model stays loaded in a helper process (tesserocr); a page over its deadline kills the helper."""

    kind = "tesserocr"

    def __init__(self, languages: str, psm: int, *, binary: str = "tesseract",
                 kill_grace_s: float | None = None, wait: bool = True, fallback: bool = False) -> None:
        """``wait`` False: launch the helper and return; its start is checked by the first page.
        ``fallback``: a helper that never starts (``ToolBroken``) leaves the pages to one tesseract
        process each (``auto``) instead of failing them."""
        super().__init__(languages, psm, binary=binary)
        self._warm = WarmTesseract(self.info, languages=languages, psm=psm, kill_grace_s=kill_grace_s)
        self._binary, self._fallback_allowed = binary, fallback
        self._fallback: SubprocessEngine | None = None
        if wait:
            self._warm.start()
        else:
            self._warm.launch()

    @property
    def helper_pid(self) -> int | None:
        return self._warm.pid

    @property
    def version(self) -> str:
        return self._warm.library_version or "?"  # tesserocr's bundled libtesseract, not the system's

    def hocr(self, image: RawImage, *, dpi: int, timeout_s: float, languages: str | None = None,
             psm: int | None = None, variables: Mapping[str, str] | None = None) -> str:
        if self._fallback is None:
            try:
                return self._warm.recognize(image, dpi=dpi, timeout_s=timeout_s, languages=languages, psm=psm,
                                            variables=variables)
            except ToolBroken as exc:  # only from a helper that never started
                if not self._fallback_allowed:
                    raise
                log.warning("warm OCR engine unavailable, using one tesseract process per page: %s", exc)
                self._fallback = SubprocessEngine(self.languages, self.psm, binary=self._binary)
        return self._fallback.hocr(image, dpi=dpi, timeout_s=timeout_s, languages=languages, psm=psm,
                                   variables=variables)

    def close(self) -> None:
        self._warm.close()


def make_engine(kind: EngineKind, languages: str, psm: int, *, wait: bool = True) -> OcrEngine:
    """A new engine. ``auto`` = warm when tesserocr is installed and starts, else one process per page.

    ``wait`` False: the warm helper is launched, not waited for (``WarmEngine``); ``auto`` then falls
    back on the first page instead of here."""
    if kind == "subprocess":
        return SubprocessEngine(languages, psm)
    if kind == "tesserocr":
        return WarmEngine(languages, psm, wait=wait)
    if importlib.util.find_spec("tesserocr") is None:
        return SubprocessEngine(languages, psm)
    if not wait:
        return WarmEngine(languages, psm, wait=False, fallback=True)
    try:
        return WarmEngine(languages, psm)
    except MissingDependency as exc:
        if exc.code != "tool_broken":
            raise  # tesseract itself or a language is missing: the subprocess engine would fail too
        log.warning("warm OCR engine unavailable, using one tesseract process per page: %s", exc)
        return SubprocessEngine(languages, psm)


_EngineKey = tuple[int, "int | None", str, str, int]  # (process, lane, kind, languages, psm)
_engines: dict[_EngineKey, OcrEngine] = {}
_engines_lock = threading.Lock()
_starting: dict[_EngineKey, threading.Lock] = {}  # one start per key; other keys start meanwhile
_lane = threading.local()


def enter_lane(lane: int) -> None:
    """Give the calling thread engines of its own (a ``pipeline.lanes`` thread: one OCR helper per lane)."""
    _lane.id = lane


def get_engine(settings: OcrSettings, *, wait: bool = True) -> OcrEngine:
    """This process's (or this lane's) engine for these settings, created on first use.

    Keyed by process id so a worker forked from a parent that already had an engine builds its own
    instead of sharing the parent's helper pipes; and by lane, so two lanes read two pages at once.
    Two lanes starting their helpers do not wait for each other (the model loads in parallel).
    ``wait`` False (warming): a warm helper is launched and checked on the first page (``make_engine``).
    """
    kind: EngineKind = getattr(settings, "engine", "auto")
    key: _EngineKey = (os.getpid(), getattr(_lane, "id", None), kind, settings.languages, settings.psm)
    with _engines_lock:
        engine = _engines.get(key)
        if engine is not None:
            return engine
        starting = _starting.setdefault(key, threading.Lock())
    with starting:
        with _engines_lock:
            engine = _engines.get(key)
        if engine is None:
            if settings.reread_languages:
                require_languages(settings.reread_languages)  # MissingDependency now, not on a page
            engine = make_engine(kind, settings.languages, settings.psm, wait=wait)
            with _engines_lock:
                _engines[key] = engine
    return engine


def close_lane_engines() -> None:
    """Close the calling lane's engines (its helper would die with the thread anyway, less tidily)."""
    lane = getattr(_lane, "id", None)
    if lane is None:
        return
    with _engines_lock:
        engines = [_engines.pop(k) for k in list(_engines) if k[:2] == (os.getpid(), lane)]
    for engine in engines:
        engine.close()


@atexit.register
def _close_engines() -> None:
    for (pid, *_rest), engine in list(_engines.items()):
        if pid == os.getpid():
            engine.close()
