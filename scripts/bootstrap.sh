#!/usr/bin/env bash
# Installs what the build and the tests need, only what is missing, and is safe to run again.
#  - Debian -dev packages for the system-library shims (apt-get, as root).
#  - The pinned Python test tools (moto's S3 server, PyIceberg, pyarrow, fastavro, DuckDB with its
#    iceberg extension, boto3/botocore, Spark with the Java Iceberg runtime jar) in a git-ignored virtual
#    environment at $VENV (default .venv).
# Usage: scripts/bootstrap.sh [--no-python]
set -euo pipefail
cd "$(dirname "$0")/.."

# libsimdjson-dev builds the simdjson peer of `iceberg-bench json-parse`; Java 17 runs Spark with Java Iceberg (the
# interop tests); jq renders the deploy workflow's .env (scripts/check-deploy.sh).
DEB_PACKAGES=(libcurl4-openssl-dev libssl-dev libzstd-dev libsnappy-dev zlib1g-dev libdeflate-dev libsimdjson-dev libsqlite3-dev openjdk-17-jre-headless jq)
VENV=${VENV:-.venv}
# One resolve: these pins are known to install together (adding extras later breaks botocore's pin).
PY_REQUIREMENTS=(
  "moto[server]==5.2.5" boto3
  "pyiceberg[sql-sqlite,pyarrow,s3fs,pyiceberg-core]==0.12.0"
  "duckdb==1.5.5" "duckdb-extensions==1.5.5" "duckdb-extension-iceberg==1.5.5"
  "duckdb-extension-avro==1.5.5" "duckdb-extension-httpfs==1.5.5"
  numpy fastavro cramjam backports.zstd  # the last two: fastavro's snappy and zstandard codecs
  matplotlib  # the chart of iceberg-bench compare
  isal  # ISA-L's inflate, the peer of iceberg-bench inflate
  # Spark with Java Iceberg (scripts/spark-server.py): 1.0.1 carries iceberg-spark-runtime-3.5_2.12-1.9.2;
  # the jar of 1.0.3 lacks its shaded Jackson classes and fails at the first query.
  "pyspark==3.5.*" "snowpark-connect-deps-iceberg==1.0.1"
)
# The versions that resolved together (pip freeze of a working environment): installs are then exact
# and quick. Regenerate with `.venv/bin/pip freeze > scripts/python-constraints.txt` after changing pins.
CONSTRAINTS=scripts/python-constraints.txt
PY_STAMP_CONTENT="${PY_REQUIREMENTS[*]} $(sha256sum "$CONSTRAINTS" | cut -c1-16)"

log() { printf '[bootstrap] %s\n' "$*" >&2; }

missing=()
for p in "${DEB_PACKAGES[@]}"; do
  [[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)" == *"install ok installed"* ]] || missing+=("$p")
done
if ((${#missing[@]})); then
  log "installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  log "Debian packages present"
fi

if [ "${1:-}" = "--no-python" ]; then exit 0; fi

PYTHON=${PYTHON:-python3}
if [ ! -x "$VENV/bin/python" ]; then
  log "creating virtual environment $VENV"
  "$PYTHON" -m venv "$VENV"
fi
if [ "$(cat "$VENV/.requirements" 2>/dev/null)" != "$PY_STAMP_CONTENT" ]; then
  log "installing Python test tools into $VENV (one resolve)"
  # The pip that ships with Python 3.11 cannot resolve this set (it backtracks into a conflict).
  "$VENV/bin/pip" install -q --disable-pip-version-check --upgrade "pip>=25"
  "$VENV/bin/pip" install -q --disable-pip-version-check -c "$CONSTRAINTS" "${PY_REQUIREMENTS[@]}"
  printf '%s' "$PY_STAMP_CONTENT" > "$VENV/.requirements"
else
  log "Python test tools present in $VENV"
fi
