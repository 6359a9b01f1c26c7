"""``python -m sohoa.cli``: the same as the ``sohoa`` command."""

from sohoa.cli.main import entry

entry()
