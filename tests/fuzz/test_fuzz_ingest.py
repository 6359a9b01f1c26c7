"""Seeded mutation fuzzing of every scan format: a typed refusal or a page, never an internal error or hang.

Why seeded: a failure must replay. Each case is (format, mutation kind, seed); the mutations are the
damage real files suffer: truncation (an interrupted copy or scanner upload), byte flips in the header
and in the body (a bad disk, a bad network share), a lost or duplicated chunk. Each mutated file goes
through ingest (scan + load), clean and assemble's page preparation in-process; a handful also go
through the real ``sohoa process`` command to check exit codes and that nothing half-written is left.
"""

from __future__ import annotations

import io
import os
import random
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pikepdf
import pytest
from PIL import Image, ImageDraw

from sohoa.common.errors import SohoaError
from sohoa.config.settings import Settings
from sohoa.stages.assemble import prepare_page
from sohoa.stages.clean import clean_page
from sohoa.stages.ingest import load_page, scan_inputs
from tests.stages import mfp_pdfs

SETTINGS = Settings()
CASE_SECONDS = 30
ROUNDS = 3  # mutation rounds per format (each a different seed): about 70 damaged files per format
DOCUMENTED_EXITS = {0, 10, 11, 12, 13, 14, 15, 16, 17, 18, 32}


def _page(mode: str = "RGB") -> Image.Image:
    image = Image.new("RGB", (420, 300), (247, 245, 238))
    draw = ImageDraw.Draw(image)
    for n in range(6):
        draw.rectangle((30, 30 + 40 * n, 360 - 25 * n, 44 + 40 * n), fill=(25, 25, 30))
    return image.convert(mode)


def _encoded(fmt: str, mode: str, **kw: object) -> bytes:
    buf = io.BytesIO()
    _page(mode).save(buf, format=fmt, **kw)
    return buf.getvalue()


def _multipage_g4() -> bytes:
    buf = io.BytesIO()
    first, second = _page("1"), _page("1").rotate(180)
    first.save(buf, format="TIFF", compression="group4", save_all=True, append_images=[second], dpi=(200, 200))
    return buf.getvalue()


def _image_pdf() -> bytes:
    jpeg = _encoded("JPEG", "RGB", quality=80)
    pdf = pikepdf.new()
    image = pdf.make_stream(jpeg, Type=pikepdf.Name.XObject, Subtype=pikepdf.Name.Image, Width=420, Height=300,
                            ColorSpace=pikepdf.Name.DeviceRGB, BitsPerComponent=8, Filter=pikepdf.Name.DCTDecode)
    page = pikepdf.Dictionary(Type=pikepdf.Name.Page, MediaBox=[0, 0, 151.2, 108],
                              Resources=pikepdf.Dictionary(XObject=pikepdf.Dictionary(Im0=image)),
                              Contents=pdf.make_stream(b"q 151.2 0 0 108 0 0 cm /Im0 Do Q"))
    pdf.pages.append(pikepdf.Page(page))
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def _file_pdf(maker, tmp: Path) -> bytes:
    return maker(tmp).read_bytes()


SEEDS = {
    "jpeg": lambda tmp: _encoded("JPEG", "RGB", quality=85, dpi=(300, 300)),
    "png-palette": lambda tmp: _encoded("PNG", "P"),
    "tiff-g4": lambda tmp: _multipage_g4(),
    "tiff-lzw": lambda tmp: _encoded("TIFF", "RGB", compression="tiff_lzw"),
    "bmp": lambda tmp: _encoded("BMP", "L"),
    "pdf-jpeg": lambda tmp: _image_pdf(),
    "pdf-jbig2": lambda tmp: _file_pdf(lambda p: mfp_pdfs.jbig2_pdf(p, dpi=100), tmp / "seed.pdf"),
}


