"""Subcommands of ``sohoa``: one module each, discovered by ``sohoa.cli.main``.

A command module defines ``register(subparsers) -> None`` which adds its parser(s) and sets
``func=handler`` with ``handler(args, settings) -> int``. Handlers raise ``common.errors.SohoaError``
subclasses for expected failures; the CLI turns them into a sentence and an exit code.
"""
