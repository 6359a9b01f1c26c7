"""The one page order: file name first, case-folded and NFC, digit runs as numbers; then the whole path."""

from __future__ import annotations

import unicodedata
from pathlib import Path

from sohoa.common.natsort import natural_key


def test_digit_runs_are_numbers_and_case_does_not_matter() -> None:
    names = ["scan10.png", "scan2.png", "Scan1.png", "SCAN2a.png", "scan02b.png"]
    assert sorted(names, key=natural_key) == ["Scan1.png", "scan2.png", "SCAN2a.png", "scan02b.png", "scan10.png"]


def test_the_name_decides_before_the_folder() -> None:
    paths = [Path("z/trang1.jpg"), Path("a/trang2.jpg"), Path("b/trang1.jpg")]
    assert sorted(paths, key=natural_key) == [Path("b/trang1.jpg"), Path("z/trang1.jpg"), Path("a/trang2.jpg")]
    assert natural_key("a/trang1.jpg") == natural_key(Path("a/trang1.jpg")), "str and Path sort alike"


def test_vietnamese_names_in_either_unicode_form_sort_together() -> None:
    composed = "Đơn đề nghị 2.jpg"
    decomposed = unicodedata.normalize("NFD", "Đơn đề nghị 10.jpg")
    assert decomposed != unicodedata.normalize("NFC", decomposed)
    assert sorted([decomposed, composed], key=natural_key) == [composed, decomposed]
    assert natural_key(unicodedata.normalize("NFD", composed)) == natural_key(composed)
