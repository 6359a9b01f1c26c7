"""Pipeline stages: ingest → clean → ocr → assemble (+ conformance check).

Each stage is a plain function over the typed values in ``stages.model``; none of them knows about
folders, databases, the daemon or the CLI. ``pipeline`` sequences them.
"""
