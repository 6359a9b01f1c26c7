"""Stability tracking: a file is taken only after its size and mtime stopped changing for a while.

Why: scanners and copy tools write files in several steps (and SMB clients extend them in chunks); a
file taken early is a truncated scan. The tracker is pure (the caller passes ``stat`` results and the
time), so the rules are tested without sleeping.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass
class Seen:
    size: int
    mtime_ns: int
    first_seen: float  # monotonic time the file was first noticed
    changed_at: float  # monotonic time size or mtime last changed
    stable_since: float | None = None  # set once it has been quiet for the stable period


class StabilityTracker:
    """Remembers (size, mtime) per path; ``stable`` lists paths quiet for ``quiet_s`` seconds."""

    def __init__(self, quiet_s: float) -> None:
        self.quiet_s = quiet_s
        self._seen: dict[Path, Seen] = {}

    def observe(self, path: Path, size: int, mtime_ns: int, now: float) -> Seen:
        entry = self._seen.get(path)
        if entry is None:
            entry = Seen(size, mtime_ns, now, now)
            self._seen[path] = entry
        elif (entry.size, entry.mtime_ns) != (size, mtime_ns):
            entry.size, entry.mtime_ns, entry.changed_at, entry.stable_since = size, mtime_ns, now, None
        if entry.stable_since is None and now - entry.changed_at >= self.quiet_s:
            entry.stable_since = now
        return entry

    def is_stable(self, path: Path) -> bool:
        entry = self._seen.get(path)
        return entry is not None and entry.stable_since is not None

    def forget(self, path: Path) -> None:
        self._seen.pop(path, None)

    def prune(self, alive: set[Path]) -> None:
        """Drop paths that vanished (taken, deleted, renamed by the scanner software)."""
        for path in [p for p in self._seen if p not in alive]:
            del self._seen[path]

    def get(self, path: Path) -> Seen | None:
        return self._seen.get(path)

    def oldest(self) -> float | None:
        """Monotonic first-seen time of the oldest waiting file (for the metrics)."""
        return min((s.first_seen for s in self._seen.values()), default=None)

    def last_change(self, paths: list[Path]) -> float:
        return max((self._seen[p].changed_at for p in paths if p in self._seen), default=0.0)

    def __len__(self) -> int:
        return len(self._seen)
