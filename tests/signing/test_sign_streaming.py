"""Signing goes from file to file: a large input is never held in memory whole, nor its output.

Why: an archival file of 1,000 pages is ~0.5-1 GB; signing it through ``bytes`` once took 4.3 GB for
733 MB. pyHanko copies and digests in chunks when given files. Here a 48 MB PDF (the test PDF/A plus
a large stream) is signed under ``tracemalloc``: Python's peak allocation must stay far below the
file's size (it was several times the size before).
"""

from __future__ import annotations

import os
import tracemalloc
from pathlib import Path

import pikepdf
import pytest

from sohoa.config.signing import SigningSettings
from sohoa.signing import sign_pdf
from tests.pki import TestPki
from tests.signing.checks import validate_all

PADDING = 48 * 2**20


def _large(src: Path, target: Path) -> Path:
    with pikepdf.open(src) as pdf:
        pdf.Root.SohoaTestPadding = pdf.make_indirect(pikepdf.Stream(pdf, os.urandom(PADDING)))
        pdf.save(target)
    return target


@pytest.mark.parametrize("level", ["B-B", "B-LTA"])
def test_a_large_file_is_signed_without_holding_it_in_memory(level: str, src_pdf: Path, tmp_path: Path,
                                                             signing_settings: SigningSettings,
                                                             pki: TestPki) -> None:
    large = _large(src_pdf, tmp_path / "large.pdf")
    dst = tmp_path / "out" / "signed.pdf"
    tracemalloc.start()
    try:
        result = sign_pdf(large, dst, profile="organization", settings=signing_settings, level=level)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.level == level
    assert peak < PADDING // 4, f"signing a {PADDING >> 20} MB file peaked at {peak >> 20} MB of Python memory"
    assert dst.stat().st_size > PADDING
    assert not validate_all(dst, pki, level)
