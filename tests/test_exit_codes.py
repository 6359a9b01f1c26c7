"""An internal error has an exit code of its own: a script can tell a crash from a verdict or a refusal."""

from __future__ import annotations

import importlib
import pkgutil

from sohoa.common.errors import InternalError, SohoaError


def _all_error_classes() -> set[type[SohoaError]]:
    for name in ("common", "database", "records", "signing", "stages", "web", "runners", "pipeline"):
        package = importlib.import_module(f"sohoa.{name}")
        for info in pkgutil.walk_packages(package.__path__, f"sohoa.{name}."):
            if "migrations" not in info.name:
                importlib.import_module(info.name)
    found: set[type[SohoaError]] = set()
    todo = [SohoaError]
    while todo:
        for sub in todo.pop().__subclasses__():
            found.add(sub)
            todo.append(sub)
    return found


def test_the_internal_error_code_is_used_by_nothing_else() -> None:
    others = {cls.exit_code for cls in _all_error_classes() if cls is not InternalError}
    assert InternalError.exit_code not in others
    verdict_codes = {0, 1, 2, 3}  # sohoa verify: passed, indeterminate, failed, unreadable
    assert InternalError.exit_code not in verdict_codes
