"""Probe an external program once: where it is, which version, whether it is new enough.

Why: sohoa leans on system programs (tesseract, pdfsig, softhsm2-util). When one is missing or too
old, the clerk or the installer must get one sentence naming the program and the exact ``apt-get``
command that fixes it, at start-up, instead of a ``FileNotFoundError`` deep inside a worker hours later.
Probing runs the program once per process (results are cached) because a version call costs a fork.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from sohoa.common.errors import MissingDependency
from sohoa.common.messages import N_, _

Version = tuple[int, ...]

# The first dotted number in a version banner: "tesseract 5.3.0", "pdfsig version 22.12.0", "2.6.1".
# A bare integer is not accepted by default so "softhsm2-util" or "leptonica-1.82" prefixes do not win
# over the real version when they come first in the banner of some other tool.
DEFAULT_VERSION_PATTERN = r"(?<![\w.])(\d+(?:\.\d+)+)"


class ToolNotFound(MissingDependency):
    code = "tool_not_found"
    text = N_("Program {what} not found ({detail}). Install it with: {fix}")


class ToolTooOld(MissingDependency):
    code = "tool_too_old"
    text = N_("Program {what} at {path} is version {found}; version {needed} or later is needed. Update it with: {fix}")


class ToolBroken(MissingDependency):
    code = "tool_broken"
    text = N_("Program {what} at {path} does not run properly ({detail}). Reinstall it with: {fix}")


@dataclass(frozen=True)
class ToolInfo:
    """What a probe learnt about one program."""

    name: str
    path: Path
    version: Version | None  # None when the banner had no version and none was required
    banner: str  # the version output, first lines only, for diagnostics

    @property
    def version_text(self) -> str:
        return format_version(self.version) if self.version else "?"


def apt_command(*packages: str) -> str:
    """The command an administrator types to install ``packages`` on Debian/Ubuntu."""
    return "apt-get install -y " + " ".join(packages)


def format_version(version: Version) -> str:
    return ".".join(str(part) for part in version)


def parse_version(text: str, pattern: str = DEFAULT_VERSION_PATTERN) -> Version | None:
    """The version in a banner as a tuple of ints, e.g. ``"tesseract 5.3.0\\n leptonica-1.82"`` → (5, 3, 0).

    ``pattern``'s first group (or whole match) must be dotted digits; suffixes such as ``-rc2`` or
    ``-alpha-20201231`` are ignored because only the numeric prefix orders releases.
    """
    match = re.search(pattern, text)
    if match is None:
        return None
    digits = match.group(1) if match.groups() else match.group(0)
    parts = re.findall(r"\d+", digits)
    return tuple(int(p) for p in parts) if parts else None


def probe_tool(
    name: str,
    *,
    apt_package: str,
    min_version: Version | None = None,
    version_args: Sequence[str] = ("--version",),
    version_pattern: str = DEFAULT_VERSION_PATTERN,
    env: Mapping[str, str] | None = None,
    timeout_s: float = 15.0,
) -> ToolInfo:
    """Find ``name`` (a command on PATH or a path), run it with ``version_args`` and check its version.

    Raises ``ToolNotFound``, ``ToolTooOld`` or ``ToolBroken`` (all ``MissingDependency``), whose
    messages carry ``apt-get install -y <apt_package>``. Cached per process and argument set; call
    ``clear_probe_cache()`` after installing something in a long-lived process.
    """
    env_items = tuple(sorted(env.items())) if env is not None else None
    return _probe_cached(name, apt_package, min_version, tuple(version_args), version_pattern, env_items,
                         timeout_s)


def clear_probe_cache() -> None:
    """Forget every probe result (a failed probe is not cached: exceptions escape ``lru_cache``)."""
    _probe_cached.cache_clear()


@lru_cache(maxsize=64)
def _probe_cached(
    name: str,
    apt_package: str,
    min_version: Version | None,
    version_args: tuple[str, ...],
    version_pattern: str,
    env_items: tuple[tuple[str, str], ...] | None,
    timeout_s: float,
) -> ToolInfo:
    fix = apt_command(apt_package)
    found = shutil.which(name)
    if found is None:
        where = _("not an executable file") if os.sep in name else _("not on PATH")
        raise ToolNotFound(what=name, detail=where, fix=fix)
    path = Path(found)
    env = dict(env_items) if env_items is not None else None
    try:
        proc = subprocess.run([str(path), *version_args], capture_output=True, timeout=timeout_s, env=env,
                              stdin=subprocess.DEVNULL, check=False)
    except subprocess.TimeoutExpired:
        detail = _("no answer to {args} within {seconds:g} s", args=" ".join(version_args), seconds=timeout_s)
        raise ToolBroken(what=name, path=path, detail=detail, fix=fix) from None
    except OSError as exc:
        raise ToolBroken(what=name, path=path, detail=exc.strerror or str(exc), fix=fix) from None
    # Programs disagree on where the banner goes (tesseract 4 used stderr, 5 uses stdout): read both.
    banner = (proc.stdout + b"\n" + proc.stderr).decode("utf-8", "replace").strip()
    banner = "\n".join(banner.splitlines()[:3])
    version = parse_version(banner, version_pattern)
    if min_version is not None:
        if version is None:
            detail = _("exit code {code}, cannot read a version from {banner!r}", code=proc.returncode,
                       banner=banner[:120])
            raise ToolBroken(what=name, path=path, detail=detail, fix=fix)
        if version < min_version:
            raise ToolTooOld(what=name, path=path, found=format_version(version),
                             needed=format_version(min_version), fix=fix)
    return ToolInfo(name=name, path=path, version=version, banner=banner)
