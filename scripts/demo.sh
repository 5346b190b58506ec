#!/usr/bin/env bash
# The README's first command: install the system libraries if missing, build, and run the main job on the
# embedded default (local files, local warehouse, SQLite catalog). Extra arguments go to `iceberg-ingest demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh --no-python
export PATH="/opt/swift/usr/bin:$PATH"
echo "[demo] building iceberg-ingest (release)" >&2
log=$(mktemp)
if ! swift build -c release --product iceberg-ingest >"$log" 2>&1; then
  cat "$log" >&2; rm -f "$log"; exit 1
fi
rm -f "$log"
exec "$(swift build -c release --show-bin-path)/iceberg-ingest" demo "$@"
