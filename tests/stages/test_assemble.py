"""Assemble: real PDFs built from small synthetic pages, read back with pikepdf and poppler."""

from __future__ import annotations

import io
import re
import subprocess
import unicodedata
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pikepdf
import pytest
from PIL import Image, ImageDraw, ImageFont

from bench.corpus import font_paths, render_page
from sohoa.config.settings import OutputSettings
from sohoa.stages import textlayer
from sohoa.stages.assemble import PreparedPage, build_pdfa, prepare_page
from sohoa.stages.conformance import check_pdfa
from sohoa.stages.encode import _g4, otsu_black
from sohoa.stages.model import DocumentMeta, EncodedImage, OcrLine, OcrWord, Page, PageOcr

FONT = Path("/usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf")
DPI = 100.0
LINES = [["Cộng", "hòa", "xã", "hội"], ["Độc", "lập", "Tự", "do", "Hạnh", "phúc"]]
NOW = datetime(2024, 6, 20, 9, 30, tzinfo=timezone(timedelta(hours=7)))


def draw_page(lines: list[list[str]] = LINES, size: tuple[int, int] = (700, 300)) -> tuple[Image.Image, PageOcr]:
    """White page with the words drawn in black; OCR boxes = the drawn boxes (upright frame)."""
    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    face = ImageFont.truetype(str(FONT), 36)
    ocr_lines = []
    y = 40
    for words in lines:
        x, boxes = 40, []
        for word in words:
            box = draw.textbbox((x, y), word, font=face)
            draw.text((x, y), word, font=face, fill="black")
            # OCR engines may hand us decomposed text: give the first word in NFD on purpose
            text = unicodedata.normalize("NFD", word) if word == words[0] else word
            boxes.append(OcrWord(text, box, 95.0))
            x = box[2] + 18
        line_box = (boxes[0].box[0], min(b.box[1] for b in boxes), boxes[-1].box[2], max(b.box[3] for b in boxes))
        ocr_lines.append(OcrLine(boxes, line_box))
        y += 70
    return image, PageOcr(ocr_lines, languages="vie")


def jpeg_bytes(image: Image.Image, quality: int = 80) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="JPEG", quality=quality)
    return buf.getvalue()


def jpeg_page(image: Image.Image, ocr: PageOcr | None = None, **kw: object) -> Page:
    data = jpeg_bytes(image)
    decoded = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    h, w = decoded.shape[:2]
    return Page(decoded, (DPI, DPI), Path("scan.jpg"), encoded=EncodedImage("jpeg", data, w, h), ocr=ocr, **kw)


def build(pages: list[Page], settings: OutputSettings | None = None, meta: DocumentMeta | None = None) -> bytes:
    settings = settings or OutputSettings()
    prepared = [prepare_page(p, settings) for p in pages]
    out = io.BytesIO()
    build_pdfa(prepared, meta or DocumentMeta(title="Giấy tiếp nhận hồ sơ", dossier_code="000.00.31.H50-220906-0001",
                                             kind="component", author="Nguyễn Văn Hưởng"),
               settings, out, now=NOW)
    return out.getvalue()


def poppler(tmp_path: Path, data: bytes, *args: str) -> str:
    path = tmp_path / "out.pdf"
    path.write_bytes(data)
    result = subprocess.run(["pdftotext", *args, str(path), "-"], capture_output=True, text=True, check=True)
    return result.stdout


def render(tmp_path: Path, data: bytes, dpi: int = 50) -> np.ndarray:
    path = tmp_path / "render.pdf"
    path.write_bytes(data)
    subprocess.run(["pdftoppm", "-r", str(dpi), "-gray", "-singlefile", str(path), str(tmp_path / "r")], check=True)
    return np.asarray(Image.open(tmp_path / "r.pgm"))


_OPEN: list[pikepdf.Pdf] = []  # keeps the Pdf alive while a test looks at one of its streams


def image_of(data: bytes) -> pikepdf.Stream:
    pdf = pikepdf.open(io.BytesIO(data))
    _OPEN[:] = [pdf]
    return pdf.pages[0].Resources.XObject.Im0


@pytest.fixture(scope="module")
def text_pdf() -> bytes:
    image, ocr = draw_page()
    return build([jpeg_page(image, ocr)])


