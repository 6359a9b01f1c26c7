"""External-program probe (common.tools) and the Tesseract probe (common.tesseract), on real programs."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from sohoa.common.errors import ConfigError, MissingDependency
from sohoa.common.tesseract import (
    LanguageMissing,
    language_package,
    require_languages,
    split_languages,
    tesseract_env,
    tesseract_info,
)
from sohoa.common.tools import ToolBroken, ToolNotFound, ToolTooOld, clear_probe_cache, parse_version, probe_tool


@pytest.mark.parametrize(("banner", "expected"), [
    ("tesseract 5.3.0\n leptonica-1.82.0\n  libgif 5.2.1", (5, 3, 0)),
    ("tesseract 4.1.1-rc2-22-g08899\n leptonica-1.79.0", (4, 1, 1)),
    ("tesseract 5.0.0-alpha-20201231", (5, 0, 0)),
    ("pdfsig version 22.12.0\nCopyright 2005-2022 The Poppler Developers", (22, 12, 0)),
    ("2.6.1", (2, 6, 1)),
    ("softhsm2-util 2.6.1", (2, 6, 1)),
    ("no version in here", None),
])
def test_parse_version_reads_the_first_dotted_number(banner: str, expected: tuple[int, ...] | None) -> None:
    assert parse_version(banner) == expected, f"{banner!r} parsed as {parse_version(banner)}"


def test_parse_version_with_a_custom_pattern() -> None:
    assert parse_version("build 7 release 3.4", r"release (\d+(?:\.\d+)*)") == (3, 4)


def _script(folder: Path, name: str, body: str) -> Path:
    path = folder / name
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def test_probe_finds_tesseract_and_checks_its_version() -> None:
    info = probe_tool("tesseract", apt_package="tesseract-ocr", min_version=(4, 1))
    assert info.path.is_file(), info
    assert info.version is not None and info.version >= (4, 1), info.banner
    assert probe_tool("tesseract", apt_package="tesseract-ocr", min_version=(4, 1)) is info, "probe not cached"


def test_probe_reads_a_banner_printed_on_stderr(tmp_path: Path) -> None:
    tool = _script(tmp_path, "oldstyle", 'echo "oldstyle 3.2.1 (c) someone" >&2')
    info = probe_tool(str(tool), apt_package="oldstyle", min_version=(3,))
    assert info.version == (3, 2, 1), info.banner
    assert info.version_text == "3.2.1"


def test_a_missing_program_raises_missing_dependency_with_the_apt_command() -> None:
    with pytest.raises(ToolNotFound) as caught:
        probe_tool("sohoa-no-such-program-4711", apt_package="sohoa-fake-package")
    err = caught.value
    assert isinstance(err, MissingDependency) and err.exit_code == 4
    for lang in ("en", "vi"):
        message = err.message(lang)
        assert "apt-get install -y sohoa-fake-package" in message, message
        assert "sohoa-no-such-program-4711" in message, message


def test_a_too_old_program_names_both_versions_and_the_fix(tmp_path: Path) -> None:
    tool = _script(tmp_path, "ancient", 'echo "ancient 1.0.2"')
    with pytest.raises(ToolTooOld) as caught:
        probe_tool(str(tool), apt_package="ancient-pkg", min_version=(2, 0))
    message = caught.value.message("en")
    assert "1.0.2" in message and "2.0" in message and "apt-get install -y ancient-pkg" in message, message


def test_a_program_without_a_readable_version_is_broken_when_a_minimum_is_required(tmp_path: Path) -> None:
    tool = _script(tmp_path, "mute", "echo hello; exit 1")
    with pytest.raises(ToolBroken) as caught:
        probe_tool(str(tool), apt_package="mute-pkg", min_version=(1,))
    assert "apt-get install -y mute-pkg" in caught.value.message("vi")
    assert probe_tool(str(tool), apt_package="mute-pkg").version is None, "no minimum: the probe must pass"


def test_clearing_the_cache_probes_again(tmp_path: Path) -> None:
    tool = _script(tmp_path, "changing", 'echo "changing 1.0"')
    assert probe_tool(str(tool), apt_package="x").version == (1, 0)
    _script(tmp_path, "changing", 'echo "changing 2.0"')
    assert probe_tool(str(tool), apt_package="x").version == (1, 0), "the probe must be cached"
    clear_probe_cache()
    assert probe_tool(str(tool), apt_package="x").version == (2, 0), "clear_probe_cache did not clear"


def test_tesseract_info_lists_the_installed_languages() -> None:
    info = tesseract_info()
    assert {"vie", "eng"} <= info.languages, info.languages
    assert info.tessdata is not None and (info.tessdata / "vie.traineddata").is_file(), info.tessdata
    assert require_languages("vie+eng") is info


def test_a_missing_language_names_its_debian_package() -> None:
    with pytest.raises(LanguageMissing) as caught:
        require_languages("vie+chi_sim+zzq")
    message = caught.value.message("en")
    assert "apt-get install -y tesseract-ocr-chi-sim tesseract-ocr-zzq" in message, message
    assert isinstance(caught.value, MissingDependency)


@pytest.mark.parametrize("bad", ["", "vie+", "-l vie", "vie;rm -rf", "../eng", "vie eng"])
def test_language_lists_that_tesseract_would_misread_are_refused(bad: str) -> None:
    with pytest.raises(ConfigError) as caught:
        split_languages(bad)
    assert "ocr.languages" in caught.value.message("en")


def test_language_packages_and_environment() -> None:
    assert language_package("vie") == "tesseract-ocr-vie"
    assert language_package("chi_tra") == "tesseract-ocr-chi-tra"
    env = tesseract_env({"PATH": "/usr/bin", "OMP_THREAD_LIMIT": "8"})
    assert env == {"PATH": "/usr/bin", "OMP_THREAD_LIMIT": "1"}, env
