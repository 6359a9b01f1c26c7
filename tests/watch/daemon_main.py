"""Run the daemon from a TOML file in a subprocess: ``python -m tests.watch.daemon_main CONFIG``.

Why a helper and not ``sohoa watch --config``: until ``config/settings.py`` carries the ``watch``
section, the main settings model refuses a ``[watch]`` table; this helper splits it off and validates
it with ``WatchSettings``. Once the field exists it simply loads the file like the CLI does.
"""

from __future__ import annotations

import logging
import sys
import tomllib
from pathlib import Path

from config.settings import Settings, load_settings
from config.watch import WatchSettings
from pipeline.daemon import Daemon


def main(path: Path) -> int:
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    if "watch" in Settings.model_fields:
        settings = load_settings(path)
        watch = settings.watch  # type: ignore[attr-defined]
    else:
        watch = WatchSettings.model_validate(raw.pop("watch", {}))
        settings = Settings.model_validate(raw)
        settings.source = path
        if not settings.data_dir.is_absolute():
            settings.data_dir = (path.parent / settings.data_dir).resolve()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.getLogger().handlers[:] = [handler]
    logging.getLogger().setLevel(logging.WARNING)
    logging.getLogger("sohoa.watch").setLevel(logging.INFO)
    return Daemon(settings, watch).run()


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
