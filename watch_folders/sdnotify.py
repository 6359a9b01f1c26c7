"""systemd notifications (``sd_notify``) over the ``NOTIFY_SOCKET`` datagram protocol, no library.

Why our own: the protocol is one datagram of ``KEY=VALUE`` lines to a Unix socket named in the
environment (a leading ``@`` means the abstract namespace); outside systemd the variable is unset and
every call is a no-op, so the daemon can call it unconditionally.
"""

from __future__ import annotations

import os
import socket


class Notifier:
    def __init__(self, address: str | None = None) -> None:
        self.address = address if address is not None else os.environ.get("NOTIFY_SOCKET", "")

    @property
    def enabled(self) -> bool:
        return bool(self.address)

    def notify(self, **fields: str) -> bool:
        """Send e.g. ``READY="1"``, ``STATUS="..."``; returns False (never raises) when it cannot."""
        if not self.address:
            return False
        target = "\0" + self.address[1:] if self.address.startswith("@") else self.address
        payload = "\n".join(f"{key}={value}" for key, value in fields.items()).encode("utf-8")
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
                sock.connect(target)
                sock.sendall(payload)
            return True
        except OSError:
            return False

    def ready(self, status: str = "") -> bool:
        return self.notify(READY="1", STATUS=status) if status else self.notify(READY="1")

    def watchdog(self) -> bool:
        return self.notify(WATCHDOG="1")

    def stopping(self) -> bool:
        return self.notify(STOPPING="1")

    @staticmethod
    def watchdog_interval() -> float | None:
        """Half of ``WATCHDOG_USEC`` (seconds) when systemd asks for pings to this process, else None."""
        usec = os.environ.get("WATCHDOG_USEC")
        pid = os.environ.get("WATCHDOG_PID")
        if not usec or (pid and pid != str(os.getpid())):
            return None
        try:
            return max(0.5, int(usec) / 2_000_000)
        except ValueError:
            return None
