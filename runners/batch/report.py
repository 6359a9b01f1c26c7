"""Batch progress (rich bar on a terminal, plain log lines otherwise) and the final report (CSV + JSON + summary).

Why both forms of progress: a batch started by hand wants a live bar (documents, pages, pages/min,
ETA, failures), while one started by systemd or cron writes to a journal file where a redrawn bar is
noise; there, one line every ``progress_log_s`` says the same. The report is computed from the journal
(not from what this process saw), so a batch followed on one machine and run on others, or stopped and
resumed, still reports every document exactly once.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from sohoa.common.atomic import write_bytes_atomic
from sohoa.common.messages import N_, normalize_lang, pgettext, translate
from sohoa.runners.batch.journal import ItemInfo, RunInfo
from sohoa.runners.batch.manifest import RowProblem

log = logging.getLogger("sohoa.batch")

PROGRESS = N_("{docs}/{total} documents, {pages} pages, {rate:.1f} pages/min, ETA {eta}, failed {failed}")
SUMMARY_HEAD = N_("Batch {run}: {planned} documents")
SUMMARY_STOPPED = N_("Batch {run} (stopped part-way): {planned} documents")
SUMMARY_COUNTS = N_("processed: {processed}, already done: {done}, skipped (same content): {skipped}, failed: "
                    "{failed}, not finished: {unfinished}, invalid rows: {invalid}")
SUMMARY_PAGES = N_("{pages} pages in {seconds:.0f} s ({rate:.1f} pages/min), mean OCR confidence {confidence}, "
                   "{review} pages to review (< {limit})")
SUMMARY_FAILED = N_("failed {item}: {reason}")
SUMMARY_INVALID = N_("invalid: {problem}")
SUMMARY_REPORT = N_("report: {csv} , {json}")

CSV_COLUMNS = ("item", "line", "files", "dossier_code", "kind", "state", "attempts", "pages", "mean_confidence",
               "low_confidence_pages", "document_id", "sha256", "seconds", "error_code", "error_stage",
               "reason_vi", "reason_en")


class ProgressView:
    """Documents and pages done, pages/min, ETA and failures; ``advance`` after each finished document."""

    def __init__(self, *, total_docs: int, total_pages: int, done_docs: int, lang: str, log_every_s: float,
                 tty: bool | None = None, quiet: bool = False) -> None:
        self.total_docs, self.total_pages = total_docs, total_pages
        self.docs, self.pages, self.failed = done_docs, 0, 0
        self.lang = lang
        self.started = time.monotonic()
        self.log_every_s = log_every_s
        self.last_log = self.started
        self.quiet = quiet
        self._progress: Progress | None = None
        self._task: TaskID | None = None
        if not quiet and (sys.stderr.isatty() if tty is None else tty):
            label = pgettext("batch progress", "Documents").render(normalize_lang(lang))
            self._progress = Progress(TextColumn(f"[bold]{label}"), BarColumn(), TextColumn("{task.fields[line]}"),
                                      TimeElapsedColumn(), console=Console(stderr=True))
            self._progress.start()
            self._task = self._progress.add_task("batch", total=max(total_docs, 1), completed=done_docs,
                                                 line=self.line())

    @property
    def pages_per_min(self) -> float:
        minutes = (time.monotonic() - self.started) / 60
        return self.pages / minutes if minutes > 0 else 0.0

    def eta_s(self, remaining_pages: int) -> float | None:
        rate = self.pages_per_min
        return remaining_pages / rate * 60 if rate > 0 and remaining_pages > 0 else None

    def line(self, remaining_pages: int | None = None) -> str:
        remaining = remaining_pages if remaining_pages is not None else max(0, self.total_pages - self.pages)
        eta = self.eta_s(remaining)
        eta_text = "?" if eta is None else time.strftime("%H:%M:%S", time.gmtime(eta))
        return translate(PROGRESS, normalize_lang(self.lang), docs=self.docs, total=self.total_docs, pages=self.pages,
                         rate=self.pages_per_min, eta=eta_text, failed=self.failed)

    def advance(self, *, docs: int = 1, pages: int = 0, failed: int = 0, remaining_pages: int | None = None) -> None:
        self.docs += docs
        self.pages += pages
        self.failed += failed
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, completed=self.docs, line=self.line(remaining_pages))
            return
        now = time.monotonic()
        if not self.quiet and (now - self.last_log >= self.log_every_s or self.docs >= self.total_docs):
            self.last_log = now
            log.warning("%s", self.line(remaining_pages))  # warning: shown at the CLI's default log level

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None


@dataclass
class Summary:
    run_id: int
    source: str
    manifest: str | None
    executor: str
    workers: int
    started_at: str
    finished_at: str
    wall_s: float
    planned: int
    processed: int
    already_done: int
    skipped_duplicates: int
    failed: int
    not_finished: int
    invalid_rows: int
    pages: int
    pages_per_min: float
    mean_confidence: float | None
    low_confidence_threshold: float
    review_pages: list[dict[str, Any]] = field(default_factory=list)
    failures: list[dict[str, Any]] = field(default_factory=list)
    invalid: list[dict[str, Any]] = field(default_factory=list)
    interrupted: bool = False
    report_csv: str = ""
    report_json: str = ""

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def summarize(run: RunInfo, items: list[ItemInfo], problems: list[RowProblem], *, since: datetime,
              wall_s: float, executor: str, workers: int, threshold: float, interrupted: bool) -> Summary:
    """Counts for this invocation: ``processed`` = filed now, ``already_done`` = filed by an earlier run."""
    now_done = [i for i in items if i.state == "done" and i.finished_at is not None and i.finished_at >= since]
    now_ids = {i.id for i in now_done}
    earlier = [i for i in items if i.state == "done" and i.id not in now_ids]
    pages = sum(i.pages or 0 for i in now_done)
    weighted = [(i.mean_confidence, i.pages or 1) for i in now_done if i.mean_confidence is not None]
    weight = sum(w for _, w in weighted)
    mean = round(sum(c * w for c, w in weighted) / weight, 1) if weight else None
    review = [{"item": i.item_key, "dossier_code": i.dossier_code, "document_id": i.document_id,
               "pages": i.low_confidence_pages} for i in items if i.state == "done" and i.low_confidence_pages]
    failures = [{"item": i.item_key, "line": i.line, "dossier_code": i.dossier_code, "error": i.error_code,
                 "stage": i.error_stage, "reason_vi": i.error_vi, "reason_en": i.error_en}
                for i in items if i.state == "failed"]
    return Summary(
        run_id=run.id, source=run.source, manifest=run.manifest, executor=executor, workers=workers,
        started_at=since.isoformat(), finished_at=datetime.now(UTC).isoformat(), wall_s=round(wall_s, 2),
        planned=len(items), processed=len(now_done), already_done=len(earlier),
        skipped_duplicates=sum(1 for i in items if i.state == "skipped"), failed=len(failures),
        not_finished=sum(1 for i in items if i.state in ("queued", "running", "split")), invalid_rows=len(problems),
        pages=pages, pages_per_min=round(pages / (wall_s / 60), 1) if wall_s > 0 else 0.0, mean_confidence=mean,
        low_confidence_threshold=threshold, review_pages=review, failures=failures,
        invalid=[p.to_dict() for p in problems], interrupted=interrupted,
    )


def _csv_rows(items: list[ItemInfo], problems: list[RowProblem]) -> list[list[object]]:
    rows: list[list[object]] = []
    for i in items:
        conf = "" if i.mean_confidence is None else round(i.mean_confidence, 1)
        rows.append([i.item_key, i.line or "", "|".join(i.inputs), i.dossier_code, i.kind, i.state, i.attempts,
                     i.pages or "", conf, " ".join(map(str, i.low_confidence_pages)), i.document_id or "",
                     i.output_sha256 or "", i.seconds or "", i.error_code or "", i.error_stage or "",
                     i.error_vi or "", i.error_en or ""])
    for p in problems:
        rows.append([p.value, p.line or "", p.value, "", "", "invalid", 0, "", "", "", "", "", "",
                     "invalid_row", p.column, p.vi, p.en])
    return rows


def write_report(summary: Summary, items: list[ItemInfo], problems: list[RowProblem], folder: Path) -> Summary:
    """``batch-<run>-<time>.csv`` (one row per document and bad row) and ``.json``, written atomically."""
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"batch-{summary.run_id}-{datetime.now(UTC):%Y%m%dT%H%M%SZ}"
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    writer.writerows(_csv_rows(items, problems))
    csv_path, json_path = folder / f"{stem}.csv", folder / f"{stem}.json"
    write_bytes_atomic(csv_path, buffer.getvalue().encode("utf-8-sig"))  # BOM: Excel opens it as UTF-8
    summary.report_csv, summary.report_json = str(csv_path), str(json_path)
    data = {"summary": summary.to_dict(), "items": [_item_dict(i) for i in items]}
    write_bytes_atomic(json_path, json.dumps(data, ensure_ascii=False, indent=1, default=str).encode("utf-8"))
    return summary


def _item_dict(i: ItemInfo) -> dict[str, Any]:
    return {"item": i.item_key, "line": i.line, "inputs": i.inputs, "dossier_code": i.dossier_code, "kind": i.kind,
            "state": i.state, "attempts": i.attempts, "pages": i.pages, "mean_confidence": i.mean_confidence,
            "low_confidence_pages": i.low_confidence_pages, "document_id": i.document_id,
            "sha256": i.output_sha256, "seconds": i.seconds, "error": i.error_code, "stage": i.error_stage,
            "reason_vi": i.error_vi, "reason_en": i.error_en, "content_sha256": i.content_sha256,
            "timings": i.timings}


def summary_text(s: Summary, lang: str) -> str:
    """The printed summary, in the clerk's language."""
    conf = "-" if s.mean_confidence is None else f"{s.mean_confidence:.1f}"
    review = sum(len(r["pages"]) for r in s.review_pages)
    limit = f"{s.low_confidence_threshold:g}"
    lang = normalize_lang(lang)
    head = SUMMARY_STOPPED if s.interrupted else SUMMARY_HEAD
    lines = [translate(head, lang, run=s.run_id, planned=s.planned),
             "  " + translate(SUMMARY_COUNTS, lang, processed=s.processed, done=s.already_done,
                              skipped=s.skipped_duplicates, failed=s.failed, unfinished=s.not_finished,
                              invalid=s.invalid_rows),
             "  " + translate(SUMMARY_PAGES, lang, pages=s.pages, seconds=s.wall_s, rate=s.pages_per_min,
                              confidence=conf, review=review, limit=limit)]
    lines += ["  " + translate(SUMMARY_FAILED, lang, item=f["item"], reason=f[f"reason_{lang}"]) for f in s.failures]
    lines += ["  " + translate(SUMMARY_INVALID, lang, problem=_problem_line(p, lang)) for p in s.invalid]
    lines.append("  " + translate(SUMMARY_REPORT, lang, csv=s.report_csv, json=s.report_json))
    return "\n".join(lines)


def _problem_line(p: dict[str, Any], lang: str) -> str:
    problem = RowProblem(p["line"], p["column"], p["value"], p["reason_vi"], p["reason_en"])
    return problem.sentence(lang)
