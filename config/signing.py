"""Signing settings (owned by the signing work; see issue 3). Placeholder section until then."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class SigningSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
