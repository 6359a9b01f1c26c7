"""Test hook: ``SOHOA_TEST_CRASH_AT=<step>`` makes the daemon SIGKILL itself exactly at that step of a job.

Why: the daemon promises that a crash at any instant loses nothing and files nothing twice. A kill at
a random time rarely lands in the narrow windows between two durable steps, so the tests
(``tests/watch/test_kill9.py``) start the daemon once with this variable set, let it die at the
step, restart it without the variable and check the outcome. It is a test hook, not a setting: a center
never sets it. Unset, ``crash_point`` is one comparison with ``None`` (the variable is read once, at
import); a value that is not a step stops the daemon at start-up instead of silently never firing.

The steps, in the order a job passes them (the first job to reach the step kills the process):

- ``claimed``   — sources renamed into the work area and journaled; the job is not queued yet;
- ``planned``   — the job's ``plan.json`` is written; no page processed yet;
- ``processed`` — a document's PDF/A is written (a dot-temp file); not signed yet;
- ``signed``    — its signed output ``doc-N.pdf`` is written; not attached yet;
- ``attached``  — its records row is committed; its outcome marker ``doc-N.json`` is not written yet;
- ``marked``    — the marker is written; the sources have not left the work area yet;
- ``released``  — the sources are in ``done/`` and the journal says done; the work folder still exists.

Between the content store write and the records row (inside ``Records.attach``) there is no hook: from
the runner that is one call, and the records package knows nothing about the daemon.
"""

from __future__ import annotations

import logging
import os
import signal

ENV = "SOHOA_TEST_CRASH_AT"
STEPS = ("claimed", "planned", "processed", "signed", "attached", "marked", "released")

_AT = os.environ.get(ENV) or None
if _AT is not None and _AT not in STEPS:
    raise ValueError(f"{ENV}={_AT!r} is not a step of a watch job; one of: {', '.join(STEPS)}")


def armed() -> str | None:
    """The step this process dies at (for the start-up log), or None."""
    return _AT


def crash_point(step: str) -> None:
    """SIGKILL this process if the hook names ``step``; otherwise return at once."""
    if _AT is not None and _AT == step:
        logging.getLogger("sohoa.watch").warning("test hook %s: SIGKILL at step %s", ENV, step)
        os.kill(os.getpid(), signal.SIGKILL)
