"""The web service of ``sohoa serve``: JSON API (``/api/v1``, OpenAPI at ``/docs``) and counter pages.

Public entry point: ``create_app(settings, web=None) -> FastAPI``. The package sits above ``pipeline``
(it reuses ``pipeline.commands.verify.RecordsLookup``) and only ``pipeline.commands.serve`` imports it.
"""

from sohoa.web.app import create_app

__all__ = ["create_app"]
