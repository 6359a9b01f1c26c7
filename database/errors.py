"""Typed database failures (exit codes 80-82), shared by every owner of tables.

Why here: the records, both runners' journals and the web's tokens all reach the database through
``sohoa.database.engine``; a daemon retries the ``transient`` ones whichever table failed.
"""

from __future__ import annotations

from sohoa.common.errors import RecordsError
from sohoa.common.messages import N_


class DatabaseUnavailable(RecordsError):
    code = "database_unavailable"
    exit_code = 80
    transient = True
    text = N_("Cannot reach the database {where}: {detail}. Nothing was written; retry later.")


class DatabaseBusy(RecordsError):
    code = "database_busy"
    exit_code = 81
    transient = True
    text = N_("The database {where} is busy (write lock): {detail}. Nothing was written; retry later.")


class SchemaOutdated(RecordsError):
    code = "database_schema_outdated"
    exit_code = 82
    text = N_("The database {where} is at schema {current}, needs {head}. Run: sohoa db upgrade")
