"""Run the real ``sohoa`` CLI with a ``[batch]`` section: ``python -m tests.batch.cli_main ARGS...``.

Why: until ``config/settings.py`` carries the ``batch`` field, the main settings model refuses a
``[batch]`` table. This shim gives ``config.settings`` a settings class with that one field added and
then runs the unchanged ``pipeline.cli.main``. Once the field exists it is a plain call of the CLI.
"""

from __future__ import annotations

import sys

import config.settings as settings_module
from config.batch import BatchSettings


class _WithBatch(settings_module.Settings):
    batch: BatchSettings = BatchSettings()


if "batch" not in settings_module.Settings.model_fields:
    settings_module.Settings = _WithBatch  # type: ignore[misc]

from pipeline.cli import main  # noqa: E402 - after the shim

if __name__ == "__main__":
    sys.exit(main())
