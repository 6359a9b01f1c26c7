"""The document job: stages in sequence over a page pool, then sign, PDF/A gate and attach.

``run.process_document`` sequences the stages; ``executor.PageExecutor`` is the warm page pool;
``job.run_document_job`` is the one place where a document is processed, signed and filed, called
by the CLI, the watch runner, the batch runner and the web; ``verification`` matches a verified file
against the records.
"""
