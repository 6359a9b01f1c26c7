"""A re-scan is filed once: `sohoa process --dossier` twice on the same scan (new PDF bytes each time)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCAN = ROOT / "samples" / "scans" / "page-02.jpg"
CODE = "000.00.31.H50-220906-0001"
OTHER = "000.00.31.H50-220906-0002"


def process(tmp_path: Path, out: str, dossier: str) -> dict:
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    done = subprocess.run([sys.executable, "-m", "sohoa.cli", "process", str(SCAN), "-o", str(tmp_path / out),
                           "--dossier", dossier, "--json", "--lang", "en"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.slow
def test_processing_the_same_scan_again_returns_the_filed_document(tmp_path: Path) -> None:
    first = process(tmp_path, "first.pdf", CODE)
    again = process(tmp_path, "again.pdf", CODE)
    assert first["already_filed"] is False and again["already_filed"] is True
    assert again["attached"]["document_id"] == first["attached"]["document_id"]
    assert again["sha256"] != first["sha256"], "precondition: a second run makes new PDF bytes"
    elsewhere = process(tmp_path, "other.pdf", OTHER)
    assert elsewhere["already_filed"] is False
    assert elsewhere["needs_review"]["dossier"] == CODE
    assert elsewhere["needs_review"]["document_id"] == first["attached"]["document_id"]
