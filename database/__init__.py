"""The one database: engines and transactions, the shared declarative base, one Alembic history.

Owners keep their own tables on ``base.Base``: ``sohoa.records`` (dossiers, documents, audit),
``sohoa.runners.watch.journal``, ``sohoa.runners.batch.journal`` and ``sohoa.web.tokens``.
"""
