#!/usr/bin/env bash
# The whole test suite, from nothing: install what is missing, build with warnings checked, start the
# local S3 server (unless S3_ENDPOINT points elsewhere), run every test, stop the server.
# Usage: scripts/test.sh [extra swift test arguments, e.g. --filter AvroTests]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

scripts/bootstrap.sh
export ICEBERG_TEST_PYTHON="$root/.venv/bin/python"
export PATH="/opt/swift/usr/bin:$PATH"

echo "[test] building (Swift 6 mode; any warning fails the run)" >&2
build_log=$(mktemp)
if ! swift build --build-tests 2>&1 | tee "$build_log" | grep -E 'error:|warning:|Compiling|Build complete' | grep -v '^\[' ; then :; fi
if grep -q 'error:' "$build_log"; then echo "[test] build failed" >&2; exit 1; fi
# Our own sources only: warnings from dependencies' checkouts are not ours to fix.
if grep -E 'warning:' "$build_log" | grep -v '/.build/checkouts/' | grep -q .; then
  echo "[test] the build has warnings:" >&2
  grep -E 'warning:' "$build_log" | grep -v '/.build/checkouts/' | sort -u >&2
  exit 1
fi
rm -f "$build_log"

. scripts/s3-testbed.sh
s3_testbed_start

echo "[test] swift test" >&2
swift test --skip-build "$@"
