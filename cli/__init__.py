"""The ``sohoa`` command line: a thin layer on top of everything; nothing imports it."""
