"""Tesseract as a tool: probe it once, check languages, and run it on one page with a hard deadline.

Why here (bottom layer) and not in ``stages``: the probe is also what ``sohoa doctor``-like checks and
the workers' start-up need, and the process plumbing (pipes, deadlines, kill) knows nothing about
pages or documents. ``stages.ocr`` turns the hOCR these functions return into typed words.

Two ways to run a page, both ending in hOCR text:
- ``run_cli`` (here): one ``tesseract`` process per page (image on stdin as PNM, hOCR on stdout).
  Reloads the model each time, but a page that hangs is simply killed.
- ``WarmTesseract`` (``common.tesseract_warm``): a long-lived helper process holding a tesserocr API
  with the model loaded, killed when a page overruns its deadline.
Every Tesseract process runs with ``OMP_THREAD_LIMIT=1``: the OpenMP build otherwise spins threads
that burn CPU on a busy machine while the pipeline already runs one page per core.
"""

from __future__ import annotations

import os
import re
import subprocess
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from sohoa.common.errors import ConfigError, MissingDependency, ProcessingError
from sohoa.common.messages import N_, _
from sohoa.common.reasons import foreign
from sohoa.common.tools import ToolBroken, ToolInfo, apt_command, probe_tool

if TYPE_CHECKING:
    import numpy as np

MIN_VERSION = (4, 1)
APT_PACKAGE = "tesseract-ocr"


class LanguageMissing(MissingDependency):
    code = "tesseract_language_missing"
    text = N_("Tesseract has no language data for {langs} (folder {tessdata}). Install it with: {fix}")


class TesseractTimeout(ProcessingError):
    """A page took longer than the per-page limit; the page keeps its image, without text."""

    code = "ocr_timeout"
    text = N_("OCR timed out after {timeout} s")


class TesseractFailed(ProcessingError):
    code = "ocr_failed"
    text = N_("Tesseract failed on the page: {detail}")


@dataclass(frozen=True)
class TesseractInfo:
    tool: ToolInfo
    tessdata: Path | None  # the folder tesseract reads traineddata from, as it reports it
    languages: frozenset[str]

    @property
    def path(self) -> Path:
        return self.tool.path


