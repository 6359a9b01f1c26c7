"""OCR stage against the real Tesseract (the default languages, vie) on small rendered pages, through both engines."""

from __future__ import annotations

import importlib.util
import os
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from bench.corpus import SENTENCES, font_paths, render_page
from sohoa.common.errors import MissingDependency, ProcessingError
from sohoa.config.settings import OcrSettings
from sohoa.stages.model import Page
from sohoa.stages.ocr import (
    OcrEngine,
    SubprocessEngine,
    WarmEngine,
    get_engine,
    make_engine,
    ocr_page,
    parse_hocr,
)

HAVE_TESSEROCR = importlib.util.find_spec("tesserocr") is not None
ENGINES = ["subprocess", pytest.param("tesserocr", marks=pytest.mark.skipif(
    not HAVE_TESSEROCR, reason="tesserocr not installed: the warm engine cannot be tested"))]


@pytest.fixture(scope="module")
def settings() -> OcrSettings:
    return OcrSettings()


@pytest.fixture(scope="module", params=ENGINES)
def engine(request: pytest.FixtureRequest, settings: OcrSettings) -> Iterator[OcrEngine]:
    eng = make_engine(request.param, settings.languages, settings.psm)
    yield eng
    eng.close()


def _font(name: str) -> Path:
    fonts = [p for p in font_paths() if p.name == name]
    if not fonts:
        pytest.skip(f"{name} with Vietnamese glyphs is not installed")
    return fonts[0]


def _page(grey: np.ndarray, dpi: int = 300) -> Page:
    return Page(image=grey, dpi=(dpi, dpi), source=Path("test.png"), ocr_image=grey)


def _grey(image: Image.Image) -> np.ndarray:
    return np.asarray(image.convert("L"))


@pytest.mark.parametrize("font_name", ["LiberationSerif-Regular.ttf", "NotoSans-Regular.ttf"])
def test_vietnamese_words_with_diacritics_are_recognised_in_nfc(
        engine: OcrEngine, settings: OcrSettings, font_name: str) -> None:
    lines = ["Ủy ban nhân dân tỉnh Quảng Trị", "Tiếp nhận hồ sơ của ông Nguyễn Văn Hưởng"]
    synthetic = render_page(lines, font=_font(font_name), dpi=300, size_mm=(170.0, 45.0), margin_mm=10)
    assert synthetic.text.count("\n") == 1, "both lines must fit the test page"
    result = ocr_page(_page(_grey(synthetic.image)), settings, engine=engine)

    assert result.failed is None, f"OCR failed: {result.failed}"
    assert result.languages == settings.languages
    texts = [w.text for w in result.words]
    for expected in ["Ủy", "ban", "nhân", "dân", "Quảng", "Trị", "hồ", "sơ", "Nguyễn", "Hưởng"]:
        assert expected in texts, f"{expected!r} not recognised with {font_name}; got {texts}"
    for word in result.words:
        assert unicodedata.is_normalized("NFC", word.text), f"{word.text!r} is not NFC"
        assert word.text.strip() == word.text and word.text, f"empty or padded word {word.text!r}"
        assert isinstance(word.confidence, float) and 0.0 <= word.confidence <= 100.0, word
    assert len(result.lines) == 2, f"expected 2 lines, got {[ln.words for ln in result.lines]}"
    assert result.mean_confidence is not None and result.mean_confidence > 80, result.mean_confidence
    assert engine.version[0].isdigit() and tuple(int(p) for p in engine.version.split(".")[:2]) >= (4, 1), \
        f"engine version {engine.version!r}"


def _draw_words(words: list[str], font: Path, size_px: int, canvas: tuple[int, int]
                ) -> tuple[Image.Image, dict[str, tuple[int, int, int, int]]]:
    """Words scattered on a page at known places; returns the image and each word's PIL ink box."""
    image = Image.new("L", canvas, 255)
    draw = ImageDraw.Draw(image)
    face = ImageFont.truetype(str(font), size=size_px)
    boxes = {}
    x, y = 120, 150
    for index, word in enumerate(words):
        draw.text((x, y), word, font=face, fill=0)
        boxes[word] = draw.textbbox((x, y), word, font=face)
        x += 260 + 40 * index
        if x > canvas[0] - 450:
            x, y = 150 + 30 * index, y + 3 * size_px
    return image, boxes


