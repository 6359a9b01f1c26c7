"""Keep the cyclic garbage collector off a long-running process's settled heap (issue 14).

Why: once the watch daemon has started and filed its first documents it holds ~200,000 long-lived
objects (pyHanko, SQLAlchemy, fontTools, the OCR lexicon, parsed keys). CPython runs a full collection,
which walks every one of them, whenever enough new objects have survived; the allocation-heavy steps
of a document (CMS encoding, font tables) get there every few documents. Measured in the daemon's
process (``bench/bench_per_document.py``, in-process): ~15 ms of main-process CPU per document, a
sixth of its fixed cost. ``gc.freeze()`` moves the objects that exist now into a permanent generation
that collections skip; whatever later documents allocate is collected as before, and reference
counting still frees frozen objects that are released. A collection runs first, so no garbage cycle
is frozen; what a later document turns into cyclic garbage among frozen objects stays until exit
(at most a few documents' worth, once).

Settled after each of the first ``SETTLE_AFTER`` jobs: the first job imports signing and records and
fills the per-process caches (keys, fonts, subsets), the next ones what is loaded lazily after that.
"""

from __future__ import annotations

import gc
import threading

SETTLE_AFTER = 3

_lock = threading.Lock()
_settled = 0


def settle_after_job() -> bool:
    """Freeze the heap after each of the process's first ``SETTLE_AFTER`` jobs; True when it did."""
    global _settled
    with _lock:
        if _settled >= SETTLE_AFTER:
            return False
        _settled += 1
        gc.collect()
        gc.freeze()
        return True
