"""Tesseract as a tool: probe it once, check languages, and run it on one page with a hard deadline.

Why here (bottom layer) and not in ``stages``: the probe is also what ``sohoa doctor``-like checks and
the workers' start-up need, and the process plumbing (pipes, deadlines, kill) knows nothing about
pages or documents. ``stages.ocr`` turns the hOCR these functions return into typed words.

Two ways to run a page, both ending in hOCR text:
- ``run_cli``: one ``tesseract`` process per page (image on stdin as PNM, hOCR on stdout). Reloads the
  model each time, but a page that hangs is simply killed.
- ``WarmTesseract``: a long-lived helper process (``python -m sohoa.common.tesseract serve``) holding a
  tesserocr API with the model loaded. The helper is given Tesseract's own recognition deadline, and
  the parent kills it if it overruns that plus a grace (layout analysis ignores the deadline), so a
  hung page never hangs the worker; the next page restarts the helper.
Every Tesseract process runs with ``OMP_THREAD_LIMIT=1``: the OpenMP build otherwise spins threads
that burn CPU on a busy machine while the pipeline already runs one page per core.
"""

from __future__ import annotations

import json
import os
import re
import select
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from sohoa.common.errors import ConfigError, MissingDependency, ProcessingError
from sohoa.common.messages import N_, _
from sohoa.common.reasons import foreign
from sohoa.common.tools import ToolBroken, ToolInfo, apt_command, probe_tool

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
    """Probe ``binary`` once per process: path, version (≥ 4.1) and installed languages."""
    return _tesseract_info(binary)


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
        return memoryview(np.bitwise_not(np.frombuffer(self.data, dtype=np.uint8))).cast("B")


def run_cli(info: TesseractInfo, image: RawImage, *, languages: str, psm: int, dpi: int,
            timeout_s: float) -> str:
    """One ``tesseract`` process for one page; hOCR text, or ``TesseractTimeout``/``TesseractFailed``."""
    split_languages(languages)
    args = [str(info.path), "stdin", "stdout", "-l", languages, "--psm", str(psm), "--dpi", str(dpi), "hocr"]
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


# --- the warm engine: a helper process holding a loaded tesserocr API ---------------------------

_FRAME = struct.Struct(">I")


def _write_all(stream: Any, data: bytes | memoryview) -> None:
    view = memoryview(data).cast("B")
    while view:  # an unbuffered pipe may take a large write in pieces
        written = stream.write(view)
        view = view[written if written is not None else len(view):]


def _send(stream: Any, message: dict[str, Any], payload: memoryview | None = None) -> None:
    """One frame: 4-byte length, JSON header, then the raw payload whose size the header gives."""
    body = json.dumps(message, ensure_ascii=False).encode("utf-8")
    _write_all(stream, _FRAME.pack(len(body)) + body)
    if payload is not None:
        _write_all(stream, payload)
    stream.flush()


class _Deadline(Exception):
    """Internal: the helper did not answer in time (turned into TesseractTimeout)."""


