"""The per-document savings of issue 14 change nothing in the output.

- The stamp font's accumulator without GSUB/GPOS/GDEF (``pyhanko_compat.LayoutFreeAccumulatorFactory``)
  embeds byte-for-byte the subset pyHanko's own accumulator embeds.
- ``sohoa process`` without ``--sign`` or ``--dossier`` never imports pyHanko or SQLAlchemy.
"""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest
from pyhanko.pdf_utils.font.opentype import GlyphAccumulatorFactory
from pyhanko.pdf_utils.writer import PdfFileWriter

from sohoa.config.signing import Appearance
from sohoa.signing.pyhanko_compat import LayoutFreeAccumulatorFactory, pdf_ready_font

TEXT = "Ký bởi: Nguyễn Văn Hưởng\nNgày ký: 2026-12-01T20:29:14+07:00 — Trung tâm Phục vụ hành chính công"


def _subset(factory_type: type[GlyphAccumulatorFactory], font: Path) -> tuple[bytes, list[object]]:
    engine = factory_type(str(font), font_size=9).create_font_engine(PdfFileWriter())
    shaped = [engine.shape(line) for line in TEXT.splitlines()]
    engine.tt.recalcTimestamp = False  # before prepare_write, whose save would stamp the current second
    engine.prepare_write()
    out = io.BytesIO()
    engine.tt.save(out)
    return out.getvalue(), [s.graphics_ops for s in shaped]


def test_layout_free_accumulator_embeds_the_same_subset() -> None:
    font = pdf_ready_font(Appearance().font)
    theirs, their_ops = _subset(GlyphAccumulatorFactory, font)
    ours, our_ops = _subset(LayoutFreeAccumulatorFactory, font)
    assert our_ops == their_ops  # shaping (HarfBuzz, from the file's bytes) is untouched
    assert ours == theirs


@pytest.mark.parametrize("flags", [[], ["--dossier", "000.00.31.H50-240115-0001"]])
def test_process_without_sign_imports_no_pyhanko(tmp_path: Path, flags: list[str]) -> None:
    """Only what a document needs is imported: no signing library unless it is signed."""
    from tests.watch.pages import page_image, save

    page = save(page_image("Giấy tiếp nhận hồ sơ", size_mm=(148, 210)), tmp_path / "p.jpg")
    config = tmp_path / "sohoa.toml"
    config.write_text(f'data_dir = "{tmp_path / "var"}"\n[ocr]\nlanguages = "vie"\nworkers = 1\n', encoding="utf-8")
    probe = ("import sys; from sohoa.cli.main import main; rc = main(sys.argv[1:]); "
             "print(sorted({m.split('.')[0] for m in sys.modules} & {'pyhanko', 'sqlalchemy'}), file=sys.stderr); "
             "sys.exit(rc)")
    done = subprocess.run([sys.executable, "-c", probe, "process", str(page), "-o", str(tmp_path / "out.pdf"),
                           "--config", str(config), "-q", *flags], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    loaded = done.stderr.strip().splitlines()[-1]
    assert loaded == ("['sqlalchemy']" if flags else "[]")
