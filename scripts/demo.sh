#!/usr/bin/env bash
# Install what ccboard needs and run the main job: bash scripts/demo.sh [demo options]
# (as root on a fresh Debian 12 with Python 3.11, gcc and apt; see `ccboard demo --help`).
# The phone bank runs in real time (about 3-4 minutes); add --virtual to run it as fast as the
# CPU allows.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh run
exec "$(dirname "$PY")/ccboard" demo "$@"
