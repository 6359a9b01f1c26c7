"""Observers: native (inotify) or polling per folder; they only wake the scanner up early.

Why both: inotify never fires for changes made by another machine on SMB/NFS shares, so such
folders use watchdog's ``PollingObserver``; local folders get instant events. Neither is trusted to
be complete: the scanner's periodic tick and full rescan decide what is stable.
"""

from __future__ import annotations

import threading
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver
from watchdog.observers.polling import PollingObserver


class _Wake(FileSystemEventHandler):
    def __init__(self, wake: threading.Event, counter: list[int]) -> None:
        self.wake = wake
        self.counter = counter

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type in ("opened", "closed_no_write"):
            return
        self.counter[0] += 1
        self.wake.set()


class Observers:
    """One observer per folder (native or polling), all setting the same wake-up event."""

    def __init__(self, wake: threading.Event, poll_interval_s: float) -> None:
        self.wake = wake
        self.poll_interval_s = poll_interval_s
        self.events = [0]
        self._observers: list[BaseObserver] = []

    def watch(self, folder: Path, *, polling: bool) -> None:
        observer: BaseObserver = (PollingObserver(timeout=self.poll_interval_s) if polling else Observer())
        observer.schedule(_Wake(self.wake, self.events), str(folder), recursive=True)
        observer.daemon = True
        observer.start()
        self._observers.append(observer)

    def kinds(self) -> list[str]:
        return [type(o).__name__ for o in self._observers]

    def stop(self) -> None:
        for observer in self._observers:
            observer.stop()
        for observer in self._observers:
            observer.join(timeout=5)
        self._observers.clear()
