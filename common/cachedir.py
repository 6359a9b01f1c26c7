"""A per-user private cache folder that another local user cannot plant files or links in.

Why: the stamp-font cache once lived at a predictable ``/tmp/sohoa-fonts-<uid>``; as root, another user
could create that folder first and plant a font or a symlink in it. The folder is created 0700 and then
checked with ``lstat`` (a real folder, not a link, ours, no access for others) before any use; when the
check fails, a fresh ``mkdtemp`` folder for this process is used instead and a warning logged.
"""

from __future__ import annotations

import logging
import os
import stat
import tempfile
import threading
from pathlib import Path

log = logging.getLogger(__name__)
_lock = threading.Lock()
_fallback: dict[str, Path] = {}


def _is_private(folder: Path) -> bool:
    try:
        info = os.lstat(folder)
    except FileNotFoundError:
        return False
    return (stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid()
            and stat.S_IMODE(info.st_mode) & 0o077 == 0)


def private_cache_dir(name: str, base: Path | None = None) -> Path:
    """``<base>/<name>-<uid>``, private to this user (base: $XDG_CACHE_HOME, ~/.cache, else the temp folder)."""
    if base is None:
        xdg = os.environ.get("XDG_CACHE_HOME")
        home = Path.home() / ".cache" if Path.home().is_dir() else None
        base = Path(xdg) if xdg else home or Path(tempfile.gettempdir())
    folder = base / f"{name}-{os.getuid()}"
    with _lock:
        try:
            folder.parent.mkdir(parents=True, exist_ok=True)
            folder.mkdir(mode=0o700)
        except FileExistsError:
            pass
        except OSError as exc:
            log.warning("cannot create the cache folder %s (%s); using a temporary one", folder, exc.strerror)
        if _is_private(folder):
            return folder
        if name not in _fallback:
            log.warning("cache folder %s is not a private folder of this user; using a temporary one", folder)
            _fallback[name] = Path(tempfile.mkdtemp(prefix=f"{name}-"))
        return _fallback[name]
