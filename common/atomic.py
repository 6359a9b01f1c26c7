"""Atomic, durable file writes: temp file in the target folder → fsync → rename → fsync folder.

Why: a reader (a clerk, the daemon, a backup) must never see a half-written PDF, and after a power cut a
renamed file must really be there. This module is the one implementation every writer of sohoa uses
(process output, signed PDFs, the content-addressed store, exports, manifests, the web secret):

- the temp name comes from ``tempfile.mkstemp`` in the target's folder: unpredictable (no pid), created
  0600 with ``O_EXCL``, and on the same file system so the rename is atomic. It starts with a dot and
  ends in ``.part`` so watchers, the daemon's scanners and ``store check`` recognise it;
- an optional ``before_publish`` callback runs after the data is durable and before the rename (the
  signing audit line is written there, so no audit line exists for a file that does not, and no file
  exists without its audit line);
- ``exclusive=True`` publishes with ``link`` instead of ``rename``: the target is never replaced, and
  a target that appeared meanwhile raises ``FileExistsError`` (first writer wins, e.g. a secret);
- any exception removes the temp file; an ``OSError`` becomes the caller's typed error (``on_error``,
  by default ``OutputError`` naming the target).

Durability, and where a caller may do less (issue 14): a published file is durable when (1) its data
was fsynced before the rename, (2) the folder holding its name was fsynced after the rename, and (3)
every folder created for it (``make_parents``) has its own entry fsynced in its parent — otherwise a
power cut can drop a fresh ``ab/cd/`` folder of the store together with the file in it. A *step file*
that the caller will itself rename elsewhere, or delete (a signed revision in a job's scratch folder),
needs (1) only: ``sync_dir=False`` skips (2), and the caller fsyncs the folder it renames the file
into (``pipeline.job._gate_signed``). Nothing is released on the strength of a step file's name.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from sohoa.common.errors import OutputError
from sohoa.common.hashing import CHUNK
from sohoa.common.messages import _

TEMP_SUFFIX = ".part"

ErrorMapper = Callable[[OSError], BaseException]


def fsync_dir(folder: Path) -> None:
    """Make a rename or link in ``folder`` durable (the folder's entry list is data too)."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def make_dirs_durable(folder: Path) -> None:
    """Create ``folder`` and missing parents, fsyncing each new folder's parent so its entry survives a
    power cut (``os.makedirs`` alone leaves new entries in the page cache)."""
    missing: list[Path] = []
    current = folder
    while not current.is_dir():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for new in reversed(missing):
        try:
            new.mkdir()
        except FileExistsError:
            if not new.is_dir():
                raise
            continue  # another writer made it: it fsyncs its parent itself
        fsync_dir(new.parent)


def is_temp_name(name: str) -> bool:
    """True for the temp files this module writes (left behind only by a process that was killed)."""
    return name.startswith(".") and name.endswith(TEMP_SUFFIX)


def check_writable_dir(target: Path) -> None:
    """Fail early, before any work, when ``target``'s folder cannot take a new file."""
    folder = target.parent if target.parent != Path("") else Path(".")
    if not folder.is_dir():
        raise OutputError(path=target, detail=_("folder {folder} does not exist", folder=folder))
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputError(path=target, detail=_("folder {folder} is not writable", folder=folder))
    if target.is_dir():
        raise OutputError(path=target, detail=_("a folder has that name"))


def _output_error(target: Path) -> ErrorMapper:
    return lambda exc: OutputError(path=target, detail=exc.strerror or str(exc))


def _publish(temp: Path, target: Path, *, exclusive: bool) -> None:
    if exclusive:
        os.link(temp, target)  # FileExistsError when another writer was first; never replaces
        temp.unlink()
    else:
        os.replace(temp, target)


@contextlib.contextmanager
def atomic_writer(target: Path, *, mode: int = 0o644, before_publish: Callable[[], None] | None = None,
                  exclusive: bool = False, make_parents: bool = False, sync_dir: bool = True,
                  on_error: ErrorMapper | None = None) -> Iterator[tuple[BinaryIO, Path]]:
    """Yield (stream, temp path); on clean exit the temp file becomes ``target``, else it is removed.

    The caller may inspect the temp path (e.g. a conformance check) before the block ends; raising
    inside the block leaves no file behind. ``on_error`` maps an ``OSError`` (of the block or of the
    write itself) to the exception raised instead; ``FileExistsError`` of an exclusive publish is
    raised as it is. ``sync_dir=False``: a step file, see the module's note on durability.
    """
    folder = target.parent if str(target.parent) else Path(".")
    to_error = on_error or _output_error(target)
    try:
        if make_parents:
            make_dirs_durable(folder)
        fd, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=TEMP_SUFFIX, dir=folder)
    except OSError as exc:
        raise to_error(exc) from None
    temp = Path(temp_name)
    try:
        with os.fdopen(fd, "w+b") as stream:
            yield stream, temp
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temp, mode)
        if before_publish is not None:
            before_publish()
        _publish(temp, target, exclusive=exclusive)
        if sync_dir:
            fsync_dir(folder)
    except OSError as exc:
        temp.unlink(missing_ok=True)
        if exclusive and isinstance(exc, FileExistsError):
            raise
        raise to_error(exc) from None
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def write_bytes_atomic(target: Path, data: bytes, *, mode: int = 0o644,
                       before_publish: Callable[[], None] | None = None, exclusive: bool = False,
                       make_parents: bool = False, sync_dir: bool = True, on_error: ErrorMapper | None = None) -> None:
    """``data`` as the whole new content of ``target`` (see ``atomic_writer`` for the options)."""
    with atomic_writer(target, mode=mode, before_publish=before_publish, exclusive=exclusive,
                       make_parents=make_parents, sync_dir=sync_dir, on_error=on_error) as (stream, _):
        stream.write(data)


def copy_atomic(source: BinaryIO, target: Path, *, verify: Callable[[str], None] | None = None,
                mode: int = 0o644, make_parents: bool = False, on_error: ErrorMapper | None = None) -> str:
    """Copy the rest of ``source`` into ``target``, hashing on the way; returns the SHA-256 (hex).

    ``verify(digest)`` runs before the rename: raising there (the bytes are not the ones expected)
    leaves no file. Works across file systems, unlike a rename of the source.
    """
    digest = hashlib.sha256()
    with atomic_writer(target, mode=mode, make_parents=make_parents, on_error=on_error) as (stream, _):
        while chunk := source.read(CHUNK):
            digest.update(chunk)
            stream.write(chunk)
        if verify is not None:
            verify(digest.hexdigest())
    return digest.hexdigest()
