#!/usr/bin/env bash
# Installs what `make run` and `make test` need and a fresh machine lacks:
# the PostgreSQL 15 server binaries, and Chromium with CJK fonts for the
# console's browser tests (tests/console). Go's toolchain comes via GOTOOLCHAIN=auto.
set -euo pipefail
if [ ! -x /usr/lib/postgresql/15/bin/initdb ]; then
  echo "installing PostgreSQL 15 (Debian package postgresql)..."
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq postgresql >/dev/null
  # The Debian package starts a system cluster on 5432; Voltflow runs its own.
  $SUDO systemctl disable --now postgresql >/dev/null 2>&1 || true
fi
if ! command -v chromium >/dev/null || ! fc-list 2>/dev/null | grep -qi 'Noto Sans CJK'; then
  echo "installing Chromium and CJK fonts (Debian packages chromium, fonts-noto-cjk) for tests/console..."
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq chromium fonts-noto-cjk >/dev/null
fi
if [ ! -f /usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf ] || ! command -v pdftotext >/dev/null; then
  # PDF papers embed a TrueType CJK font (fpdf cannot read the .ttc of
  # fonts-noto-cjk); the tests read PDFs back with pdftotext.
  echo "installing the CJK TrueType font and poppler-utils (Debian packages fonts-droid-fallback, poppler-utils) for PDF receipts..."
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq fonts-droid-fallback poppler-utils >/dev/null
fi
if ! command -v go >/dev/null; then
  echo "Go is not installed (need go >= 1.26; GOTOOLCHAIN=auto fetches the exact patch)" >&2
  exit 1
fi
mkdir -p .voltflow
