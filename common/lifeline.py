"""Children that die with their parent: no process outlives the one that started it.

Why: a ``kill -9`` of ``sohoa watch`` (or a crash, or a container stop) once left the forkserver, its
page workers and their OCR helpers running, ~110 MB per kill, because a pool worker holds both ends of
its task queue and never sees end-of-file. Linux's ``PR_SET_PDEATHSIG`` has the kernel SIGKILL the
child as soon as its parent goes. Caveat of the kernel feature: "parent" is the *thread* that started
the child, so start pools and helpers from a long-lived thread (the main thread, a worker's main thread).
"""

from __future__ import annotations

import os
import signal

PR_SET_PDEATHSIG = 1


def die_with_parent(expected_parent: int | None = None) -> bool:
    """Ask the kernel to SIGKILL this process when its parent dies; False where that is unsupported.

    ``expected_parent``: when given and the parent is already another process (it died before the
    request took effect, and this process was adopted), exit at once.
    """
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
            return False
    except (OSError, AttributeError):
        return False  # not Linux/glibc: callers fall back to noticing a closed pipe
    if expected_parent is not None and os.getppid() != expected_parent:
        os._exit(0)
    return True
