"""The stamp-font cache: private to its user, and two documents signed at once with a cold cache both work."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from sohoa.common import cachedir
from sohoa.config.signing import SigningSettings
from sohoa.signing import pyhanko_compat, sign_pdf
from tests.pki import TestPki
from tests.signing.checks import validate_all


def test_two_documents_signed_at_once_with_a_cold_cache(src_pdf: Path, tmp_path: Path, pki: TestPki,
                                                        signing_settings: SigningSettings,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cold-cache"))
    pyhanko_compat._font_target.cache_clear()
    start = threading.Barrier(2)
    errors: list[BaseException] = []
    levels: dict[int, str] = {}

    def sign(n: int) -> None:
        start.wait()
        try:
            result = sign_pdf(src_pdf, tmp_path / f"out-{n}.pdf", profile="digitizer", settings=signing_settings)
            levels[n] = result.level
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=sign, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    pyhanko_compat._font_target.cache_clear()
    assert not errors, errors
    for n in range(2):
        assert not validate_all(tmp_path / f"out-{n}.pdf", pki, levels[n])
    cached = list((tmp_path / "cold-cache").glob("sohoa-fonts-*/*.ttf"))
    assert cached, "the scaled font should be in the private cache"
    assert not list((tmp_path / "cold-cache").glob("sohoa-fonts-*/*.part")), "a temp file was left behind"


@pytest.mark.parametrize("plant", ["open-folder", "symlink", "other-owner"])
def test_a_planted_cache_folder_is_not_used(tmp_path: Path, plant: str) -> None:
    base = tmp_path / "shared-tmp"
    base.mkdir()
    folder = base / f"sohoa-test-{os.getuid()}"
    if plant == "open-folder":
        folder.mkdir(mode=0o777)
        folder.chmod(0o777)
    elif plant == "symlink":
        (tmp_path / "attacker").mkdir(mode=0o700)
        folder.symlink_to(tmp_path / "attacker")
    else:
        if os.getuid() != 0:
            pytest.skip("needs root to make a folder owned by another user")
        folder.mkdir(mode=0o700)
        os.chown(folder, 65534, 65534)
    chosen = cachedir.private_cache_dir("sohoa-test", base)
    assert chosen != folder and cachedir._is_private(chosen)


def test_the_private_folder_is_made_0700(tmp_path: Path) -> None:
    chosen = cachedir.private_cache_dir("sohoa-fresh", tmp_path)
    assert chosen == tmp_path / f"sohoa-fresh-{os.getuid()}"
    assert (chosen.stat().st_mode & 0o777) == 0o700