def _iou(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    ix = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union else 0.0


def test_word_boxes_lie_on_the_rendered_words(engine: OcrEngine, settings: OcrSettings) -> None:
    words = ["Quảng", "Trị", "Hưởng", "Đông", "Hà", "Nhung", "quyết", "định"]
    image, truth = _draw_words(words, _font("LiberationSerif-Regular.ttf"), 60, (1240, 900))
    result = ocr_page(_page(_grey(image)), settings, engine=engine)
    assert result.failed is None, result.failed
    found = {w.text: w.box for w in result.words}
    matched = 0
    for word, expected in truth.items():
        if word not in found:
            continue
        matched += 1
        iou = _iou(found[word], expected)
        assert iou > 0.85, f"{word}: OCR box {found[word]} vs drawn {expected} (IoU {iou:.2f})"
    assert matched >= len(words) - 1, f"only {matched}/{len(words)} words found: {sorted(found)}"


def test_boxes_are_scaled_to_the_upright_frame_when_the_ocr_image_is_smaller(
        engine: OcrEngine, settings: OcrSettings) -> None:
    words = ["Quảng", "Trị", "Hưởng", "Đông"]
    image, truth = _draw_words(words, _font("LiberationSerif-Regular.ttf"), 80, (1240, 700))
    full = _grey(image)
    half = _grey(image.resize((620, 350), Image.Resampling.LANCZOS))
    page = Page(image=full, dpi=(300, 300), source=Path("t.png"), ocr_image=half)
    result = ocr_page(page, settings, engine=engine)
    found = {w.text: w.box for w in result.words}
    assert set(words) & set(found), f"nothing recognised at half scale: {result.text()!r} {result.failed}"
    for word in set(words) & set(found):
        iou = _iou(found[word], truth[word])
        assert iou > 0.7, f"{word}: box {found[word]} not mapped back onto {truth[word]} (IoU {iou:.2f})"


def test_a_blank_page_gives_no_words_and_no_failure(engine: OcrEngine, settings: OcrSettings) -> None:
    blank = np.full((1240, 874), 255, dtype=np.uint8)
    result = ocr_page(_page(blank), settings, engine=engine)
    assert result.failed is None, f"a blank page is not a failure: {result.failed}"
    assert result.words == [], f"words invented on a blank page: {result.text()!r}"


def test_a_bitonal_page_is_recognised(engine: OcrEngine, settings: OcrSettings) -> None:
    synthetic = render_page(["Bộ phận tiếp nhận và trả kết quả"], font=_font("NotoSans-Regular.ttf"),
                            dpi=300, size_mm=(148.0, 40.0), margin_mm=8)
    bitonal = _grey(synthetic.image) < 128  # True = black, as the model says
    result = ocr_page(_page(bitonal), settings, engine=engine)
    assert result.failed is None, result.failed
    assert "tiếp nhận" in result.text() and "kết quả" in result.text(), result.text()


@pytest.mark.slow
def test_a_tiny_timeout_returns_a_timeout_failure_and_the_engine_recovers(
        engine: OcrEngine, settings: OcrSettings) -> None:
    font = font_paths()[0]
    big = _grey(render_page(SENTENCES * 2, font=font, dpi=300).image)  # full A4 page of text
    tiny = settings.model_copy(update={"page_timeout_s": 0.05})
    result = ocr_page(_page(big), tiny, engine=engine)
    assert result.failed is not None and "timeout" in result.failed, f"expected a timeout, got {result.failed}"
    assert result.words == [], "a timed-out page must carry no words"

    small = _grey(render_page(["Quảng Trị"], font=font, dpi=300, size_mm=(80.0, 30.0), margin_mm=5).image)
    after = ocr_page(_page(small), settings, engine=engine)
    assert after.failed is None and "Quảng" in after.text(), f"engine broken after a timeout: {after}"


@pytest.mark.skipif(not HAVE_TESSEROCR, reason="tesserocr not installed")
def test_a_warm_helper_that_overruns_is_killed_and_replaced(settings: OcrSettings) -> None:
    """No grace: the parent kills the helper while Tesseract is still in layout analysis."""
    engine = WarmEngine(settings.languages, settings.psm, kill_grace_s=0.0)
    try:
        first_pid = engine.helper_pid
        big = _grey(render_page(SENTENCES, font=font_paths()[0], dpi=300).image)
        tiny = settings.model_copy(update={"page_timeout_s": 0.001})
        result = ocr_page(_page(big), tiny, engine=engine)
        assert result.failed is not None and "timeout" in result.failed, result.failed
        small = _grey(render_page(["hồ sơ"], font=font_paths()[0], dpi=300, size_mm=(60.0, 25.0),
                                  margin_mm=5).image)
        after = ocr_page(_page(small), settings, engine=engine)
        assert after.failed is None and "hồ" in after.text(), f"no recovery after a kill: {after}"
        assert engine.helper_pid not in (None, first_pid), "the overrunning helper was not replaced"
        with pytest.raises(ProcessLookupError):
            os.kill(first_pid, 0)  # killed and reaped, not left running or as a zombie
    finally:
        engine.close()


@pytest.mark.slow
@pytest.mark.skipif(not HAVE_TESSEROCR, reason="tesserocr not installed")
def test_a_helper_killed_mid_page_fails_that_page_only(settings: OcrSettings) -> None:
    """The OOM killer takes the helper during a page: that page fails, the next one gets a new helper."""
    import signal
    import threading

    engine = WarmEngine(settings.languages, settings.psm)
    try:
        victim = engine.helper_pid
        assert victim is not None
        noise = np.random.default_rng(1).integers(0, 2, (4000, 4000), dtype=np.uint8) * 255
        killer = threading.Timer(1.0, os.kill, (victim, signal.SIGKILL))
        killer.start()
        result = ocr_page(_page(noise), settings.model_copy(update={"page_timeout_s": 600}), engine=engine)
        killer.join()
        assert result.failed is not None and "died" in result.failed, f"expected a helper death: {result}"
        small = _grey(render_page(["Quảng Trị"], font=font_paths()[0], dpi=300, size_mm=(80.0, 30.0),
                                  margin_mm=5).image)
        after = ocr_page(_page(small), settings, engine=engine)
        assert after.failed is None and "Quảng" in after.text(), f"no recovery after the helper died: {after}"
        assert engine.helper_pid != victim
    finally:
        engine.close()


@pytest.mark.skipif(not HAVE_TESSEROCR, reason="tesserocr not installed")
def test_the_warm_helper_runs_with_one_openmp_thread(settings: OcrSettings) -> None:
    engine = WarmEngine(settings.languages, settings.psm)
    try:
        environ = Path(f"/proc/{engine.helper_pid}/environ").read_bytes().split(b"\0")
        assert b"OMP_THREAD_LIMIT=1" in environ, "the OCR helper must run with OMP_THREAD_LIMIT=1"
    finally:
        engine.close()
    assert engine.helper_pid is None, "close() must stop the helper"


@pytest.mark.slow
@pytest.mark.skipif(not HAVE_TESSEROCR, reason="tesserocr not installed")
def test_the_warm_helper_dies_with_its_worker(tmp_path: Path) -> None:
    """A worker killed hard (OOM killer, crash) in the middle of a page must not leave its helper running.

    The page is pure noise, which keeps Tesseract's layout analysis busy for many seconds, so the
    helper cannot notice its closed stdin in time: only the parent-death signal stops it.
    """
    import subprocess
    import sys
    import time

    script = tmp_path / "worker.py"
    script.write_text(
        "import numpy as np\nfrom pathlib import Path\nfrom sohoa.config.settings import OcrSettings\n"
        "from sohoa.stages.model import Page\nfrom sohoa.stages.ocr import WarmEngine, ocr_page\n"
        "noise = np.random.default_rng(0).integers(0, 2, (5000, 5000), dtype=np.uint8) * 255\n"
        "engine = WarmEngine('vie+eng', 3)\nprint(engine.helper_pid, flush=True)\n"
        "page = Page(image=noise, dpi=(300, 300), source=Path('noise.png'), ocr_image=noise)\n"
        "ocr_page(page, OcrSettings(page_timeout_s=600), engine=engine)\n")
    worker = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True, cwd=tmp_path)
    try:
        assert worker.stdout is not None
        helper = int(worker.stdout.readline())
        time.sleep(1.5)  # let the page reach the helper
        worker.kill()
        worker.wait()
        for _ in range(50):  # bounded wait for the kernel's parent-death signal and init's reaping
            if not Path(f"/proc/{helper}").exists():
                break
            time.sleep(0.1)
        assert not Path(f"/proc/{helper}").exists(), f"OCR helper {helper} outlived its killed worker"
    finally:
        if worker.poll() is None:
            worker.kill()