def test_text_layer_reads_back_in_order_nfc(text_pdf: bytes, tmp_path: Path) -> None:
    text = poppler(tmp_path, text_pdf)
    lines = [line for line in text.replace("\f", "").splitlines() if line.strip()]
    expected = [" ".join(words) for words in LINES]
    assert lines == expected, f"pdftotext gave {lines!r}, expected {expected!r}"
    assert unicodedata.is_normalized("NFC", text), "extracted text is not NFC"


def test_word_boxes_match_ocr_boxes(text_pdf: bytes, tmp_path: Path) -> None:
    html = poppler(tmp_path, text_pdf, "-bbox")
    found = [(m[4], [float(v) for v in m[0:4]]) for m in re.findall(
        r'xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]+)<', html)]
    _image, ocr = draw_page()
    scale = 72.0 / DPI
    expected = [(unicodedata.normalize("NFC", w.text), [v * scale for v in w.box]) for w in ocr.words]
    assert [t for t, _ in found] == [t for t, _ in expected], f"words differ: {found}"
    for (text, got), (_t, want) in zip(found, expected, strict=True):
        # x edges follow the word box exactly; y edges follow the line box (font size = line height)
        assert abs(got[0] - want[0]) < 1.0 and abs(got[2] - want[2]) < 1.0, f"{text}: x {got} vs {want}"
        assert abs(got[1] - want[1]) < 6.0 and abs(got[3] - want[3]) < 6.0, f"{text}: y {got} vs {want}"


def test_jpeg_source_is_embedded_byte_identical() -> None:
    image, ocr = draw_page()
    page = jpeg_page(image, ocr)
    assert page.encoded is not None
    data = build([page])
    stream = image_of(data)
    assert stream.Filter == pikepdf.Name.DCTDecode
    assert stream.read_raw_bytes() == page.encoded.data, "JPEG bytes were changed"
    overhead = len(data) - len(page.encoded.data)
    print(f"jpeg page: {len(data)} bytes/page, overhead {overhead} bytes")
    assert overhead < 12_000, f"PDF adds {overhead} bytes around a {len(page.encoded.data)}-byte JPEG"


def upright_test_image() -> Image.Image:
    """Upright page with one black block in the top-left corner region."""
    image = Image.new("RGB", (400, 600), "white")
    ImageDraw.Draw(image).rectangle([40, 40, 160, 120], fill="black")
    return image


@pytest.mark.parametrize("rotation, skew", [(90, 0.0), (180, 0.0), (270, 0.0), (90, 3.0), (0, -4.0)])
def test_rotated_and_skewed_source_renders_upright(rotation: int, skew: float, tmp_path: Path) -> None:
    upright = upright_test_image()
    # The scan is the upright page turned back: skewed clockwise by `skew`, then counter-clockwise by `rotation`.
    source = upright.rotate(-skew, fillcolor="white").rotate(rotation, expand=True)
    page = jpeg_page(source, rotation=rotation, skew=skew)
    data = build([page])
    assert image_of(data).read_raw_bytes() == page.encoded.data, "rotation must not re-encode the JPEG"
    pdf = pikepdf.open(io.BytesIO(data))
    assert [float(v) for v in pdf.pages[0].MediaBox] == [0, 0, 288, 432], "page box is not the upright frame"
    pixels = render(tmp_path, data)  # 50 dpi: the 400x600 px page at 100 dpi renders as 200x300
    ys, xs = np.nonzero(pixels < 128)
    assert len(xs) > 500, "block not found in the rendering"
    cx, cy = xs.mean() / pixels.shape[1], ys.mean() / pixels.shape[0]
    want_x, want_y = 100 / 400, 80 / 600
    assert abs(cx - want_x) < 0.04 and abs(cy - want_y) < 0.04, f"block centre at ({cx:.2f}, {cy:.2f})"


def bitonal_block() -> np.ndarray:
    black = np.zeros((300, 400), dtype=bool)
    black[30:90, 30:150] = True
    return black


def test_bitonal_page_is_g4_with_black_ink(tmp_path: Path) -> None:
    page = Page(bitonal_block(), (DPI, DPI), Path("scan.tif"))
    data = build([page])
    stream = image_of(data)
    assert stream.Filter == pikepdf.Name.CCITTFaxDecode and stream.DecodeParms.K == -1
    assert stream.BitsPerComponent == 1
    pixels = render(tmp_path, data, dpi=100)
    assert pixels[60, 90] < 64, "ink rendered white: G4 polarity is wrong"
    assert pixels[200, 300] > 192, "paper rendered black: G4 polarity is wrong"