def tesseract_env(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment every Tesseract process gets: the caller's, with OpenMP held to one thread."""
    env = dict(os.environ if base is None else base)
    env["OMP_THREAD_LIMIT"] = "1"
    return env


def language_package(code: str) -> str:
    """Debian package holding ``<code>.traineddata`` (``vie`` → ``tesseract-ocr-vie``)."""
    if code.startswith("script/"):
        return "tesseract-ocr-all"  # script models have irregular package names
    return "tesseract-ocr-" + code.lower().replace("_", "-")


def split_languages(languages: str) -> list[str]:
    """``"vie+eng"`` → ``["vie", "eng"]``; rejects what Tesseract would misread as options or paths."""
    codes = [part.strip() for part in languages.split("+")]
    if not codes or any(not re.fullmatch(r"(script/)?[A-Za-z][A-Za-z0-9_]*", c) for c in codes):
        raise ConfigError(path="ocr.languages",
                          detail=_("invalid language list {languages!r} (expected e.g. 'vie+eng')",
                                   languages=languages))
    return codes


def tesseract_info(binary: str = "tesseract") -> TesseractInfo:
    """Probe ``binary`` once per process: path, version (≥ 4.1) and installed languages.

    Under a lock: two page lanes starting their helpers at once wait for one probe, not run two."""
    with _probe_lock:
        return _tesseract_info(binary)


_probe_lock = threading.Lock()


def clear_tesseract_cache() -> None:
    """Probe again on next use (after installing a language in a long-lived process)."""
    _tesseract_info.cache_clear()


@lru_cache(maxsize=8)
def _tesseract_info(binary: str) -> TesseractInfo:
    tool = probe_tool(binary, apt_package=APT_PACKAGE, min_version=MIN_VERSION)
    fix = apt_command(APT_PACKAGE)
    try:
        proc = subprocess.run([str(tool.path), "--list-langs"], capture_output=True, timeout=30,
                              env=tesseract_env(), stdin=subprocess.DEVNULL, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ToolBroken(what=binary, path=tool.path, detail=_("--list-langs: {reason}", reason=foreign(exc)),
                         fix=fix) from None
    text = (proc.stdout + b"\n" + proc.stderr).decode("utf-8", "replace")
    tessdata = None
    match = re.search(r'List of available languages in "([^"]*)"', text)
    if match:
        tessdata = Path(match.group(1))
    elif proc.returncode != 0:
        raise ToolBroken(what=binary, path=tool.path,
                         detail=_("--list-langs: {reason}", reason=foreign(text.strip()[:200])), fix=fix)
    lines = text.splitlines()
    start = next((i + 1 for i, line in enumerate(lines) if line.startswith("List of available")), 0)
    languages = frozenset(line.strip() for line in lines[start:] if re.fullmatch(r"\s*[\w/]+\s*", line))
    return TesseractInfo(tool=tool, tessdata=tessdata, languages=languages)


def require_languages(languages: str, binary: str = "tesseract") -> TesseractInfo:
    """Check that every language of ``"vie+eng"`` is installed; raise ``LanguageMissing`` naming the packages."""
    info = tesseract_info(binary)
    missing = [code for code in split_languages(languages) if code not in info.languages]
    if missing:
        packages = sorted({language_package(code) for code in missing})
        raise LanguageMissing(langs="+".join(missing), tessdata=info.tessdata or "?",
                              fix=apt_command(*packages))
    return info


# --- the page as bytes, without copying the pixels ---------------------------------------------


@dataclass
class RawImage:
    """A page's pixels as a byte view Tesseract can read directly.

    ``bpp`` follows Tesseract's SetImage convention: 0 = packed 1 bit/pixel, 1 = grey, 3 = RGB.
    Packed bitonal rows are MSB first with 1 = black (PBM's convention); Tesseract's in-memory API
    wants 1 = white, which ``tesseract_bits`` gives.
    """

    data: memoryview
    width: int
    height: int
    bpp: int
    bytes_per_line: int

    @classmethod
    def from_array(cls, image: np.ndarray) -> RawImage:
        import numpy as np  # here, not at the top: the warm OCR helper imports this module and never needs it

        if image.dtype == bool and image.ndim == 2:
            packed = np.packbits(image, axis=1)  # 1/8 of the pixels: the only copy we make
            return cls(memoryview(packed).cast("B"), image.shape[1], image.shape[0], 0, packed.shape[1])
        if image.dtype != np.uint8 or not (image.ndim == 2 or (image.ndim == 3 and image.shape[2] == 3)):
            raise TesseractFailed(detail=_("unsupported OCR image {dtype} {shape}", dtype=image.dtype,
                                                    shape=image.shape))
        image = np.ascontiguousarray(image)  # a no-op for the arrays the clean stage produces
        bpp = 1 if image.ndim == 2 else 3
        view = memoryview(image.reshape(-1)).cast("B")
        return cls(view, image.shape[1], image.shape[0], bpp, image.shape[1] * bpp)

    def pnm_header(self) -> bytes:
        magic = {0: "P4", 1: "P5", 3: "P6"}[self.bpp]
        depth = "" if self.bpp == 0 else "255\n"
        return f"{magic}\n{self.width} {self.height}\n{depth}".encode("ascii")

    def tesseract_bits(self) -> memoryview:
        if self.bpp != 0:
            return self.data
        import numpy as np

        return memoryview(np.bitwise_not(np.frombuffer(self.data, dtype=np.uint8))).cast("B")


def check_variables(variables: Mapping[str, str] | None) -> list[str]:
    """``-c name=value`` arguments for Tesseract; names and values are plain words (no options, no paths).

    The variables come from sohoa's own code, never from a user: a bad one is a bug (ValueError)."""
    args: list[str] = []
    for name, value in (variables or {}).items():
        if not re.fullmatch(r"[a-z_][a-z0-9_]*", name) or not re.fullmatch(r"[A-Za-z0-9_.-]+", value):
            raise ValueError(f"bad Tesseract variable {name!r}={value!r}")
        args += ["-c", f"{name}={value}"]
    return args


def run_cli(info: TesseractInfo, image: RawImage, *, languages: str, psm: int, dpi: int,
            timeout_s: float, variables: Mapping[str, str] | None = None) -> str:
    """One ``tesseract`` process for one page; hOCR text, or ``TesseractTimeout``/``TesseractFailed``.

    ``variables``: Tesseract parameters for this run (``{"lstm_choice_mode": "2"}`` adds each
    character's alternatives to the hOCR)."""
    split_languages(languages)
    args = [str(info.path), "stdin", "stdout", "-l", languages, "--psm", str(psm), "--dpi", str(dpi),
            *check_variables(variables), "hocr"]
    try:
        proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                env=tesseract_env())
    except OSError as exc:  # out of memory/processes, or the binary vanished since the probe
        raise TesseractFailed(detail=_("cannot start tesseract: {reason}", reason=foreign(exc))) from None
    try:
        assert proc.stdin is not None
        try:
            proc.stdin.write(image.pnm_header())  # a few bytes: fits the pipe buffer, never blocks
        except BrokenPipeError:
            pass  # tesseract already exited; its stderr below says why
        out, err = proc.communicate(image.data, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise TesseractTimeout(timeout=f"{timeout_s:g}") from None
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    if proc.returncode != 0:
        tail = err.decode("utf-8", "replace").strip().splitlines()[-3:]
        raise TesseractFailed(detail=_("exit code {code}: {reason}", code=proc.returncode,
                                                reason=foreign(" / ".join(tail) or "no message")))
    return out.decode("utf-8", "replace")
