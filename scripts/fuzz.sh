#!/usr/bin/env bash
# Coverage-guided fuzzing of every parser of untrusted bytes (libFuzzer, through Swift's -sanitize=fuzzer).
#
#   scripts/fuzz.sh                          # every target for 60 s each
#   scripts/fuzz.sh --seconds 600 parquet    # one target for ten minutes
#   scripts/fuzz.sh --seconds 20 --seed 1    # what the suite runs: short and reproducible
#
# Targets (Sources/FuzzTargets): json csv decompress parquet avro checkpoint lineage metadata.
# Each run starts from the seeds and kept findings in Fixtures/fuzz/<target>/ and grows a working corpus in
# .build-fuzz/corpus/<target>/ (kept between runs, never committed). An input that crashes, hangs (10 s) or
# takes more than 2 GB is saved to .build-fuzz/findings/<target>/ and the script exits 1 naming it. Reproduce
# it with the replay build: `swift build -c release --product iceberg-fuzz && .build/release/iceberg-fuzz
# <target> <file>`; once fixed, copy the file into Fixtures/fuzz/<target>/ so the suite replays it forever.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"

seconds=60
seed=0
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    --seed) seed="$2"; shift 2 ;;
    -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "fuzz.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done
[ ${#targets[@]} -gt 0 ] || targets=(json csv decompress parquet avro checkpoint lineage metadata)

scratch=.build-fuzz
mkdir -p "$scratch"
echo "[fuzz] building the fuzzing kind of iceberg-fuzz (release, -sanitize=fuzzer) in $scratch" >&2
# lld: gold fails on the instrumented objects' debug information.
if ! swift build -c release --scratch-path "$scratch" -Xswiftc -sanitize=fuzzer -Xswiftc -DFUZZING -Xswiftc -use-ld=lld \
    --product iceberg-fuzz >"$scratch/build.log" 2>&1; then
  grep -E 'error' "$scratch/build.log" >&2 || tail -30 "$scratch/build.log" >&2
  echo "[fuzz] build failed (log: $scratch/build.log)" >&2; exit 1
fi
binary="$scratch/release/iceberg-fuzz"

failed=0
for target in "${targets[@]}"; do
  [ -d "Fixtures/fuzz/$target" ] || { echo "[fuzz] no target '$target' (no Fixtures/fuzz/$target)" >&2; exit 2; }
  corpus="$scratch/corpus/$target"; findings="$scratch/findings/$target"
  mkdir -p "$corpus" "$findings"
  log="$scratch/fuzz-$target.log"
  args=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 -artifact_prefix="$findings/" -print_final_stats=1)
  [ "$seed" != 0 ] && args+=(-seed="$seed")
  # The Swift runtime's backtracer would take the crash signal before libFuzzer saves the input.
  if SWIFT_BACKTRACE=enable=no ICEBERG_FUZZ_TARGET="$target" "$binary" "${args[@]}" "$corpus" "Fixtures/fuzz/$target" >"$log" 2>&1; then
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*' || echo '?')
    echo "[fuzz] $target: ${seconds}s, $runs inputs, coverage $cov edges, nothing found" >&2
  else
    failed=1
    echo "[fuzz] $target: FOUND a fault (log: $log)" >&2
    grep -E 'ERROR|Fatal error|SUMMARY|Test unit written|^Base64:' "$log" | head -8 >&2
  fi
done
exit $failed
