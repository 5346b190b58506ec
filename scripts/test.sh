#!/usr/bin/env bash
# The whole test suite, from nothing: install what is missing, build with warnings checked, start the
# local S3 server (unless S3_ENDPOINT points elsewhere), run every test, stop the server.
# Usage: scripts/test.sh [extra swift test arguments, e.g. --filter AvroTests]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

scripts/bootstrap.sh
VENV=${VENV:-.venv}
export VENV="$(cd "$VENV" && pwd)"
export ICEBERG_TEST_PYTHON="$VENV/bin/python"
export PATH="/opt/swift/usr/bin:$PATH"

# Release mode with testability: the tests run the optimized code users run (preconditions and overflow
# checks stay on), and the data-heavy tests (a million-object checkpoint, fuzzing) take seconds, not minutes.
BUILD_FLAGS=(-c release -Xswiftc -enable-testing)
echo "[test] building (release, Swift 6 mode; any warning fails the run)" >&2
build_log=$(mktemp)
status=0
swift build "${BUILD_FLAGS[@]}" --build-tests >"$build_log" 2>&1 || status=$?
if [ "$status" != 0 ]; then
  grep -E 'error:' "$build_log" >&2 || tail -40 "$build_log" >&2
  echo "[test] build failed (exit $status)" >&2; exit 1
fi
# Our own sources only: warnings from dependencies' checkouts are not ours to fix.
# (Read into a variable: under pipefail, a `| grep -q` at the end of a pipeline can fail at random.)
warnings=$(grep -E 'warning:' "$build_log" | grep -v '/.build[^/]*/checkouts/' || true)
if [ -n "$warnings" ]; then
  echo "[test] the build has warnings:" >&2
  sort -u <<<"$warnings" >&2
  exit 1
fi
rm -f "$build_log"

. scripts/s3-testbed.sh
s3_testbed_start

echo "[test] swift test" >&2
swift test "${BUILD_FLAGS[@]}" --skip-build "$@"

# The deployment files (manifests, workflow, IAM policy) and the image's runtime libraries, offline.
if [ $# -eq 0 ]; then
  echo "[test] deployment files and the static binary's libraries" >&2
  scripts/check-deploy.sh
fi

# Coverage-guided fuzzing of every parser, short (the suite replays the kept corpus; scripts/fuzz.sh --help
# says how to fuzz longer). Skipped when only some tests were asked for.
if [ $# -eq 0 ]; then
  echo "[test] fuzzing each parser for ${FUZZ_SECONDS:-15} s" >&2
  scripts/fuzz.sh --seconds "${FUZZ_SECONDS:-15}" --seed 1
fi