def test_scanner_g4_bytes_pass_through() -> None:
    black = bitonal_block()
    g4 = _g4(black).data
    page = Page(black, (DPI, DPI), Path("scan.tif"), encoded=EncodedImage("ccitt_g4", g4, 400, 300, 1))
    stream = image_of(build([page]))
    assert stream.read_raw_bytes() == g4, "scanner G4 bytes were re-encoded"


def test_cmyk_jpeg_is_converted_to_rgb() -> None:
    image, _ocr = draw_page()
    buf = io.BytesIO()
    image.convert("CMYK").save(buf, format="JPEG", quality=80)
    cmyk = buf.getvalue()
    rgb = np.asarray(Image.open(io.BytesIO(cmyk)).convert("RGB"))
    page = Page(rgb, (DPI, DPI), Path("scan.jpg"), encoded=EncodedImage("jpeg", cmyk, 700, 300, components=4))
    data = build([page])
    stream = image_of(data)
    assert stream.ColorSpace == pikepdf.Name.DeviceRGB, f"colour space {stream.ColorSpace}"
    assert stream.read_raw_bytes() != cmyk
    assert check_pdfa(data) == []


def test_lossless_source_policy() -> None:
    image, _ocr = draw_page()
    pixels = np.asarray(image.convert("RGB")).copy()
    pixels[40:90, 500:650] = (30, 60, 200)  # a blue stamp: a few flat colours, not a photograph
    page = Page(pixels, (DPI, DPI), Path("scan.png"))
    few = image_of(build([page]))
    assert few.Filter == pikepdf.Name.FlateDecode, "few-colour content must stay lossless"
    decoded = np.asarray(pikepdf.PdfImage(few).as_pil_image().convert("RGB"))
    assert np.array_equal(decoded, pixels), "Flate path is not lossless"
    rng = np.random.default_rng(3)
    photo = np.clip(pixels.astype(np.int16) + rng.normal(0, 25, pixels.shape), 0, 255).astype(np.uint8)
    assert image_of(build([Page(photo, (DPI, DPI), Path("photo.png"))])).Filter == pikepdf.Name.DCTDecode, \
        "photographic colour should become JPEG"
    kept = image_of(build([Page(photo, (DPI, DPI), Path("photo.png"))], OutputSettings(recompress_lossless=False)))
    assert kept.Filter == pikepdf.Name.FlateDecode


def base_space(stream: pikepdf.Stream) -> pikepdf.Name:
    """The device space of an image, through an /Indexed palette if it has one."""
    space = stream.ColorSpace
    return space[1] if isinstance(space, pikepdf.Array) and space[0] == pikepdf.Name.Indexed else space


def test_content_decides_the_encoding_not_the_container() -> None:
    image, _ocr = draw_page()
    grey = np.asarray(image.convert("L"))
    as_rgb = np.dstack([grey] * 3)
    stream = image_of(build([Page(as_rgb, (DPI, DPI), Path("grey-as-rgb.png"))]))
    assert base_space(stream) == pikepdf.Name.DeviceGray and stream.Filter == pikepdf.Name.FlateDecode
    two_level = np.where(grey < 128, 0, 255).astype(np.uint8)
    stream = image_of(build([Page(two_level, (DPI, DPI), Path("two-level.png"))]))
    assert stream.Filter == pikepdf.Name.CCITTFaxDecode, f"two grey levels are bitonal, got {stream.Filter}"


def test_palette_text_page_does_not_grow(tmp_path: Path) -> None:
    """The issue's case: a clean text page stored as a palette PNG became a PDF 2.7 times its size."""
    sp = render_page(["ỦY BAN NHÂN DÂN TỈNH QUẢNG TRỊ", "Giấy tiếp nhận hồ sơ và hẹn trả kết quả"] * 12,
                     font=font_paths()[0], dpi=300)
    source = tmp_path / "palette.png"
    sp.image.convert("RGB").quantize(colors=16).save(source)
    pixels = np.asarray(Image.open(source).convert("RGB"))
    data = build([Page(pixels, (300, 300), source)])
    stream = image_of(data)
    assert stream.Filter == pikepdf.Name.FlateDecode and base_space(stream) == pikepdf.Name.DeviceGray
    assert check_pdfa(data) == []
    # was 2.7x the source as an RGB JPEG; a 4-bit indexed Flate is within a few per cent of the PNG
    assert len(stream.read_raw_bytes()) <= 1.1 * source.stat().st_size, "the page image grew beyond its source"


