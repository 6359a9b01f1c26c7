"""The web service of ``sohoa serve``: JSON API (``/api/v1``, OpenAPI at ``/docs``) and counter pages.

Public entry point: ``create_app(settings, web=None) -> FastAPI``. The package sits above the runners
and the document job (it reads the watch journal for the status page and reuses
``sohoa.pipeline.verification``); it owns the API tokens (``sohoa.web.tokens``). Only the CLI's
``sohoa serve`` imports it.
"""

from sohoa.web.app import create_app

__all__ = ["create_app"]
