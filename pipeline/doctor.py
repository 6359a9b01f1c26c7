"""Checks of every external dependency, each with the exact command that fixes it.

Why: a center's installer is rarely a Python developer. ``sohoa doctor`` names what is missing
(Tesseract, its Vietnamese model, poppler, fonts with Vietnamese glyphs, PKCS#11 module, database) and
prints the one command that installs it, instead of letting a worker fail hours later.
Packages contribute checks through ``CHECKS``; each check is a function of the settings.
"""

from __future__ import annotations

import importlib
import importlib.metadata
from collections.abc import Callable
from dataclasses import asdict, dataclass

from sohoa.common.errors import MissingDependency
from sohoa.common.fonts import FONT_PACKAGES, vietnamese_fonts
from sohoa.common.tesseract import language_package, split_languages, tesseract_info
from sohoa.common.tools import apt_command, probe_tool
from sohoa.config.settings import Settings
from sohoa.signing.pyhanko_compat import TESTED, require_tested_pyhanko
from sohoa.stages.ocr import get_engine


@dataclass
class CheckResult:
    name: str
    ok: bool
    detail: str
    fix: str = ""

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


Check = Callable[[Settings], list[CheckResult]]

def check_tesseract(settings: Settings) -> list[CheckResult]:
    try:
        info = tesseract_info()
    except MissingDependency as err:
        return [CheckResult("tesseract", False, err.message("en"), str(err.fields.get("fix", "")))]
    results = [CheckResult("tesseract", True, f"{info.tool.version_text} ({info.path})")]
    reread = split_languages(settings.ocr.reread_languages) if settings.ocr.reread_languages else []
    for lang in dict.fromkeys([*split_languages(settings.ocr.languages), *reread, "osd"]):
        if lang in info.languages:
            results.append(CheckResult(f"tesseract {lang} model", True, "installed"))
        else:
            results.append(CheckResult(f"tesseract {lang} model", False, f"{lang}.traineddata not found",
                                       apt_command(language_package(lang))))
    try:
        engine = get_engine(settings.ocr)
        results.append(CheckResult("OCR engine", True, f"{type(engine).__name__}, Tesseract {engine.version}"))
    except MissingDependency as err:
        results.append(CheckResult("OCR engine", False, err.message("en"), str(err.fields.get("fix", ""))))
    return results


def check_poppler(settings: Settings) -> list[CheckResult]:
    results = []
    for program, why in (("pdftoppm", "renders non-image PDF pages"), ("pdftotext", "text checks"),
                         ("pdfsig", "independent signature check")):
        try:
            info = probe_tool(program, apt_package="poppler-utils", version_args=("-v",))
            results.append(CheckResult(program, True, f"{info.version_text} ({why})"))
        except MissingDependency as err:
            results.append(CheckResult(program, False, err.message("en"), apt_command("poppler-utils")))
    return results


def check_fonts(settings: Settings) -> list[CheckResult]:
    fonts = vietnamese_fonts()
    if fonts:
        return [CheckResult("Vietnamese fonts", True, ", ".join(p.name for p in fonts[:3]))]
    return [CheckResult("Vietnamese fonts", False, "no installed font covers Vietnamese letters",
                        apt_command(*FONT_PACKAGES.split()))]


def check_python_modules(settings: Settings) -> list[CheckResult]:
    results = []
    for module, package in (("cv2", "opencv-python-headless"), ("pikepdf", "pikepdf"), ("pyhanko", "pyhanko"),
                            ("pytesseract", "pytesseract")):
        try:
            imported = importlib.import_module(module)
            version = getattr(imported, "__version__", "") or _distribution_version(package)
            results.append(CheckResult(f"python {module}", True, str(version)))
        except ImportError as exc:
            results.append(CheckResult(f"python {module}", False, str(exc), f".venv/bin/pip install {package}"))
    return results


def _distribution_version(package: str) -> str:
    """The installed version from the package metadata (pyHanko has no ``__version__``)."""
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "?"


def check_pyhanko_range(settings: Settings) -> list[CheckResult]:
    """Signing and verification refuse a pyHanko outside the tested range; say so before a clerk signs."""
    try:
        require_tested_pyhanko()
    except MissingDependency as err:
        return [CheckResult("pyHanko tested range", False, err.message("en"), str(err.fields.get("fix", "")))]
    return [CheckResult("pyHanko tested range", True, ", ".join(r.spec for r in TESTED))]


def check_lexicon(settings: Settings) -> list[CheckResult]:
    """The OCR lexicon reads hunspell-vi's syllable list; without it only the spelling rules correct words."""
    from sohoa.stages.vietnamese import HUNSPELL_VI, dictionary

    if not settings.ocr.lexicon:
        return [CheckResult("hunspell-vi (OCR lexicon)", True, "lexicon off ([ocr] lexicon = false)")]
    words = dictionary()
    if not words:
        return [CheckResult("hunspell-vi (OCR lexicon)", False, f"{HUNSPELL_VI} not found or empty",
                            apt_command("hunspell-vi"))]
    return [CheckResult("hunspell-vi (OCR lexicon)", True, f"{len(words)} words ({HUNSPELL_VI})")]


def check_qpdf(settings: Settings) -> list[CheckResult]:
    from sohoa.stages.join import qpdf_tool

    try:
        return [CheckResult("qpdf", True, f"{qpdf_tool().version_text} (joins long documents' page groups)")]
    except MissingDependency as err:
        return [CheckResult("qpdf", False, err.message("en"), apt_command("qpdf"))]


CHECKS: list[Check] = [check_tesseract, check_poppler, check_qpdf, check_fonts, check_python_modules,
                       check_pyhanko_range, check_lexicon]


def run_checks(settings: Settings) -> list[CheckResult]:
    results: list[CheckResult] = []
    for check in CHECKS:
        results.extend(check(settings))
    return results
