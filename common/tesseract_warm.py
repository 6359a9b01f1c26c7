"""The warm Tesseract engine: a helper process holding a loaded tesserocr API, and its small protocol.

Why a helper process rather than tesserocr in the worker: Tesseract's own recognition deadline does
not cover layout analysis, so a page can hang inside the library; in a separate process the parent
can kill it when it overruns the deadline plus a grace, and the next page restarts the helper. The
worker never hangs and the model stays loaded between pages (the point of "warm").

The helper is ``python -m sohoa.common.tesseract_warm serve TESSDATA LANGUAGES PSM``. Protocol on its
stdin/stdout: frames of a 4-byte big-endian length, a JSON header, then the raw image bytes whose size
the header gives; the helper first sends ``{"ok": true, "version": …}`` (or the error that stopped it
loading the model), then one reply per page. It dies with its parent (``PR_SET_PDEATHSIG``).
"""

from __future__ import annotations

import json
import os
import select
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from typing import Any

from sohoa.common.lifeline import die_with_parent
from sohoa.common.messages import _
from sohoa.common.reasons import foreign
from sohoa.common.tesseract import (
    RawImage,
    TesseractFailed,
    TesseractInfo,
    TesseractTimeout,
    check_variables,
    split_languages,
    tesseract_env,
)
from sohoa.common.tools import ToolBroken

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
        self._pending: subprocess.Popen[bytes] | None = None  # launched, hello not read yet
        self._started = False  # a hello was ever read: later failures are a page's, not the install's
        self._owner = os.getpid()
        self._lock = threading.Lock()

    @property
    def pid(self) -> int | None:
        proc = self._proc or self._pending
        return proc.pid if proc is not None else None

    def _start(self) -> subprocess.Popen[bytes]:
        return self._handshake(self._spawn())

    def _spawn(self) -> subprocess.Popen[bytes]:
        env = tesseract_env()
        env[_PARENT_ENV] = str(os.getpid())
        args = [sys.executable, "-m", "sohoa.common.tesseract_warm", "serve", str(self.info.tessdata or ""),
                self.languages, str(self.psm)]
        try:
            proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                    stderr=subprocess.DEVNULL, env=env, bufsize=0)
        except OSError as exc:
            raise ToolBroken(what="tesserocr", path=sys.executable, detail=_("cannot start the helper: {reason}",
                                                                                    reason=foreign(exc)),
                             fix=f"{sys.executable} -m pip install tesserocr") from None
        return proc

    def _handshake(self, proc: subprocess.Popen[bytes]) -> subprocess.Popen[bytes]:
        """Wait for the helper's hello (its model is loaded); ``ToolBroken`` when it does not come."""
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
        self._started = True
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
            self._proc, self._pending, self._owner = None, None, os.getpid()
        if self._pending is not None:
            proc, self._pending = self._pending, None
            self._proc = self._handshake(proc)
            return self._proc
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

    def launch(self) -> None:
        """Start the helper without waiting for its model: the caller reads and cleans a page meanwhile.

        The first ``recognize`` reads the hello, and raises ``ToolBroken`` then, as ``start`` would have."""
        with self._lock:
            if self._proc is None and self._pending is None:
                self._pending = self._spawn()

    def recognize(self, image: RawImage, *, dpi: int, timeout_s: float, languages: str | None = None,
                  psm: int | None = None, variables: Mapping[str, str] | None = None) -> str:
        """hOCR of one page, or ``TesseractTimeout``/``TesseractFailed``; a hung helper is killed.

        ``languages``/``psm`` other than the helper's own load a second model in the same helper
        (kept for the next call: the English re-read of single words); ``variables`` are Tesseract
        parameters for this call only."""
        if languages is not None:
            split_languages(languages)
        check_variables(variables)
        with self._lock:
            try:
                proc = self._ensure()
            except ToolBroken as exc:
                if not self._started:  # never started (a launched helper's hello): the install's problem
                    raise
                # it started before, so this is this page's bad luck, not the install
                raise TesseractFailed(detail=_("cannot restart the OCR helper: {reason}",
                                               reason=foreign(exc))) from None
            assert proc.stdin is not None and proc.stdout is not None
            request = {"width": image.width, "height": image.height, "bpp": image.bpp,
                       "bytes_per_line": image.bytes_per_line, "dpi": dpi,
                       "timeout_ms": max(1, round(timeout_s * 1000)),
                       "languages": languages or self.languages, "psm": self.psm if psm is None else psm,
                       "variables": dict(variables or {})}
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
                raise TesseractFailed(detail=_("the OCR helper process died (exit code {code})",
                                               code=proc.returncode))
            if reply.get("timeout"):
                raise TesseractTimeout(timeout=f"{timeout_s:g}")
            if not reply.get("ok"):
                raise TesseractFailed(detail=str(reply.get("error")))
            return str(reply["hocr"])

    def close(self) -> None:
        with self._lock:
            for proc in (self._proc, self._pending):
                if proc is not None and os.getpid() == self._owner:
                    self._kill(proc)
            self._proc = self._pending = None


_PARENT_ENV = "SOHOA_OCR_PARENT_PID"


def _serve(tessdata: str, languages: str, psm: int) -> int:
    """Helper main loop: one request in, one reply out, until stdin closes (the parent went away)."""
    # SIGKILL by the kernel when the worker dies, even in the middle of a page: without it a helper
    # stuck in layout analysis would outlive a crashed worker (it only notices the closed stdin between
    # pages). Workers start engines from their main thread (see sohoa.common.lifeline).
    expected = os.environ.get(_PARENT_ENV)
    die_with_parent(expected_parent=int(expected) if expected else None)
    out = os.fdopen(os.dup(1), "wb", buffering=0)
    os.dup2(2, 1)  # anything a library prints must not corrupt the protocol stream
    inp = sys.stdin.buffer
    try:
        import tesserocr

        path = tessdata.rstrip("/") + "/" if tessdata else None

        def load(lang: str, mode: int) -> Any:
            return tesserocr.PyTessBaseAPI(path=path, lang=lang, psm=mode) if path else \
                tesserocr.PyTessBaseAPI(lang=lang, psm=mode)

        apis = {(languages, psm): load(languages, psm)}
    except (ImportError, RuntimeError) as exc:
        _send(out, {"ok": False, "error": f"{type(exc).__name__}: {exc}"})
        return 1
    defaults = {"lstm_choice_mode": "0"}
    _send(out, {"ok": True, "version": tesserocr.tesseract_version().split()[1]})
    while True:
        head = inp.read(_FRAME.size)
        if len(head) < _FRAME.size:
            return 0
        request = json.loads(inp.read(_FRAME.unpack(head)[0]))
        data = inp.read(request["size"])
        started = time.monotonic()
        key = (request.get("languages") or languages, int(request.get("psm", psm)))
        variables = {**defaults, **(request.get("variables") or {})}
        api = apis.get(key)
        try:
            if api is None:
                api = apis[key] = load(*key)
            for name, value in variables.items():
                api.SetVariable(name, value)
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
            if api is not None:
                api.Clear()
            del data
        _send(out, reply)


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "serve":
        sys.exit(_serve(sys.argv[2], sys.argv[3], int(sys.argv[4])))
    print("usage: python -m sohoa.common.tesseract_warm serve TESSDATA LANGUAGES PSM", file=sys.stderr)
    sys.exit(2)
