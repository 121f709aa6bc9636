#!/usr/bin/env bash
# Install what the tests need and run them all, stopping at the first failure:
# ruff, mypy, import-linter, the C kernels' tests under ASan+UBSan, then pytest.
# As root on a fresh Debian 12 (Python 3.11, gcc, apt): bash scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS
source scripts/setup.sh test
echo "== ruff"
"$PY" -m ruff check .
"$PY" -m ruff format --check .

echo "== mypy"
"$PY" -m mypy

echo "== import-linter"
"$PY" -c "from importlinter.cli import lint_imports_command; lint_imports_command()"

echo "== C kernels under ASan+UBSan"
make -s -C native/tests check G191="${CCBOARD_G191:-$(cd .. && pwd)/shared/itu-g191}"

echo "== pytest"
rc=0
"$PY" -m pytest || rc=$?  # testpaths: tests/ and firmware-tools/tests/
if [ "$rc" -eq 5 ]; then
    echo "pytest collected no tests" >&2
    exit 1
fi
[ "$rc" -eq 0 ] || exit "$rc"
echo "== all checks passed in $((SECONDS - start)) s"