def mutations(data: bytes, seed: int) -> Iterator[tuple[str, bytes]]:
    """Damaged copies of ``data``, the same for the same seed."""
    rng = random.Random(seed)
    n = len(data)
    for cut in sorted({1, 2, 8, 64, n // 4, n // 2, n - 1, *(rng.randrange(1, n) for _ in range(4))}):
        yield f"truncate@{cut}", data[:cut]
    for k in range(4):
        header = bytearray(data)
        for _ in range(rng.randint(1, 4)):
            header[rng.randrange(0, min(n, 64))] ^= 1 << rng.randrange(8)
        yield f"header-flip#{k}", bytes(header)
    for k in range(6):
        body = bytearray(data)
        for _ in range(rng.randint(1, 16)):
            body[rng.randrange(min(n - 1, 64), n)] = rng.randrange(256)
        yield f"body-bytes#{k}", bytes(body)
    start = rng.randrange(n // 4, max(n // 4 + 1, 3 * n // 4))
    length = rng.randint(1, max(1, n // 10))
    yield "chunk-lost", data[:start] + data[start + length:]
    yield "chunk-doubled", data[:start + length] + data[start:]


class Hang(Exception):
    pass


@contextmanager
def deadline(seconds: int) -> Iterator[None]:
    def _alarm(_signum: int, _frame: object) -> None:
        raise Hang(f"no answer within {seconds} s")

    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _run_stages(path: Path) -> str:
    refs = scan_inputs([path], SETTINGS.ingest)
    for ref in refs:
        page = clean_page(load_page(ref, SETTINGS.ingest), SETTINGS.clean)
        prepare_page(page, SETTINGS.output)
    return "page"


@pytest.mark.slow
@pytest.mark.parametrize("fmt", sorted(SEEDS))
def test_mutated_inputs_get_a_page_or_a_typed_refusal(fmt: str, tmp_path: Path,
                                                      record_property: pytest.RecordProperty) -> None:
    data = SEEDS[fmt](tmp_path)
    outcomes: Counter[str] = Counter()
    internal: list[str] = []
    base = sum(map(ord, fmt))
    cases = [(f"{name}/s{k}", damaged) for k in range(ROUNDS)
             for name, damaged in mutations(data, seed=k * 7919 + base)]
    for name, damaged in cases:
        path = tmp_path / f"scan-{name.replace('/', '-').replace('#', '-').replace('@', '-')}.{fmt.split('-')[0]}"
        path.write_bytes(damaged)
        try:
            with deadline(CASE_SECONDS):
                outcomes[_run_stages(path)] += 1
        except SohoaError as err:
            outcomes[err.code] += 1
            assert str(path) in err.message("en") or path.name in err.message("en"), (name, err.message("en"))
        except Exception as exc:  # noqa: BLE001 - the point of the test: report any untyped failure
            internal.append(f"{fmt} {name}: {type(exc).__name__}: {exc}")
    record_property("outcomes", dict(outcomes))
    print(fmt, len(cases), "cases:", dict(outcomes))
    assert not internal, "\n".join(internal)


CLI_CASES = [("jpeg", "truncate@64"), ("tiff-g4", "body-bytes#2"), ("pdf-jpeg", "chunk-lost"),
             ("pdf-jbig2", "body-bytes#1"), ("png-palette", "header-flip#0")]


@pytest.mark.slow
@pytest.mark.parametrize(("fmt", "mutation"), CLI_CASES)
def test_the_command_exits_with_a_documented_code_and_no_partial_output(fmt: str, mutation: str,
                                                                         tmp_path: Path) -> None:
    damaged = dict(mutations(SEEDS[fmt](tmp_path), seed=sum(map(ord, fmt))))[mutation]
    source = tmp_path / f"damaged.{fmt.split('-')[0]}"
    source.write_bytes(damaged)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    done = subprocess.run([sys.executable, "-m", "sohoa.cli", "process", str(source), "-o", str(out_dir / "r.pdf"),
                           "--lang", "en"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode in DOCUMENTED_EXITS, done.stderr
    assert "internal error" not in done.stderr.lower(), done.stderr
    left = sorted(p.name for p in out_dir.iterdir())
    assert left == (["r.pdf"] if done.returncode == 0 else []), left
    if done.returncode:
        assert "damaged" in done.stderr, done.stderr