def _read_exact(fd: int, size: int, deadline: float | None) -> bytes | None:
    """``size`` bytes from ``fd`` before ``deadline`` (monotonic), or None on end of file."""
    chunks, remaining = [], size
    while remaining:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise _Deadline
        chunk = os.read(fd, min(remaining, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def _receive(fd: int, deadline: float | None) -> dict[str, Any] | None:
    head = _read_exact(fd, _FRAME.size, deadline)
    if head is None:
        return None
    body = _read_exact(fd, _FRAME.unpack(head)[0], deadline)
    return None if body is None else json.loads(body)


class WarmTesseract:
    """Client side of the helper process. Not thread-safe on its own; a lock serialises pages."""

    START_TIMEOUT_S = 120.0

    def __init__(self, info: TesseractInfo, *, languages: str, psm: int,
                 kill_grace_s: float | None = None) -> None:
        """``kill_grace_s``: how long past the page timeout the helper may run before it is killed;
        default 2 s + 10 % of the timeout (enough for layout analysis, which Tesseract's deadline skips)."""
        split_languages(languages)
        self.info, self.languages, self.psm = info, languages, psm
        self.kill_grace_s = kill_grace_s
        self.library_version: str | None = None  # libtesseract's version in the helper (the wheel's own)
        self._proc: subprocess.Popen[bytes] | None = None
        self._owner = os.getpid()
        self._lock = threading.Lock()

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def _start(self) -> subprocess.Popen[bytes]:
        env = tesseract_env()
        env[_PARENT_ENV] = str(os.getpid())
        args = [sys.executable, "-m", "sohoa.common.tesseract", "serve", str(self.info.tessdata or ""),
                self.languages, str(self.psm)]
        try:
            proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                    stderr=subprocess.DEVNULL, env=env, bufsize=0)
        except OSError as exc:
            raise ToolBroken(what="tesserocr", path=sys.executable, detail=_("cannot start the helper: {reason}",
                                                                                    reason=foreign(exc)),
                             fix=f"{sys.executable} -m pip install tesserocr") from None
        assert proc.stdout is not None
        try:
            hello = _receive(proc.stdout.fileno(), time.monotonic() + self.START_TIMEOUT_S)
        except _Deadline:
            hello = None
        if not hello or not hello.get("ok"):
            self._kill(proc)
            error = (hello or {}).get("error")
            detail = foreign(str(error)) if error else _("the helper process did not start")
            raise ToolBroken(what="tesserocr", path=sys.executable, detail=detail,
                             fix=f"{sys.executable} -m pip install tesserocr")
        self.library_version = str(hello.get("version") or "") or None
        return proc

    @staticmethod
    def _kill(proc: subprocess.Popen[bytes]) -> None:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        for stream in (proc.stdin, proc.stdout):
            if stream is not None:
                stream.close()

    def _ensure(self) -> subprocess.Popen[bytes]:
        if os.getpid() != self._owner:  # inherited through fork: that helper belongs to the parent
            self._proc, self._owner = None, os.getpid()
        if self._proc is not None and self._proc.poll() is not None:
            self._kill(self._proc)  # died between pages (OOM killer…): reap it and close its pipes
            self._proc = None
        if self._proc is None:
            self._proc = self._start()
        return self._proc

    def start(self) -> None:
        """Start the helper now (loads the model) so a broken install shows at start-up, not on page 1."""
        with self._lock:
            self._ensure()

    def recognize(self, image: RawImage, *, dpi: int, timeout_s: float) -> str:
        """hOCR of one page, or ``TesseractTimeout``/``TesseractFailed``; a hung helper is killed."""
        with self._lock:
            try:
                proc = self._ensure()
            except ToolBroken as exc:  # it started before, so this is this page's bad luck, not the install
                raise TesseractFailed(detail=_("cannot restart the OCR helper: {reason}",
                                               reason=foreign(exc))) from None
            assert proc.stdin is not None and proc.stdout is not None
            request = {"width": image.width, "height": image.height, "bpp": image.bpp,
                       "bytes_per_line": image.bytes_per_line, "dpi": dpi,
                       "timeout_ms": max(1, round(timeout_s * 1000))}
            payload = image.tesseract_bits()
            request["size"] = payload.nbytes
            try:
                _send(proc.stdin, request, payload)
                # Tesseract's own deadline covers recognition, not layout analysis: allow a grace.
                grace = 2.0 + 0.1 * timeout_s if self.kill_grace_s is None else self.kill_grace_s
                reply = _receive(proc.stdout.fileno(), time.monotonic() + timeout_s + grace)
            except _Deadline:
                self._kill(proc)
                self._proc = None
                raise TesseractTimeout(timeout=f"{timeout_s:g}") from None
            except (BrokenPipeError, ConnectionResetError):
                reply = None
            if reply is None:
                self._kill(proc)
                self._proc = None
                raise TesseractFailed(detail=_("the OCR helper process died (exit code {code})", code=proc.returncode))
            if reply.get("timeout"):
                raise TesseractTimeout(timeout=f"{timeout_s:g}")
            if not reply.get("ok"):
                raise TesseractFailed(detail=str(reply.get("error")))
            return str(reply["hocr"])

    def close(self) -> None:
        with self._lock:
            if self._proc is not None and os.getpid() == self._owner:
                self._kill(self._proc)
            self._proc = None


_PARENT_ENV = "SOHOA_OCR_PARENT_PID"


def _die_with_parent() -> None:
    """Ask Linux to SIGKILL this helper when its parent dies, even in the middle of a page.

    Without it a helper stuck in layout analysis would outlive a crashed worker (it only notices the
    closed stdin between pages). Caveat of the kernel feature: "parent" is the *thread* that started
    the helper, so start engines from a long-lived thread (workers use their main thread).
    """
    try:
        import ctypes
        import signal

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return  # not Linux/glibc: fall back to noticing end of file on stdin
    expected = os.environ.get(_PARENT_ENV)
    if expected and os.getppid() != int(expected):  # the parent died before prctl took effect
        os._exit(0)


def _serve(tessdata: str, languages: str, psm: int) -> int:
    """Helper main loop: one request in, one reply out, until stdin closes (the parent went away)."""
    _die_with_parent()
    out = os.fdopen(os.dup(1), "wb", buffering=0)
    os.dup2(2, 1)  # anything a library prints must not corrupt the protocol stream
    inp = sys.stdin.buffer
    try:
        import tesserocr

        path = tessdata.rstrip("/") + "/" if tessdata else None
        api = tesserocr.PyTessBaseAPI(path=path, lang=languages, psm=psm) if path else \
            tesserocr.PyTessBaseAPI(lang=languages, psm=psm)
    except (ImportError, RuntimeError) as exc:
        _send(out, {"ok": False, "error": f"{type(exc).__name__}: {exc}"})
        return 1
    _send(out, {"ok": True, "version": tesserocr.tesseract_version().split()[1]})
    while True:
        head = inp.read(_FRAME.size)
        if len(head) < _FRAME.size:
            return 0
        request = json.loads(inp.read(_FRAME.unpack(head)[0]))
        data = inp.read(request["size"])
        started = time.monotonic()
        try:
            api.SetImageBytes(data, request["width"], request["height"], request["bpp"],
                              request["bytes_per_line"])
            api.SetSourceResolution(request["dpi"])
            if api.Recognize(timeout=request["timeout_ms"]):
                reply = {"ok": True, "hocr": api.GetHOCRText(0)}
            elif (time.monotonic() - started) * 1000 >= request["timeout_ms"]:
                reply = {"ok": False, "timeout": True}
            else:
                reply = {"ok": False, "error": "recognition failed"}
        except RuntimeError as exc:
            reply = {"ok": False, "error": str(exc)}
        finally:
            api.Clear()
            del data
        _send(out, reply)


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "serve":
        sys.exit(_serve(sys.argv[2], sys.argv[3], int(sys.argv[4])))
    print("usage: python -m sohoa.common.tesseract serve TESSDATA LANGUAGES PSM", file=sys.stderr)
    sys.exit(2)
