"""Batch digitization settings (``sohoa batch``, ``sohoa worker``): grouping, defaults, journal and Celery.

Why settings and not flags: an archive backlog runs for days on several machines, and every machine
(the one that plans and follows the batch, and each worker) must agree on the broker, the signing
profile and the timings; one ``[batch]`` section read by all of them keeps them in step.
The broker URL may carry a password (``redis://:secret@host``): put it in the environment variable
named by ``broker_url_env`` rather than in this file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class CelerySettings(BaseModel):
    """Celery options shared by the producer (``sohoa batch --executor celery``) and ``sohoa worker``."""

    model_config = ConfigDict(extra="forbid")

    queue: str = Field("sohoa-batch", description="Queue the batch tasks go to; workers consume it")
    visibility_timeout_s: int = Field(
        3600, ge=1, description="Redis: an unacknowledged task (its worker died) is redelivered after this long")
    restore_interval_s: int = Field(10, ge=1, description="How often workers look for such tasks")
    concurrency: int = Field(0, ge=0, description="Worker processes per `sohoa worker`; 0 = one per CPU core")
    max_tasks_per_child: int = Field(
        0, ge=0, description="Replace a worker process after this many documents (memory leaks); 0 = never")
    task_time_limit_s: int = Field(0, ge=0, description="Hard limit per document; 0 = none")


class BatchSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    grouping: Literal["file", "folder"] = Field(
        "file", description="Folder trees: one scan file = one document, or one folder's files = one document")
    default_kind: Literal["component", "result", "copy"] = Field(
        "result", description="Kind of document when the manifest row does not say")
    sign_profiles: list[str] = Field(
        default_factory=list, description="Signing profiles applied in order, e.g. ['copy']; empty = not signed")
    default_dossier_code: str = Field(
        "", description="Dossier for tree documents whose path names no dossier code; empty = reported invalid")
    digitized_by: str = Field("", description="Recorded as 'digitized by'; empty = the service user@host")
    low_confidence: float = Field(
        -1.0, ge=-1, le=100, description="Pages under this mean OCR confidence are flagged for review; "
        "-1 = [ocr] low_confidence")
    report_dir: Path = Field(Path("batch-reports"), description="Final reports; relative to data_dir")
    work_dir: Path = Field(Path("batch-work"), description="Temporary PDFs before attach; relative to data_dir")
    workers: int = Field(0, ge=0, description="Local executor: documents processed at once; 0 = one per core")
    split_pages: int = Field(
        50, ge=0, description="Celery executor: a document of more pages is split into page groups of at most "
        "this many pages (equal sizes), processed as tasks of their own and joined in order; 0 = never split")
    split_dir: Path = Field(
        Path("batch-split"), description="Page groups of split documents until the join; on storage every "
        "worker mounts at the same path (like the store); relative to data_dir")
    max_attempts: int = Field(3, ge=1, description="Attempts per document for transient failures")
    retry_delay_s: float = Field(30.0, ge=0, description="Wait before retrying a transient failure (Celery)")
    heartbeat_s: float = Field(
        15.0, gt=0, description="A running document's journal row is refreshed this often; a row silent for "
        "4 heartbeats belongs to a dead worker and is taken over")
    progress_log_s: float = Field(30.0, gt=0, description="Not on a terminal: a progress line this often")
    broker_url: str = Field("redis://127.0.0.1:6379/0", description="Celery broker (Redis)")
    broker_url_env: str = Field(
        "SOHOA_BROKER_URL", description="Environment variable that, when set, overrides broker_url")
    result_backend: str = Field(
        "", description="Celery result backend; empty = none (progress is followed in the journal)")
    celery: CelerySettings = CelerySettings()
