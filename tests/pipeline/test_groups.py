"""Long documents in page groups: written in groups and joined by qpdf, in order, as a valid PDF/A.

Every page gets its own width (a few pixels more than the one before), so the order of the output's
pages is checked from their MediaBox, whatever the OCR reads.
"""

from __future__ import annotations

import io
import os
import subprocess
from pathlib import Path

import pikepdf
import pytest
from PIL import Image, ImageDraw, ImageFont

from sohoa.common.errors import MissingDependency, ProcessingError
from sohoa.common.tools import clear_probe_cache
from sohoa.config.settings import Settings
from sohoa.pipeline.groups import GroupOutcome, count_pages, group_paths, join_groups, load_group, process_group
from sohoa.pipeline.job import DocumentJob, run_document_job
from sohoa.pipeline.run import process_document
from sohoa.stages.conformance import check_pdfa
from sohoa.stages.join import qpdf_tool
from sohoa.stages.model import DocumentMeta

FONT = Path("/usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf")
DPI = 200
BASE = 820


def _pages(folder: Path, count: int) -> list[Path]:
    paths = []
    font = ImageFont.truetype(str(FONT), 30)
    for n in range(count):
        image = Image.new("RGB", (BASE + 8 * n, 1160), (250, 248, 240))
        draw = ImageDraw.Draw(image)
        for line in range(6):
            draw.text((80, 200 + 60 * line), f"Trang {n + 1}: hồ sơ số {line + 1}", fill=(20, 20, 30), font=font)
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=85, dpi=(DPI, DPI))
        path = folder / f"page-{n + 1:03d}.jpg"
        path.write_bytes(buffer.getvalue())
        paths.append(path)
    return paths


def _widths(pdf_path: Path) -> list[int]:
    with pikepdf.open(pdf_path) as pdf:
        return [round(float(p.mediabox[2]) * DPI / 72) for p in pdf.pages]


def _settings(group_pages: int) -> Settings:
    settings = Settings()
    settings.output.group_pages = group_pages
    settings.ocr.workers = 2
    settings.clean.orientation = False  # short lines of text on a small page: not what is tested here
    return settings


def test_a_document_longer_than_a_group_is_joined_in_order_as_pdfa(tmp_path: Path) -> None:
    inputs = _pages(tmp_path, 7)
    output = tmp_path / "out" / "long.pdf"
    output.parent.mkdir()
    result = process_document(inputs, output, _settings(3), meta=DocumentMeta(title="Hồ sơ dài"))
    assert _widths(output) == [BASE + 8 * n for n in range(7)]
    assert check_pdfa(output) == []
    with pikepdf.open(output) as pdf:
        assert str(pdf.docinfo["/Title"]) == "Hồ sơ dài"
        assert "/OutputIntents" in pdf.Root and "/Metadata" in pdf.Root
    assert result.page_count == 7 and [p.label for p in result.pages] == [p.name for p in inputs]
    assert os.listdir(output.parent) == ["long.pdf"]  # spool, groups and shell are gone


def test_a_long_pdf_from_other_producers_is_joined_in_order(tmp_path: Path) -> None:
    """Pages written by Pillow's PDF writer and joined by poppler's pdfunite: a producer that is not us."""
    singles = []
    for path in _pages(tmp_path, 7):
        with Image.open(path) as image:
            single = path.with_suffix(".pdf")
            image.save(single, "PDF", resolution=DPI)
            singles.append(single)
    joined = tmp_path / "in" / "archive.pdf"
    joined.parent.mkdir()
    subprocess.run(["pdfunite", *map(str, singles), str(joined)], check=True, capture_output=True)
    output = tmp_path / "out" / "archive.pdf"
    output.parent.mkdir()
    result = process_document([joined], output, _settings(3))
    assert _widths(output) == [BASE + 8 * n for n in range(7)]
    assert check_pdfa(output) == [] and result.page_count == 7
    assert all("Trang" in p.text for p in result.pages)


