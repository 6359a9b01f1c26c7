"""Naming rules of an inbox: what is ignored, where a dossier code hides in a name or a sidecar JSON.

Why pure functions: the scanner, the grouping and the tests all ask the same questions, and none of
them needs the file system to answer (the sidecar reader takes already-read text).
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

SIDECAR_SUFFIX = ".json"
FOLDER_SIDECARS = ("dossier.json", "ho-so.json", "hoso.json")


def is_ignored(name: str, patterns: Iterable[str]) -> bool:
    """Temporary, hidden and office lock files are never inputs (a scanner writes ``x.tmp`` first)."""
    return any(fnmatch.fnmatchcase(name, p) or fnmatch.fnmatchcase(name.lower(), p.lower()) for p in patterns)


def is_sidecar(path: Path) -> bool:
    return path.suffix.lower() == SIDECAR_SUFFIX


def code_from_name(name: str, pattern: str) -> str | None:
    """The first match of ``pattern`` in ``name`` (its ``code`` group when it has one), upper-cased."""
    match = re.search(pattern, name, flags=re.IGNORECASE)
    if match is None:
        return None
    if "code" in match.re.groupindex and match.group("code"):
        return match.group("code").upper()
    return match.group(0).upper()


def parse_sidecar(text: str, keys: Sequence[str]) -> tuple[str | None, dict[str, Any]]:
    """(dossier code, metadata) from a sidecar JSON object; raises ``ValueError`` when it is not one."""
    data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError("the sidecar JSON is not an object")
    code = None
    for key in keys:
        value = data.get(key)
        if isinstance(value, str) and value.strip():
            code = value.strip().upper()
            break
    return code, data


def sidecar_for(path: Path) -> Path:
    """``scan-01.jpg`` → ``scan-01.json`` (the sidecar of a file)."""
    return path.with_suffix(SIDECAR_SUFFIX)


def folder_sidecar(folder: Path) -> Path | None:
    for name in FOLDER_SIDECARS:
        candidate = folder / name
        if candidate.is_file():
            return candidate
    return None
