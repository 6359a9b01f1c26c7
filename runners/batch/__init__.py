"""The batch runner (``sohoa batch``/``sohoa worker``): plan, journal, local pool or Celery, report."""
