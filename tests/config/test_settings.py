"""The documented defaults file and the settings model must never drift apart."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from pydantic import BaseModel

from sohoa.common.errors import ConfigError
from sohoa.config.settings import Settings, load_settings

DEFAULT_TOML = Path(__file__).resolve().parents[2] / "config" / "default.toml"


def _keys(model: type[BaseModel], prefix: str = "") -> set[str]:
    keys = set()
    for name, field in model.model_fields.items():
        if field.exclude:
            continue
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel) and annotation.model_fields:
            keys |= _keys(annotation, f"{prefix}{name}.")
        else:
            keys.add(f"{prefix}{name}")
    return keys


def _flatten(table: dict, prefix: str = "") -> set[str]:
    """Every key path in the file, tables included (dict-valued settings such as profiles are tables)."""
    keys = set()
    for name, value in table.items():
        keys.add(f"{prefix}{name}")
        if isinstance(value, dict):
            keys |= _flatten(value, f"{prefix}{name}.")
    return keys


def test_default_toml_documents_every_setting_with_its_default() -> None:
    raw = tomllib.loads(DEFAULT_TOML.read_text(encoding="utf-8"))
    missing = _keys(Settings) - _flatten(raw)
    assert not missing, f"config/default.toml does not document: {sorted(missing)}"
    from_file = load_settings(DEFAULT_TOML)
    defaults = Settings()
    assert from_file.model_dump(exclude={"data_dir"}) == defaults.model_dump(exclude={"data_dir"}), (
        "a value in config/default.toml differs from the model's default"
    )


def test_no_config_means_defaults_under_var(tmp_path: Path) -> None:
    settings = load_settings(None, cwd=tmp_path)
    assert settings.data_dir == Path("var") and settings.source is None


def test_sohoa_toml_in_current_folder_is_used(tmp_path: Path) -> None:
    (tmp_path / "sohoa.toml").write_text('[ocr]\nlanguages = "vie"\n', encoding="utf-8")
    settings = load_settings(None, cwd=tmp_path)
    assert settings.ocr.languages == "vie" and settings.data_dir == (tmp_path / "var").resolve()


@pytest.mark.parametrize(("text", "fragment"), [
    ("[ocr]\nworkers = -1\n", "ocr.workers"),
    ("[ocr]\nlanguage = 'vie'\n", "ocr.language"),
    ("[ocr\n", "Expected"),
    ("[watch]\nhealth_port = 'sometimes'\n", "watch.health_port"),
    ("[watch]\nhealth_port = 70000\n", "watch.health_port"),
])
def test_bad_config_names_the_key(tmp_path: Path, text: str, fragment: str) -> None:
    path = tmp_path / "center.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    assert fragment in info.value.message("en") and "center.toml" in info.value.message("vi")
