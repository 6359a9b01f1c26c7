"""Typed settings of sohoa, loaded from TOML (see ``config/default.toml`` for every default)."""

from sohoa.config.settings import Settings, load_settings

__all__ = ["Settings", "load_settings"]
