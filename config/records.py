"""Records settings (owned by the records work; see issue 5). Placeholder section until then."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class RecordsSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
