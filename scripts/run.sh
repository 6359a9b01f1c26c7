#!/usr/bin/env bash
# Set up sohoa and run the main job on the embedded defaults: SQLite and folders under ./var, a
# generated TEST-ONLY signing key, the bundled sample scans. Result: a signed PDF/A attached to a
# demo dossier (see `sohoa dossier show` below).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export OMP_THREAD_LIMIT=1
sohoa=.venv/bin/sohoa
$sohoa doctor
$sohoa demo init --dir var
mkdir -p var/out
$sohoa process --config var/demo.toml samples/scans/* -o var/out/sample.pdf \
  --sign digitizer --sign organization --dossier 000.00.31.H50-220906-0001 --kind component "$@"
$sohoa dossier show --config var/demo.toml 000.00.31.H50-220906-0001
