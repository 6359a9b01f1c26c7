"""The README's run path: demo keys → process → sign twice → attach, as scripts/run.sh does it."""

from __future__ import annotations

import json
import stat
import subprocess
from pathlib import Path

import pytest

from sohoa.config.settings import load_settings
from tests.pipeline.test_process_cli import SAMPLES, sohoa


@pytest.mark.slow
def test_demo_signs_and_files_the_samples(tmp_path: Path) -> None:
    done = sohoa("demo", "init", "--dir", "var", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    config = tmp_path / "var" / "demo.toml"
    settings = load_settings(config)
    for key in settings.signing.keys.values():
        secret = key.password_file  # type: ignore[union-attr]
        assert secret is not None and stat.S_IMODE(secret.stat().st_mode) == 0o600, "password file must be 0600"
        assert secret.read_text().strip() not in config.read_text(), "a password leaked into the config"
    out = tmp_path / "signed.pdf"
    done = sohoa("process", "--config", str(config), *map(str, SAMPLES[:1]), "-o", str(out), "--sign", "digitizer",
                 "--sign", "organization", "--dossier", "000.00.31.H50-220906-0001", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "attached to dossier 000.00.31.H50-220906-0001" in done.stdout, done.stdout
    report = subprocess.run(["pdfsig", str(out)], capture_output=True, text=True, check=False).stdout
    assert report.count("Signature is Valid.") == 2, report
    assert "SoHoa1" in report and "CoQuan1" in report, report
    stored = list((tmp_path / "var" / "store").rglob("*.pdf"))
    assert len(stored) == 1 and stored[0].read_bytes() == out.read_bytes(), "the store holds the signed file"
    # The demo's documents are B-LT (local demo TSA, the demo root's CRL embedded): green offline.
    done = sohoa("verify", "--config", str(config), "--offline", "--json", "--no-records", str(out), cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    verdict = json.loads(done.stdout)
    verdict = verdict[0] if isinstance(verdict, list) else verdict
    assert verdict["indication"] == "TOTAL-PASSED", verdict["reasons"]
    assert [s["pades_level"] for s in verdict["signatures"]] == ["B-LT", "B-LT"], verdict["signatures"]
    assert all(s["revocation"]["sources"] == ["dss"] for s in verdict["signatures"]), verdict["signatures"]
