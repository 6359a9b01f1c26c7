"""Observers, stability tracking, spool/journal and routing for scanner folders. Knows nothing about OCR."""
