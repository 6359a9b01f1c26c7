"""Typed settings of sohoa, loaded from TOML (see ``config/default.toml`` for every default)."""

from config.settings import Settings, load_settings

__all__ = ["Settings", "load_settings"]
