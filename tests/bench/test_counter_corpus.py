"""The counter benchmark's corpus (bench/counter_corpus.py) stays reproducible and true to its pages.

Why: the benchmark compares runs made on different days; if the generator drifted (a new random draw,
a font that went missing, a page whose truth no longer matches what was drawn), the figures would
silently stop being comparable. No timing here: speed belongs to bench/.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pikepdf
import pytest
from PIL import Image

from bench.counter_corpus import SEED, CounterDoc, counter_corpus

FAST = (100,)  # the same drawing at a quarter of the pixels of 200 dpi: the layout and damage code is the same


def _fingerprint(docs: list[CounterDoc], folder: Path) -> list[tuple[str, str, list[str], str]]:
    """Per document: name, format, each page's truth, and the digest of the files the scanner writes."""
    out = []
    for doc in docs:
        digest = hashlib.sha256()
        for path in doc.write(folder / doc.name):
            digest.update(path.name.encode() + path.read_bytes())
        out.append((doc.name, doc.fmt, [p.text for p in doc.pages], digest.hexdigest()))
    return out


def _pages_in(paths: list[Path]) -> int:
    if len(paths) > 1 or paths[0].suffix in (".jpg", ".png"):
        return len(paths)
    if paths[0].suffix == ".pdf":
        with pikepdf.open(paths[0]) as pdf:
            return len(pdf.pages)
    with Image.open(paths[0]) as tiff:
        return tiff.n_frames


def test_same_seed_same_documents_other_seed_other_documents(tmp_path: Path) -> None:
    first = _fingerprint(counter_corpus(4, dpis=FAST), tmp_path / "a")
    again = _fingerprint(counter_corpus(4, seed=SEED, dpis=FAST), tmp_path / "b")
    other = _fingerprint(counter_corpus(4, seed=SEED + 1, dpis=FAST), tmp_path / "c")
    assert first == again
    assert [f[3] for f in first] != [f[3] for f in other]
    assert {f[1] for f in first} == {"jpeg", "png", "tiff", "pdf"}  # every format is exercised


def test_truth_matches_the_pages_written(tmp_path: Path) -> None:
    docs = counter_corpus(6, dpis=FAST)
    for doc in docs:
        files = doc.write(tmp_path / "docs" / doc.name)
        assert 1 <= len(doc.pages) <= 4
        assert _pages_in(files) == len(doc.pages)
        assert len(doc.page_files(tmp_path / "pages")) == len(doc.pages)
        for page in doc.pages:
            assert (page.text == "") == (page.family == "blank"), (doc.name, page.family)
            assert page.text == page.text.strip() and "\n\n" not in page.text
    families = {p.family for d in docs for p in d.pages}
    assert {"two_column", "table", "form", "decree30", "margin_notes", "receipt", "blank"} <= families


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (the second producer) is not installed")
def test_office_pages_come_from_libreoffice_with_their_truth() -> None:
    docs = counter_corpus(7, dpis=FAST)  # the seventh document starts with the LibreOffice page
    office = [p for d in docs for p in d.pages if p.family == "office"]
    assert office
    for page in office:
        assert page.text.count("\n") >= 8  # heading, six paragraphs, the table's rows
        assert page.image.getextrema() != ((255, 255), (255, 255), (255, 255))  # something was drawn