def test_a_missing_language_raises_missing_dependency_naming_the_package() -> None:
    with pytest.raises(MissingDependency) as caught:
        get_engine(OcrSettings(languages="vie+zzq"))
    assert "apt-get install -y tesseract-ocr-zzq" in caught.value.message("en"), caught.value.message("en")
    assert "apt-get install -y tesseract-ocr-zzq" in caught.value.message("vi")


def test_a_missing_tesseract_binary_raises_missing_dependency() -> None:
    with pytest.raises(MissingDependency) as caught:
        SubprocessEngine("vie", 3, binary="/nonexistent/sohoa-tesseract")
    assert "apt-get install -y tesseract-ocr" in caught.value.message("en"), caught.value.message("en")


def test_get_engine_keeps_one_engine_per_process_and_settings() -> None:
    a = get_engine(OcrSettings())
    assert get_engine(OcrSettings()) is a, "the engine must be reused across pages"
    other = get_engine(OcrSettings(psm=6))
    assert other is not a and other.psm == 6
    other.close()


def test_an_upright_colour_page_without_ocr_image_uses_its_scan(engine: OcrEngine, settings: OcrSettings) -> None:
    synthetic = render_page(["hồ sơ"], font=font_paths()[0], dpi=300, size_mm=(60.0, 25.0), margin_mm=5)
    rgb = np.asarray(synthetic.image.convert("RGB"))
    page = Page(image=rgb, dpi=(300, 300), source=Path("a.png"))
    assert "hồ" in ocr_page(page, settings, engine=engine).text()
    page.rotation = 90
    with pytest.raises(ProcessingError):
        ocr_page(page, settings, engine=engine)


