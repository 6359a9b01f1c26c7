#!/usr/bin/env bash
# Set up everything the tests need and run the whole suite: layering contracts, lint, pytest.
# Services (PostgreSQL, Redis, the test PKI's HTTP servers) are started by the test fixtures on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
export OMP_THREAD_LIMIT=1
echo "== import-linter (layering contracts)"
.venv/bin/lint-imports --no-cache
echo "== ruff"
.venv/bin/ruff check .
echo "== pytest"
.venv/bin/python -m pytest "$@"
