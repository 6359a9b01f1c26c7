"""Runners drive the document job and own their journals: ``watch`` (the daemon) and ``batch`` (archives)."""