def test_one_group_and_many_groups_give_the_same_pages_and_text(tmp_path: Path) -> None:
    inputs = _pages(tmp_path, 4)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    one = process_document(inputs, tmp_path / "a" / "x.pdf", _settings(50))
    many = process_document(inputs, tmp_path / "b" / "x.pdf", _settings(1))
    assert _widths(tmp_path / "a" / "x.pdf") == _widths(tmp_path / "b" / "x.pdf")
    assert [p.text for p in one.pages] == [p.text for p in many.pages]
    assert "Trang" in " ".join(p.text for p in many.pages)


def test_groups_processed_apart_join_once_and_a_redone_group_replaces_its_files(tmp_path: Path) -> None:
    inputs = _pages(tmp_path, 5)
    settings = _settings(50)
    assert count_pages(inputs, settings) == 5
    folder = tmp_path / "groups"
    folder.mkdir()
    made = [process_group(inputs, settings, first=first, count=count, folder=folder, layout_pages={0, 4})
            for first, count in ((0, 2), (2, 2), (4, 1))]
    again = process_group(inputs, settings, first=2, count=2, folder=folder)  # a worker died: redone
    expected = [path.name for first in (0, 2, 4) for path in group_paths(folder, first)]
    assert sorted(p.name for p in folder.iterdir()) == sorted(expected)
    loaded = [load_group(folder, first) for first in (4, 0, 2)]  # any order: the join sorts
    assert loaded[1] is not None and loaded[1].pages[0].layout is not None  # the layout survived JSON
    assert [g.first for g in loaded if g] == [4, 0, 2] and again.count == 2
    output = tmp_path / "joined.pdf"
    result = join_groups([g for g in loaded if g], output, settings, extract_layout=True)
    assert _widths(output) == [BASE + 8 * n for n in range(5)]
    assert check_pdfa(output) == [] and result.page_count == 5
    assert [p.text for p in result.pages] == [p.text for g in made for p in g.pages]


def test_a_missing_or_doubled_group_is_refused_and_nothing_written(tmp_path: Path) -> None:
    inputs = _pages(tmp_path, 3)
    settings = _settings(50)
    folder = tmp_path / "groups"
    folder.mkdir()
    first = process_group(inputs, settings, first=0, count=1, folder=folder)
    last = process_group(inputs, settings, first=2, count=1, folder=folder)
    output = tmp_path / "joined.pdf"
    for groups in ([first, last], [first, first, last]):
        with pytest.raises(ProcessingError) as info:
            join_groups(groups, output, settings)
        assert "page groups" in info.value.message("en") and info.value.fields["stage"] == "join"
        assert not output.exists()


def test_group_records_round_trip_through_json(tmp_path: Path) -> None:
    inputs = _pages(tmp_path, 1)
    folder = tmp_path / "g"
    folder.mkdir()
    made = process_group(inputs, _settings(50), first=0, count=1, folder=folder, layout_pages={0})
    back = GroupOutcome.from_json(made.to_json())
    assert back == made


def test_the_job_joins_given_groups_instead_of_processing(tmp_path: Path) -> None:
    inputs = _pages(tmp_path, 2)
    settings = _settings(50)
    folder = tmp_path / "g"
    folder.mkdir()
    groups = [process_group(inputs, settings, first=i, count=1, folder=folder) for i in (0, 1)]
    output = tmp_path / "job.pdf"
    result = run_document_job(DocumentJob(inputs=[tmp_path / "not-read.jpg"], output=output), settings,
                              groups=groups)
    assert _widths(output) == [BASE, BASE + 8] and result.process.page_count == 2


def test_without_qpdf_a_long_document_names_the_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    inputs = _pages(tmp_path, 3)
    (tmp_path / "bin").mkdir()
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    qpdf_tool.cache_clear()
    clear_probe_cache()
    try:
        with pytest.raises(MissingDependency) as info:
            process_document(inputs, tmp_path / "x.pdf", _settings(1))
        assert "apt-get install -y qpdf" in info.value.message("en")
        assert not (tmp_path / "x.pdf").exists()
    finally:
        qpdf_tool.cache_clear()
        clear_probe_cache()
