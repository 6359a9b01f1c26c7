"""Inbox scanning: which files are stable, which open cleanly, and how they group into documents.

Why a scan (and not only events): inotify misses everything on network shares, events can be lost
when the kernel queue overflows, and files present at start-up produce no event at all. Observers
only make the next scan come sooner; the scan itself decides. Grouping modes:
``file`` (one file = one unit), ``subfolder`` (a top-level folder = one unit), ``batch`` and
``cover_sheet`` (all top-level files once the inbox has been quiet for ``quiet_period_s``; cover-sheet
splitting happens later, in the pipeline, because it needs the page images).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sohoa.common.natsort import natural_key
from sohoa.config.watch import WatchFolder, WatchSettings
from sohoa.watch_folders import rules
from sohoa.watch_folders.stability import StabilityTracker

log = logging.getLogger("sohoa.watch")

OpenCheck = Callable[[Path], "str | None"]  # None = opens cleanly, else the reason it does not


@dataclass
class Unit:
    """Files that will become one job (one document, or several after cover-sheet splitting)."""

    folder: WatchFolder
    inbox: Path
    name: str
    sources: list[Path]
    sidecars: list[Path] = field(default_factory=list)
    root: Path | None = None  # the subfolder, for subfolder units
    dossier_code: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    stable_at: float = 0.0  # monotonic time the unit became ready
    unreadable: str | None = None  # reason, when a stable file never opened (it will be failed)

    def relative(self, path: Path) -> str:
        return path.relative_to(self.inbox).as_posix()


class Inbox:
    """One watched folder: its tracker, its reserved sub-folders, its grouping rule."""

    def __init__(self, folder: WatchFolder, inbox: Path, settings: WatchSettings, code_pattern: str) -> None:
        self.folder = folder
        self.path = inbox
        self.settings = settings
        self.code_pattern = folder.dossier_code_pattern or code_pattern
        self.tracker = StabilityTracker(settings.stable_seconds)
        self.reserved = {folder.sub(inbox, p).resolve() for p in
                         (folder.done_dir, folder.failed_dir, folder.review_dir, folder.work_dir)}
        if folder.output_dir is not None:
            self.reserved.add(folder.sub(inbox, folder.output_dir).resolve())
        self._checks: dict[tuple[Path, int, int], str | None] = {}

    def ensure_dirs(self) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        for part in (self.folder.done_dir, self.folder.failed_dir, self.folder.review_dir, self.folder.work_dir):
            self.folder.sub(self.path, part).mkdir(parents=True, exist_ok=True)

    @property
    def work(self) -> Path:
        return self.folder.sub(self.path, self.folder.work_dir)

    # --- listing -------------------------------------------------------------------------------

    def _entries(self, folder: Path) -> list[os.DirEntry[str]]:
        try:
            with os.scandir(folder) as it:
                return [e for e in it if not rules.is_ignored(e.name, self.settings.ignore)]
        except FileNotFoundError:
            return []

    def _observe(self, entry_path: Path, now: float) -> bool:
        """Stat and track one file; True when it is stable."""
        try:
            st = entry_path.stat()
        except FileNotFoundError:
            self.tracker.forget(entry_path)
            return False
        seen = self.tracker.observe(entry_path, st.st_size, st.st_mtime_ns, now)
        return seen.stable_since is not None

    def _files_under(self, folder: Path) -> list[Path]:
        found: list[Path] = []
        for entry in self._entries(folder):
            if entry.is_dir(follow_symlinks=False):
                found.extend(self._files_under(Path(entry.path)))
            elif entry.is_file(follow_symlinks=False):
                found.append(Path(entry.path))
        return found

    def _open_state(self, path: Path, check: OpenCheck) -> str | None:
        seen = self.tracker.get(path)
        key = (path, seen.size if seen else -1, seen.mtime_ns if seen else -1)
        if key not in self._checks:
            self._checks[key] = check(path)
        return self._checks[key]

    def _readiness(self, path: Path, check: OpenCheck, now: float) -> tuple[bool, str | None]:
        """(ready, reason): ready with no reason = opens; ready with a reason = bad file past the grace."""
        reason = self._open_state(path, check)
        if reason is None:
            return True, None
        seen = self.tracker.get(path)
        stable_for = now - seen.changed_at if seen else 0.0
        return stable_for >= self.settings.unreadable_grace_s, reason

    # --- scanning ------------------------------------------------------------------------------

    def scan(self, now: float, check: OpenCheck) -> list[Unit]:
        """Ready units, oldest first. Files already claimed are gone from the inbox, so never repeat."""
        top_files: list[Path] = []
        subfolders: list[Path] = []
        for entry in self._entries(self.path):
            path = Path(entry.path)
            if entry.is_dir(follow_symlinks=False):
                if path.resolve() not in self.reserved:
                    subfolders.append(path)
            elif entry.is_file(follow_symlinks=False):
                top_files.append(path)
        alive: set[Path] = set()
        units: list[Unit] = []
        inputs = [p for p in top_files if not rules.is_sidecar(p)]
        stable = {p for p in inputs if self._observe(p, now)}
        alive.update(inputs)
        grouping = self.folder.grouping
        if grouping in ("file", "subfolder"):
            for path in sorted(stable, key=natural_key):
                units.extend(self._single(path, check, now))
        else:
            units.extend(self._batch(inputs, stable, check, now))
        if grouping == "subfolder":
            for sub in subfolders:
                files = [p for p in self._files_under(sub)]
                alive.update(files)
                unit = self._subfolder(sub, files, check, now)
                if unit is not None:
                    units.append(unit)
        self.tracker.prune(alive)
        self._checks = {k: v for k, v in self._checks.items() if k[0] in alive}
        return units

    def _single(self, path: Path, check: OpenCheck, now: float) -> list[Unit]:
        ready, reason = self._readiness(path, check, now)
        if not ready:
            return []
        unit = Unit(self.folder, self.path, path.name, [path], stable_at=now, unreadable=reason)
        self._route(unit, path.name, rules.sidecar_for(path))
        return [unit]

    def _batch(self, inputs: list[Path], stable: set[Path], check: OpenCheck, now: float) -> list[Unit]:
        if not inputs or len(stable) < len(inputs):
            return []
        if now - self.tracker.last_change(inputs) < max(self.folder.quiet_period_s, self.settings.stable_seconds):
            return []
        good: list[Path] = []
        units: list[Unit] = []
        for path in sorted(inputs, key=natural_key):
            ready, reason = self._readiness(path, check, now)
            if not ready:
                return []  # a file that may still be arriving holds the batch back
            if reason is None:
                good.append(path)
            else:
                units.append(Unit(self.folder, self.path, path.name, [path], stable_at=now, unreadable=reason))
        if good:
            unit = Unit(self.folder, self.path, good[0].stem, good, stable_at=now)
            self._route(unit, good[0].name, rules.sidecar_for(good[0]))
            units.insert(0, unit)
        return units

    def _subfolder(self, sub: Path, files: list[Path], check: OpenCheck, now: float) -> Unit | None:
        inputs = [p for p in files if not rules.is_sidecar(p)]
        if not inputs:
            return None
        if not all(self._observe(p, now) for p in files):
            return None
        if now - self.tracker.last_change(files) < max(self.folder.quiet_period_s, self.settings.stable_seconds):
            return None
        reasons = []
        for path in inputs:
            ready, reason = self._readiness(path, check, now)
            if not ready:
                return None
            if reason is not None:
                reasons.append(reason)
        unit = Unit(self.folder, self.path, sub.name, sorted(inputs, key=natural_key),
                    root=sub, stable_at=now, unreadable="; ".join(reasons) or None)
        unit.sidecars = [p for p in files if rules.is_sidecar(p)]
        self._route(unit, sub.name, rules.folder_sidecar(sub))
        return unit

    def _route(self, unit: Unit, name: str, sidecar: Path | None) -> None:
        """Dossier code: sidecar JSON first (it is explicit), else the name pattern, else the default."""
        if self.folder.sidecar_json and sidecar is not None and sidecar.is_file():
            if sidecar not in unit.sidecars:
                unit.sidecars.append(sidecar)
            try:
                code, meta = rules.parse_sidecar(sidecar.read_text(encoding="utf-8"),
                                                 self.settings.cover_sheet.keys)
                unit.dossier_code, unit.meta = code, meta
            except (ValueError, UnicodeDecodeError, json.JSONDecodeError) as exc:
                unit.meta = {"sidecar_error": f"{sidecar.name}: {exc}"}
        if unit.dossier_code is None:
            unit.dossier_code = rules.code_from_name(name, self.code_pattern)
        if unit.dossier_code is None and self.folder.default_dossier_code:
            unit.dossier_code = self.folder.default_dossier_code

    def oldest_waiting(self, now: float) -> float:
        oldest = self.tracker.oldest()
        return 0.0 if oldest is None else now - oldest
