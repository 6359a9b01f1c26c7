"""The status page's figures: the daemon's health, the job journal and the digitization rate.

Why read-only queries here rather than new ``Records`` methods: these are report figures for one page
(counts grouped by day and kind), not operations other packages need; they read the records models
and the watch journal table and write nothing.
Digitization rate (the figure provinces report): of the dossiers received in a period, the share with
at least one digitized component, and the share with at least one digitized result.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sohoa.config import Settings
from sohoa.database.engine import translate_errors
from sohoa.records.dossiers import local_today
from sohoa.records.service import Records
from sohoa.runners.watch.journal import WatchJob
from sohoa.web.figures import UnitFigures, month_bounds, per_unit

RECENT_FAILURES = 20


@dataclass
class Rate:
    dossiers: int
    with_components: int
    with_results: int

    def share(self, part: int) -> float | None:
        return None if self.dossiers == 0 else round(100.0 * part / self.dossiers, 1)

    def to_dict(self) -> dict[str, Any]:
        return {"dossiers": self.dossiers, "with_components": self.with_components,
                "with_results": self.with_results, "components_pct": self.share(self.with_components),
                "results_pct": self.share(self.with_results)}


@dataclass
class Status:
    daemon: dict[str, Any] | None
    daemon_error: str | None
    jobs_today: dict[str, int]
    jobs_all: dict[str, int]
    failures: list[dict[str, Any]] = field(default_factory=list)
    today: Rate | None = None
    month: Rate | None = None
    units_today: list[UnitFigures] = field(default_factory=list)  # the same figures per receiving unit
    units_month: list[UnitFigures] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"daemon": self.daemon, "daemon_error": self.daemon_error, "jobs_today": self.jobs_today,
                "jobs_all": self.jobs_all, "recent_failures": self.failures,
                "digitization": {"today": self.today.to_dict() if self.today else None,
                                 "month": self.month.to_dict() if self.month else None}}


def daemon_health(base_url: str, timeout_s: float) -> tuple[dict[str, Any] | None, str | None]:
    """``/healthz`` of the watch daemon: (body, None), or (None, why it could not be read)."""
    url = base_url.rstrip("/") + "/healthz"
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as resp:  # noqa: S310 - URL from the config
            return json.loads(resp.read(1 << 20).decode("utf-8")), None
    except urllib.error.HTTPError as exc:  # 503 still carries the JSON body (stopping, stuck heartbeat)
        try:
            return json.loads(exc.read(1 << 20).decode("utf-8")), None
        except (ValueError, OSError):
            return None, f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return None, str(reason)[:200]


def _stage(result: dict[str, Any] | None) -> str | None:
    """The stage that refused the job's first failed document (ingest, ocr, sign, attach, …)."""
    documents = (result or {}).get("documents") or []
    return next((str(d["stage"]) for d in documents if d.get("stage")), None)


def error_note(settings: Settings, job: WatchJob) -> Path | None:
    """The ``.error.txt`` (or ``.review.txt``) the daemon wrote next to the job's quarantined files, if it
    is still there: in the failed/review folder of the inbox the job came from."""
    folder = next((f for f in settings.watch.folders if f.label() == job.folder), None)
    if folder is None:
        return None
    inbox = settings.resolve(folder.path)
    part, suffix = (folder.review_dir, ".review.txt") if job.state == "review" else (folder.failed_dir, ".error.txt")
    where = folder.sub(inbox, part)
    names = [Path(str(d.get("name"))).name for d in (job.result or {}).get("documents") or [] if d.get("name")]
    names += [Path(s).name for s in job.sources]
    found: list[Path] = []
    for name in dict.fromkeys(names):
        stem = Path(name).stem
        found += [p for pattern in (f"{name}{suffix}", f"{name}-{job.job_id[:8]}{suffix}",
                                    f"{stem}-{job.job_id[:8]}*{suffix}") for p in where.glob(pattern)]
    found = [p for p in found if p.is_file()]
    return max(found, key=lambda p: p.stat().st_mtime) if found else None


def _reasons(result: dict[str, Any] | None) -> dict[str, str]:
    """The job's per-document sentences (``reason_vi``, ``reason_en``) from its journal result, if any.

    Why: ``last_error`` is the English line of the last retry; the page shows the clerk the outcome's
    own sentence in the page's language (the daemon records both with each result).
    """
    documents = (result or {}).get("documents") or []
    return {f"reason_{lang}": "; ".join(str(d[f"reason_{lang}"]) for d in documents if d.get(f"reason_{lang}"))
            for lang in ("vi", "en")}


def _rate(units: list[UnitFigures]) -> Rate:
    """The whole center's rate: a dossier belongs to one unit, so the units' counts add up."""
    return Rate(sum(u.dossiers for u in units), sum(u.with_components for u in units),
                sum(u.with_results for u in units))


def collect(records: Records, health_url: str, timeout_s: float, settings: Settings | None = None) -> Status:
    """The page's figures; with ``settings`` each failure says whether its note file can be opened."""
    daemon, error = daemon_health(health_url, timeout_s)
    today = local_today(records.tz)
    midnight = datetime.combine(today, time.min, tzinfo=records.tz).astimezone(UTC)
    units_today = per_unit(records, today, today)
    units_month = per_unit(records, month_bounds(today)[0], today)
    with translate_errors(records.where), Session(records.engine) as s:
        by_state = dict(s.execute(select(WatchJob.state, func.count()).group_by(WatchJob.state)).all())
        today_rows = s.execute(select(WatchJob.state, func.count()).where(WatchJob.updated_at >= midnight)
                               .group_by(WatchJob.state)).all()
        failed = s.execute(select(WatchJob).where(WatchJob.state.in_(("failed", "review")))
                           .order_by(WatchJob.updated_at.desc()).limit(RECENT_FAILURES)).scalars().all()
        failures = [{"job_id": r.job_id, "folder": r.folder, "sources": list(r.sources), "state": r.state,
                     "dossier_code": r.dossier_code, "reason": r.last_error or "", **_reasons(r.result),
                     "stage": _stage(r.result), "note": settings is not None and error_note(settings, r) is not None,
                     "at": r.updated_at.astimezone(records.tz).isoformat(timespec="seconds")} for r in failed]
    return Status(daemon=daemon, daemon_error=error, jobs_today={k: int(v) for k, v in today_rows},
                  jobs_all={k: int(v) for k, v in by_state.items()}, failures=failures,
                  today=_rate(units_today), month=_rate(units_month), units_today=units_today,
                  units_month=units_month)




def note_of(records: Records, settings: Settings, job_id: str) -> Path | None:
    """The note file of one failed or review job (None when the job or its note is gone)."""
    with translate_errors(records.where), Session(records.engine) as s:
        job = s.get(WatchJob, job_id)
        if job is None or job.state not in ("failed", "review"):
            return None
        return error_note(settings, job)
