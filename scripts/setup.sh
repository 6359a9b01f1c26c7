#!/usr/bin/env bash
# Set up sohoa on Debian 12 as root: system packages, a .venv, the project and its Python deps.
# Idempotent and quiet when everything is already there. Usage: scripts/setup.sh [--test] [--bench]
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0; want_bench=0
for arg in "$@"; do
  case "$arg" in
    --test) want_test=1 ;;
    --bench) want_bench=1 ;;
    *) echo "setup.sh: unknown option $arg" >&2; exit 2 ;;
  esac
done

# What the pipeline itself needs: OCR with Vietnamese, fonts with Vietnamese glyphs, poppler, PKCS#11,
# and hunspell-vi's syllable list for the OCR lexicon.
apt_run=(tesseract-ocr tesseract-ocr-vie tesseract-ocr-eng tesseract-ocr-osd fonts-liberation2
         fonts-noto-core fonts-dejavu-core poppler-utils python3-venv python3-dev libzbar0 softhsm2
         opensc libnss3-tools jbig2dec
         hunspell-vi
         qpdf)  # qpdf: long documents' page groups are joined by its command, which streams (stages/join.py)
# What the tests add: real database, broker and HTTP services started on 127.0.0.1, and Debian's
# Chromium for the browser tests (Playwright drives it; it never downloads a browser of its own).
# postgresql-15-rum: the optional RUM search index (migration 0009), tested and benchmarked beside GIN.
apt_test=(postgresql postgresql-contrib postgresql-15-rum redis-server chromium
          fonts-freefont-ttf fonts-dejavu-extra)  # the counter benchmark's held-out faces (tests/bench)
# What the benchmarks add: OCRmyPDF needs Ghostscript, and unpaper for --clean; the Vietnamese
# benchmark renders its held-out pages with LibreOffice Writer in FreeFont (and Noto, DejaVu); the
# counter benchmark draws in FreeFont, DejaVu Condensed (fonts-dejavu-extra) and Noto Display, and its
# second held-out face set in Tinos/Arimo (fonts-croscore), Charis SIL and Roboto.
apt_bench=(unpaper ghostscript
           libreoffice-writer-nogui
           fonts-freefont-ttf fonts-dejavu-extra
           fonts-croscore fonts-sil-charis fonts-roboto-unhinted)

missing=()
check() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed" || missing+=("$1"); }
for p in "${apt_run[@]}"; do check "$p"; done
if [ $want_test = 1 ]; then
  for p in "${apt_test[@]}"; do check "$p"; done
  # Node.js for the browser tests' accessibility check (axe-core from the npm registry): Debian's, unless
  # the machine already has a node and npm of its own.
  if ! command -v npm >/dev/null || ! command -v node >/dev/null; then check nodejs; check npm; fi
fi
if [ $want_bench = 1 ]; then for p in "${apt_bench[@]}"; do check "$p"; done; fi
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "setup.sh: missing system packages: ${missing[*]}; run as root or: sudo apt-get install ${missing[*]}" >&2
    exit 4
  fi
  echo "setup.sh: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
extras=""
[ $want_test = 1 ] && extras="test"
[ $want_bench = 1 ] && extras="${extras:+$extras,}bench"
spec="."
[ -n "$extras" ] && spec=".[$extras]"
stamp=".venv/.sohoa-installed-$(sha256sum pyproject.toml | cut -c1-16)-${extras:-run}"
if [ ! -f "$stamp" ]; then
  echo "setup.sh: installing Python packages ($spec) into .venv"
  .venv/bin/python -m pip install -q --upgrade pip >/dev/null
  .venv/bin/python -m pip install -q -e "$spec"
  rm -f .venv/.sohoa-installed-*
  touch "$stamp"
fi

# Node packages of the tests, from their lock files: axe-core (WCAG checks injected into the counter's
# pages) and @signpdf (a signer of the verification corpus, tests/verify/producers/node).
if [ $want_test = 1 ]; then
  for node_dir in tests/web/axe tests/verify/producers/node; do
    node_stamp="$node_dir/node_modules/.sohoa-$(sha256sum "$node_dir/package-lock.json" | cut -c1-16)"
    if [ ! -f "$node_stamp" ]; then
      echo "setup.sh: installing $node_dir (npm ci)"
      npm ci --prefix "$node_dir" --no-audit --no-fund --silent >/dev/null
      touch "$node_stamp"
    fi
  done
fi
