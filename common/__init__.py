"""Shared bottom layer: typed errors, atomic file writes and external-tool wrappers.

Every other package may import from here; this package imports none of them.
"""
