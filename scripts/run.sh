#!/usr/bin/env bash
# Set up sohoa and run the main job on the embedded defaults (SQLite, folders under ./var, bundled scans).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export OMP_THREAD_LIMIT=1
.venv/bin/sohoa doctor
mkdir -p var/out
.venv/bin/sohoa process samples/scans/* -o var/out/sample.pdf "$@"
echo "Written: var/out/sample.pdf"
