"""Dossier records, documents, the content-addressed store, search and the audit log."""
