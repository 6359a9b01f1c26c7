"""``sohoa token`` and ``sohoa serve`` through the real CLI: the secret is printed once and stored hashed."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

import pytest

from sohoa.cli.main import main


def _config(tmp_path: Path) -> Path:
    path = tmp_path / "sohoa.toml"
    path.write_text(f'data_dir = "{tmp_path / "data"}"\n', encoding="utf-8")
    return path


def test_token_create_list_revoke(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = str(_config(tmp_path))
    assert main(["token", "create", "--role", "clerk", "--name", "Quầy 1", "--config", cfg]) == 0
    secret = capsys.readouterr().out.strip()
    assert secret.startswith("sohoa_") and len(secret) > 40, secret
    with sqlite3.connect(tmp_path / "data" / "sohoa.db") as db:
        stored = db.execute("select token_hash, prefix from api_tokens").fetchall()
    assert stored == [(hashlib.sha256(secret.encode()).hexdigest(), secret[:12])], "token not stored hashed"
    assert main(["token", "list", "--json", "--config", cfg]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed[0]["name"] == "Quầy 1" and secret not in json.dumps(listed), listed
    assert main(["token", "revoke", secret[:12], "--config", cfg]) == 0
    capsys.readouterr()
    assert main(["token", "list", "--json", "--config", cfg]) == 0
    assert json.loads(capsys.readouterr().out)[0]["revoked_at"], "revoke did not take"
    assert main(["token", "revoke", "424242", "--config", cfg]) == 79


def test_bad_role_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["token", "create", "--role", "root", "--config", str(_config(tmp_path))])
    assert exc.value.code == 2, "argparse should refuse an unknown role"


def test_serve_is_registered() -> None:
    with pytest.raises(SystemExit) as exc:
        main(["serve", "--help"])
    assert exc.value.code == 0
