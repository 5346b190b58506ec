#!/usr/bin/env bash
# The local S3 test bed: moto's server on 127.0.0.1 on a free port.
#
# Sourced:   . scripts/s3-testbed.sh; s3_testbed_start; ...; s3_testbed_stop
#            (s3_testbed_start installs an EXIT trap that stops the server, even when a test fails.)
# Run:       scripts/s3-testbed.sh -- COMMAND ARGS...   runs COMMAND with S3_ENDPOINT set, then stops.
#
# When S3_ENDPOINT is already set (MinIO, AWS), nothing is started and that endpoint is used with the
# caller's AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_REGION.
# S3_TESTBED_AUTH=1 starts moto with signature checking on (INITIAL_NO_AUTH_ACTION_COUNT=0 after setup
# is the tests' business: see Tests/S3ReaderTests/SignatureCheckTests.swift).

S3_TESTBED_VENV=${VENV:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/.venv}
S3_TESTBED_PID=""
S3_TESTBED_LOG=""

s3_testbed_free_port() {
  "$S3_TESTBED_VENV/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

s3_testbed_start() {
  if [ -n "${S3_ENDPOINT:-}" ]; then
    echo "[s3-testbed] using S3_ENDPOINT=$S3_ENDPOINT (nothing started)" >&2
    export S3_TESTBED=external
    return 0
  fi
  local moto="$S3_TESTBED_VENV/bin/moto_server"
  if [ ! -x "$moto" ]; then
    echo "[s3-testbed] moto_server not found at $moto: run scripts/bootstrap.sh first" >&2
    return 1
  fi
  local port; port=$(s3_testbed_free_port) || return 1
  S3_TESTBED_LOG=$(mktemp -t moto-XXXXXX.log)
  # moto checks If-None-Match / If-Match and then writes, without a lock, on a threaded server: two racing
  # conditional PUTs can both succeed. S3 decides them atomically, so the test bed runs moto with its object
  # PUT serialized, and the catalog race tests test our commits, not moto's race.
  "$S3_TESTBED_VENV/bin/python" -c '
import sys, threading
from moto.s3 import responses
lock = threading.Lock()
unlocked = responses.S3Response.put_object
def put_object(self, *args, **kwargs):
    with lock:
        return unlocked(self, *args, **kwargs)
responses.S3Response.put_object = put_object
from moto.server import main
main(sys.argv[1:])
' -H 127.0.0.1 -p "$port" >"$S3_TESTBED_LOG" 2>&1 &
  S3_TESTBED_PID=$!
  export S3_TESTBED_PID  # benchmarks read the server's CPU time from /proc
  trap s3_testbed_stop EXIT
  local i
  for i in $(seq 1 150); do
    if curl -s -o /dev/null "http://127.0.0.1:$port/" 2>/dev/null; then
      export S3_ENDPOINT="http://127.0.0.1:$port"
      export S3_TESTBED=moto
      export AWS_ACCESS_KEY_ID=${AWS_ACCESS_KEY_ID:-testing}
      export AWS_SECRET_ACCESS_KEY=${AWS_SECRET_ACCESS_KEY:-testing}
      export AWS_REGION=${AWS_REGION:-us-east-1}
      export AWS_DEFAULT_REGION=$AWS_REGION
      echo "[s3-testbed] moto S3 on $S3_ENDPOINT (pid $S3_TESTBED_PID)" >&2
      return 0
    fi
    if ! kill -0 "$S3_TESTBED_PID" 2>/dev/null; then
      echo "[s3-testbed] moto_server exited:" >&2; cat "$S3_TESTBED_LOG" >&2
      return 1
    fi
    sleep 0.2
  done
  echo "[s3-testbed] moto_server did not answer on port $port within 30 s" >&2
  s3_testbed_stop
  return 1
}

s3_testbed_stop() {
  if [ -n "$S3_TESTBED_PID" ]; then
    kill "$S3_TESTBED_PID" 2>/dev/null
    wait "$S3_TESTBED_PID" 2>/dev/null
    echo "[s3-testbed] stopped moto (pid $S3_TESTBED_PID)" >&2
    S3_TESTBED_PID=""
    [ -n "$S3_TESTBED_LOG" ] && rm -f "$S3_TESTBED_LOG"
  fi
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  [ "${1:-}" = "--" ] && shift
  s3_testbed_start
  "$@"
fi