HOCR = """<?xml version="1.0" encoding="UTF-8"?>
<html xmlns="http://www.w3.org/1999/xhtml"><body>
  <div class='ocr_page' id='page_1' title='image "unknown"; bbox 0 0 1000 500; ppageno 0'>
   <div class='ocr_carea' id='block_1_1' title="bbox 10 20 400 80">
    <p class='ocr_par' id='par_1_1' lang='vie' title="bbox 10 20 400 80">
     <span class='ocr_line' id='line_1_1' title="bbox 10 20 400 80; baseline 0.01 -12; x_size 50">
      <span class='ocrx_word' id='word_1_1' title='bbox 10 20 150 80; x_wconf 91'>{nfd}</span>
      <span class='ocrx_word' id='word_1_2' title='bbox 160 20 170 80; x_wconf 40'> </span>
      <span class='ocrx_word' id='word_1_3' title='bbox 180 20 400 80; x_wconf 88'><strong>A&amp;B</strong></span>
     </span>
     <span class='ocr_line' id='line_1_2' title="bbox 10 90 400 120; baseline 0 -3">
      <span class='ocrx_word' id='word_1_4' title='bbox 10 90 20 120; x_wconf 10'>  </span>
     </span>
    </p>
   </div>
  </div>
</body></html>"""


def test_parse_hocr_normalises_drops_empty_words_and_scales() -> None:
    nfd = unicodedata.normalize("NFD", "Quảng")
    lines = parse_hocr(HOCR.format(nfd=nfd), scale=(2.0, 2.0))
    assert len(lines) == 1, f"the whitespace-only line must be dropped: {lines}"
    words = lines[0].words
    assert [w.text for w in words] == ["Quảng", "A&B"], words
    assert unicodedata.is_normalized("NFC", words[0].text)
    assert words[0].box == (20, 40, 300, 160) and words[0].confidence == 91.0, words[0]
    assert lines[0].box == (20, 40, 800, 160)
    assert lines[0].baseline == pytest.approx((0.01, -24.0)), lines[0].baseline



def test_a_sparse_page_is_read_on_its_inked_area_only_with_the_same_words_and_boxes(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from PIL import ImageDraw, ImageFont

    from bench.corpus import font_paths
    from sohoa.stages import ocr as ocr_module

    image = Image.new("L", (2480, 3508), 245)
    draw = ImageDraw.Draw(image)
    face = ImageFont.truetype(str(font_paths()[0]), 50)
    draw.text((300, 500), "Giấy tiếp nhận hồ sơ và hẹn trả kết quả", font=face, fill=20)
    draw.text((300, 580), "Người nộp: Nguyễn Văn Hưởng", font=face, fill=20)
    draw.ellipse((1500, 400, 1900, 800), outline=60, width=14)  # a seal
    pixels = np.asarray(image)
    area = ocr_module.text_area(pixels, dpi=300)
    assert area is not None and area[0] <= 300 and area[2] >= 1900 and area[3] < 1200, area
    page = Page(image=pixels, dpi=(300, 300), source=Path("sparse.png"))
    settings = OcrSettings(languages="vie")
    cropped = ocr_page(page, settings)
    monkeypatch.setattr(ocr_module, "CROP_MIN_SAVING", 2.0)  # never crop: the whole page
    whole = ocr_page(page, settings)
    assert cropped.text() == whole.text() and "Hưởng" in cropped.text()
    assert [w.box for line in cropped.lines for w in line.words] == [w.box for line in whole.lines for w in line.words]


def test_a_full_page_is_not_cropped() -> None:
    from sohoa.stages.ocr import text_area

    pixels = np.full((3508, 2480), 245, np.uint8)
    pixels[200:3300:60, 200:2280] = 20  # lines of "text" over the whole page
    assert text_area(pixels, dpi=300) is None
