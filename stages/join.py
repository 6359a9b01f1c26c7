"""Join page groups into one PDF/A-2B with qpdf, streaming: memory stays flat however long the document.

Why qpdf's command rather than pikepdf: pikepdf keeps every stream copied from another file in memory
until it saves (measured: 742 MB for 400 colour A4 pages), while ``qpdf --pages`` copies stream data
from the group files to the output as it writes (33 MB for the same pages). The document-level parts
(sRGB output intent, XMP, Info) are written by pikepdf into a page-less *shell*; qpdf keeps the
primary input's catalog and trailer and takes its pages from the groups, in the order given.

The join runs in a child process that dies with us (``die_with_parent``); its output goes to the
caller's temp file, which the caller checks (the PDF/A gate) and renames.
qpdf is a run-time dependency from Debian's ``qpdf`` package (``scripts/setup.sh`` installs it).
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import BinaryIO

import pikepdf

from sohoa.common.errors import ProcessingError
from sohoa.common.lifeline import die_with_parent
from sohoa.common.messages import _
from sohoa.common.reasons import foreign
from sohoa.common.tools import ToolInfo, probe_tool
from sohoa.config.settings import OutputSettings
from sohoa.stages.assemble import add_document_parts, save_pdf
from sohoa.stages.model import DocumentMeta

# qpdf 10.1 added --deterministic-id with --pages; Debian 12 has 11.3.
QPDF_MIN_VERSION = (10, 1)
# A join copies bytes; it never needs long. A generous bound still ends a hung child.
SECONDS_PER_GROUP = 60.0


@lru_cache(maxsize=1)
def qpdf_tool() -> ToolInfo:
    """The qpdf program, probed once per process (``MissingDependency`` names the apt command)."""
    return probe_tool("qpdf", apt_package="qpdf", min_version=QPDF_MIN_VERSION)


def join_pdfa(groups: Sequence[Path], meta: DocumentMeta, settings: OutputSettings, stream: BinaryIO, *,
              scratch: Path, now: datetime | None = None, label: str = "") -> None:
    """Write the pages of ``groups`` (in order) with the PDF/A document parts to ``stream``.

    ``stream`` is the caller's temp file (qpdf writes straight into its descriptor, so the caller's
    fsync and rename cover exactly these bytes); the shell is written in ``scratch`` under a private
    name and removed. Raises ``ProcessingError`` (stage "assemble") when qpdf fails or warns: our own
    group files must join cleanly, so a warning means something is wrong with them.
    """
    if not groups:
        raise ProcessingError(path=label, stage="assemble", detail=_("no pages to assemble"))
    qpdf = qpdf_tool()
    fd, shell_name = tempfile.mkstemp(prefix=".join-", suffix=".shell.pdf", dir=scratch)
    shell = Path(shell_name)
    try:
        with os.fdopen(fd, "wb") as shell_stream:
            pdf = pikepdf.new()
            add_document_parts(pdf, meta, settings, now=now)
            save_pdf(pdf, shell_stream)
        args = [str(qpdf.path), "--stream-data=preserve", "--object-streams=disable", "--deterministic-id",
                "--force-version=1.7", str(shell), "--pages", *[str(g) for g in groups], "--", "-"]
        stream.flush()
        try:
            proc = subprocess.run(args, stdout=stream, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                                  check=False, timeout=SECONDS_PER_GROUP * (1 + len(groups)),
                                  preexec_fn=die_with_parent)  # noqa: PLW1509 - only a prctl call
        except subprocess.TimeoutExpired:
            raise ProcessingError(path=label, stage="assemble",
                                  detail=_("joining the page groups took too long")) from None
        if proc.returncode != 0:
            said = proc.stderr.decode("utf-8", "replace").strip().splitlines()
            raise ProcessingError(path=label, stage="assemble", detail=_(
                "joining the page groups failed (qpdf exit code {code}: {detail})", code=proc.returncode,
                detail=foreign(said[0] if said else "")))
    finally:
        shell.unlink(missing_ok=True)
