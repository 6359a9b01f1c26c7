#!/usr/bin/env bash
# Set up sohoa and run the main job on the embedded defaults: the watch-folder daemon with SQLite and
# folders under ./var, a generated TEST-ONLY signing PKI, and a demo inbox pre-filled with the bundled
# sample scans. Each scan becomes a signed PDF/A attached to its dossier; Ctrl-C stops the daemon.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export OMP_THREAD_LIMIT=1
sohoa=.venv/bin/sohoa
$sohoa doctor
$sohoa demo init --dir var
mkdir -p var/inbox
for scan in samples/scans/*; do
  cp -n "$scan" "var/inbox/000.00.31.H50-220906-0001_$(basename "$scan")"
done
echo "Watching var/inbox (health: http://127.0.0.1:9477/healthz, metrics: /metrics). Ctrl-C to stop."
echo "Filed documents: .venv/bin/sohoa dossier show 000.00.31.H50-220906-0001 --config var/demo.toml"
echo "Verify one (TOTAL-PASSED offline): .venv/bin/sohoa verify var/store --offline --config var/demo.toml"
exec $sohoa watch --config var/demo.toml "$@"
