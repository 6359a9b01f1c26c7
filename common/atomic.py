"""Atomic, durable file writes: temp file in the target folder → fsync → rename → fsync folder.

Why: a reader (a clerk, the daemon, a backup) must never see a half-written PDF, and after a power cut a
renamed file must really be there. The temp name starts with a dot and ends in ``.part`` so watchers
and the daemon's own scanners ignore it.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from sohoa.common.errors import OutputError
from sohoa.common.messages import _


def fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def check_writable_dir(target: Path) -> None:
    """Fail early, before any work, when ``target``'s folder cannot take a new file."""
    folder = target.parent if target.parent != Path("") else Path(".")
    if not folder.is_dir():
        raise OutputError(path=target, detail=_("folder {folder} does not exist", folder=folder))
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputError(path=target, detail=_("folder {folder} is not writable", folder=folder))
    if target.is_dir():
        raise OutputError(path=target, detail=_("a folder has that name"))


@contextlib.contextmanager
def atomic_writer(target: Path, *, mode: int = 0o644) -> Iterator[tuple[BinaryIO, Path]]:
    """Yield (stream, temp path); on clean exit the temp file becomes ``target``, else it is removed.

    The caller may inspect the temp path (e.g. a conformance check) before the block ends; raising
    inside the block leaves no file behind.
    """
    folder = target.parent if str(target.parent) else Path(".")
    try:
        fd, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=folder)
    except OSError as exc:
        raise OutputError(path=target, detail=exc.strerror or str(exc)) from None
    temp = Path(temp_name)
    try:
        with os.fdopen(fd, "w+b") as stream:
            yield stream, temp
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temp, mode)
        os.replace(temp, target)
        fsync_dir(folder)
    except OSError as exc:
        temp.unlink(missing_ok=True)
        raise OutputError(path=target, detail=exc.strerror or str(exc)) from None
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def write_bytes_atomic(target: Path, data: bytes) -> None:
    with atomic_writer(target) as (stream, _):
        stream.write(data)
