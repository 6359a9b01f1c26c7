"""Stopping a batch: the first Ctrl-C finishes what runs and starts nothing new, the second forces."""

from __future__ import annotations

import threading
from collections.abc import Callable


class StopFlag:
    """Set by the first SIGINT (finish what runs, start nothing new); ``force`` by the second."""

    def __init__(self) -> None:
        self.requested = threading.Event()
        self.forced = threading.Event()
        self.on_request: list[Callable[[], None]] = []

    def signal(self) -> None:
        if self.requested.is_set():
            self.forced.set()
            return
        self.requested.set()
        for callback in self.on_request:
            callback()