def test_gray_and_bitonal_modes() -> None:
    image, ocr = draw_page()
    grey = image_of(build([jpeg_page(image, ocr)], OutputSettings(image_mode="gray")))
    assert grey.ColorSpace == pikepdf.Name.DeviceGray and grey.Filter == pikepdf.Name.DCTDecode
    page = jpeg_page(image, ocr)
    page.ocr_image = np.asarray(image.convert("L"))
    prepared = prepare_page(page, OutputSettings(image_mode="bitonal"))
    assert prepared.image.filter == "CCITTFaxDecode" and prepared.image.how == "g4-ocr-image"
    assert prepared.placement == (504.0, 0.0, 0.0, 216.0, 0.0, 0.0), prepared.placement


def test_otsu_separates_ink_from_paper_in_grey_and_colour() -> None:
    rng = np.random.default_rng(7)
    paper = np.clip(rng.normal(215, 12, (120, 160)), 0, 255).astype(np.uint8)
    ink = np.zeros_like(paper, dtype=bool)
    ink[30:60, 20:140] = True
    grey = np.where(ink, np.clip(rng.normal(45, 12, paper.shape), 0, 255).astype(np.uint8), paper)
    assert np.array_equal(otsu_black(grey), ink), "ink and paper are far apart: Otsu must split them exactly"
    colour = np.dstack([grey, grey, grey])
    assert np.array_equal(otsu_black(colour), ink), "an RGB page binarises like its grey version"
    assert not otsu_black(np.full((20, 20), 255, np.uint8)).any(), "a blank page has no ink"
    assert otsu_black(ink) is ink, "a bitonal mask is returned as it is"


def test_output_conforms_and_metadata_agrees(text_pdf: bytes) -> None:
    assert check_pdfa(text_pdf) == [], [str(v) for v in check_pdfa(text_pdf)]
    assert text_pdf.startswith(b"%PDF-1.7\n%")
    pdf = pikepdf.open(io.BytesIO(text_pdf))
    meta = pdf.open_metadata()
    assert meta["pdfaid:part"] == "2" and meta["pdfaid:conformance"] == "B"
    assert meta["dc:title"] == "Giấy tiếp nhận hồ sơ" == str(pdf.docinfo.Title)
    xmp = pdf.Root.Metadata.read_bytes().decode()
    assert "<sohoa:dossierCode>000.00.31.H50-220906-0001</sohoa:dossierCode>" in xmp
    assert str(pdf.docinfo.CreationDate) == "D:20240620093000+07'00'"
    assert "2024-06-20T09:30:00+07:00" in xmp


def test_output_is_deterministic() -> None:
    image, ocr = draw_page()
    assert build([jpeg_page(image, ocr)]) == build([jpeg_page(image, ocr)])


def test_glyphless_font_is_consistent() -> None:
    assert textlayer.build_glyphless_font() == textlayer.build_glyphless_font(), "font bytes not deterministic"
    assert textlayer.glyphless_font() == textlayer.build_glyphless_font(), (
        f"{textlayer.GLYPHLESS_FILE} is not what build_glyphless_font() makes: write it again (its docstring)")
    gid_map = textlayer.cid_to_gid_map()
    assert set(gid_map[0::2]) == {0} and set(gid_map[1::2]) == {1}, "some CID maps to a GID other than 1"
    assert textlayer.encode_text("a\U0001F600b") == b"\x00a\xff\xfd\x00b", "non-BMP not replaced"
    pdf = pikepdf.new()
    font = textlayer.add_font(pdf)
    assert textlayer.cid_width_problem(font.DescendantFonts[0]) is None


def test_page_text_and_many_pages() -> None:
    image, ocr = draw_page()
    pages = [prepare_page(jpeg_page(image, ocr), OutputSettings()) for _ in range(3)]
    assert all(isinstance(p, PreparedPage) for p in pages)
    assert [p.text for p in pages] == [ocr.text()] * 3
    out = io.BytesIO()
    build_pdfa(pages, DocumentMeta(), OutputSettings(), out, now=NOW)
    assert len(pikepdf.open(io.BytesIO(out.getvalue())).pages) == 3
    assert check_pdfa(out.getvalue()) == []
