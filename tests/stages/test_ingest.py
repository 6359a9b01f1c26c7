"""Ingest: every supported format loads with the right pixels, DPI and passthrough bytes; every bad
input is refused with its typed error before any decoding work."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pikepdf
import pytest
from PIL import Image

from sohoa.common import errors
from sohoa.config.settings import IngestSettings
from sohoa.stages.ingest import load_page, scan_inputs
from tests.scan_pdfs import add_scan_page

SETTINGS = IngestSettings()


def _rgb(width: int = 120, height: int = 80) -> Image.Image:
    image = Image.new("RGB", (width, height), (250, 250, 245))
    image.paste((20, 30, 200), (10, 10, 60, 40))
    return image


def _save(image: Image.Image, path: Path, fmt: str, **kw: object) -> Path:
    image.save(path, format=fmt, **kw)
    return path


def _load_all(paths: list[Path], **kw: object) -> list:
    return [load_page(ref, SETTINGS) for ref in scan_inputs(paths, SETTINGS, **kw)]


def test_natural_order_of_inputs(tmp_path: Path) -> None:
    names = ["scan10.png", "scan2.png", "Scan1.png"]
    paths = [_save(_rgb(), tmp_path / n, "PNG") for n in names]
    refs = scan_inputs(paths, SETTINGS)
    assert [r.path.name for r in refs] == ["Scan1.png", "scan2.png", "scan10.png"]


def test_jpeg_keeps_original_bytes_and_dpi(tmp_path: Path) -> None:
    path = _save(_rgb(), tmp_path / "p.jpg", "JPEG", quality=80, dpi=(200, 200))
    (page,) = _load_all([path])
    assert page.encoded is not None and page.encoded.codec == "jpeg"
    assert page.encoded.data == path.read_bytes(), "JPEG bytes must pass through unchanged"
    assert page.dpi == (200, 200) and page.mode == "color" and page.warnings == []


def test_missing_and_implausible_dpi_fall_back_with_warning(tmp_path: Path) -> None:
    bare = _save(_rgb(), tmp_path / "nodpi.png", "PNG")
    odd = _save(_rgb(), tmp_path / "odd.png", "PNG", dpi=(5, 5))
    pages = _load_all([bare, odd])
    for page in pages:
        assert page.dpi == (SETTINGS.default_dpi, SETTINGS.default_dpi)
        assert page.warnings and "assumed" in page.warnings[0], page.warnings


def test_multipage_tiff_g4_passthrough_and_lzw_colour(tmp_path: Path) -> None:
    bitonal = _rgb().convert("L").point(lambda v: 255 if v > 128 else 0).convert("1")
    g4 = tmp_path / "g4.tif"
    bitonal.save(g4, format="TIFF", compression="group4", dpi=(300, 300), save_all=True,
                 append_images=[bitonal.copy()])
    lzw = _save(_rgb(), tmp_path / "lzw.tif", "TIFF", compression="tiff_lzw", dpi=(300, 300))
    pages = _load_all([g4, lzw])
    assert len(pages) == 3, "two G4 frames + one LZW page"
    assert pages[0].mode == "bitonal" and pages[1].source_index == 1
    assert pages[0].encoded is not None and pages[0].encoded.codec == "ccitt_g4"
    assert pages[0].image[20, 20], "the blue box is dark and must be black (True) after thresholding"
    assert not pages[0].image[70, 100]
    assert pages[2].mode == "color" and pages[2].encoded is None


@pytest.mark.parametrize("mode", ["I;16", "CMYK", "P", "RGBA", "LA", "1", "L"])
def test_image_modes_normalised(tmp_path: Path, mode: str) -> None:
    base = _rgb()
    if mode == "I;16":
        arr = (np.asarray(base.convert("L"), dtype=np.uint16) * 257)
        image = Image.fromarray(arr)
        fmt, name = "PNG", "x.png"
    elif mode == "CMYK":
        image, fmt, name = base.convert("CMYK"), "JPEG", "x.jpg"
    elif mode == "P":
        image, fmt, name = base.convert("P", palette=Image.Palette.ADAPTIVE), "PNG", "x.png"
    elif mode in ("RGBA", "LA"):
        image = base.convert(mode)
        image.putalpha(0)  # fully transparent → must flatten to white
        fmt, name = "PNG", "x.png"
    elif mode == "1":
        image, fmt, name = base.convert("1"), "BMP", "x.bmp"
    else:
        image, fmt, name = base.convert("L"), "BMP", "x.bmp"
    (page,) = _load_all([_save(image, tmp_path / name, fmt)])
    arr = page.image
    if mode in ("RGBA", "LA"):
        assert arr.dtype == np.uint8 and arr.min() == 255, "transparent pixels must become white paper"
    elif mode == "1":
        assert arr.dtype == bool
    else:
        assert arr.dtype == np.uint8 and arr.shape[:2] == (80, 120)
        dark = arr[20, 20] if arr.ndim == 2 else arr[20, 20].mean()
        light = arr[70, 100] if arr.ndim == 2 else arr[70, 100].mean()
        assert dark < light - 60, f"{mode}: content lost ({dark} vs {light})"
    if mode == "CMYK":
        assert page.encoded is None, "CMYK JPEG cannot pass through into an sRGB PDF/A"


def _image_pdf(path: Path, jpeg: bytes, width: int, height: int, *, text: bool = False) -> Path:
    with pikepdf.new() as pdf:
        add_scan_page(pdf, jpeg, width, height, text_ops=b"BT /F1 12 Tf 10 10 Td (old text) Tj ET" if text else None)
        pdf.save(path)
    return path


def test_image_only_pdf_extracts_jpeg_without_reencoding(tmp_path: Path) -> None:
    buf = io.BytesIO()
    _rgb(400, 560).save(buf, format="JPEG", quality=85)
    path = _image_pdf(tmp_path / "scan.pdf", buf.getvalue(), 400, 560)
    (page,) = _load_all([path])
    assert page.encoded is not None and page.encoded.data == buf.getvalue()
    assert page.dpi == pytest.approx((200, 200), abs=0.5)


def test_pdf_with_text_refused_unless_redo(tmp_path: Path) -> None:
    buf = io.BytesIO()
    _rgb().save(buf, format="JPEG")
    path = _image_pdf(tmp_path / "ocred.pdf", buf.getvalue(), 120, 80, text=True)
    with pytest.raises(errors.InputHasText) as info:
        scan_inputs([path], SETTINGS)
    assert "1" in info.value.message("en") and "ocred.pdf" in info.value.message("vi")
    assert len(scan_inputs([path], SETTINGS, redo_ocr=True)) == 1


def test_vector_pdf_page_is_rasterised(tmp_path: Path) -> None:
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(144, 72))
    pdf.pages[0].Contents = pikepdf.Stream(pdf, b"0 0 1 rg 10 10 50 30 re f")
    path = tmp_path / "vector.pdf"
    pdf.save(path)
    (page,) = _load_all([path])
    assert page.image.shape[:2] == (round(1 * SETTINGS.default_dpi), round(2 * SETTINGS.default_dpi))
    assert any("rendered" in w for w in page.warnings)


def _png_header_only(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def _encrypted_pdf(path: Path) -> Path:
    pdf = pikepdf.new()
    pdf.add_blank_page()
    pdf.save(path, encryption=pikepdf.Encryption(owner="o", user="u"))
    return path


def _truncate(data: bytes, keep: float = 0.5) -> bytes:
    return data[: int(len(data) * keep)]


def _bytes(image: Image.Image, fmt: str, **kw: object) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format=fmt, **kw)
    return buf.getvalue()


BAD_INPUTS = {
    "missing": (lambda p: p / "nope.jpg", errors.InputMissing, 10),
    "empty": (lambda p: _write(p / "empty.jpg", b""),
              errors.InputEmpty, 11),
    "truncated_jpeg": (lambda p: _write(p / "t.jpg", _truncate(_bytes(_rgb(600, 600), "JPEG"))),
                       errors.InputCorrupt, 12),
    "truncated_png": (lambda p: _write(p / "t.png", _truncate(_bytes(_rgb(600, 600), "PNG"))), errors.InputCorrupt, 12),
    "truncated_tiff": (lambda p: _write(p / "t.tif", _truncate(_bytes(_rgb(600, 600), "TIFF"), 0.3)),
                       errors.InputCorrupt, 12),
    "truncated_pdf": (lambda p: _write(p / "t.pdf", b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R"),
                      errors.InputCorrupt, 12),
    "text_as_jpeg": (lambda p: _write(p / "letter.jpg", "Kính gửi Ủy ban nhân dân".encode()),
                     errors.InputWrongType, 13),
    "encrypted_pdf": (lambda p: _encrypted_pdf(p / "locked.pdf"), errors.InputEncrypted, 14),
    "bomb_png": (lambda p: _write(p / "bomb.png", _png_header_only(60000, 60000)), errors.InputTooLarge, 15),
    "over_cap_png": (lambda p: _write(p / "big.png", _png_header_only(15000, 15000)), errors.InputTooLarge, 15),
}


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_gets_its_typed_error(tmp_path: Path, case: str) -> None:
    make, error_type, exit_code = BAD_INPUTS[case]
    path = make(tmp_path)
    with pytest.raises(error_type) as info:
        _load_all([path])
    err = info.value
    assert err.exit_code == exit_code, f"{case}: exit code {err.exit_code}"
    assert path.name in err.message("vi") and path.name in err.message("en"), err.message("en")
