"""Sequences the stages, owns executors (local process pool, Celery) and the ``sohoa`` CLI."""
