#!/usr/bin/env bash
# Checks that the release binary runs without the Swift toolchain, on the runtime image's packages, without
# Docker: builds `iceberg-ingest` with --static-swift-stdlib, then for every shared library the binary
# itself needs (its ELF NEEDED entries; apt brings what those libraries need in turn) finds the Debian
# package that provides it, as `ldd` resolves it here, and checks that the runtime stage of
# deploy/Dockerfile installs that package (or that debian:bookworm-slim already has it). Fails naming any library from the toolchain folder,
# any library not found, and any package the Dockerfile lacks. Then runs the binary with the toolchain's
# libraries out of reach.
#
#   scripts/check-bundle.sh            # builds in .build-static (a release build of the executable only)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"

scratch=.build-static
echo "[bundle] building iceberg-ingest (release, --static-swift-stdlib) in $scratch" >&2
mkdir -p "$scratch"
if ! swift build -c release --static-swift-stdlib --scratch-path "$scratch" --product iceberg-ingest >"$scratch/build.log" 2>&1; then
  grep -E 'error' "$scratch/build.log" >&2 || tail -30 "$scratch/build.log" >&2
  echo "[bundle] build failed (log: $scratch/build.log)" >&2; exit 1
fi
binary="$scratch/release/iceberg-ingest"

# What the runtime stage installs (the line the Dockerfile marks), and what the slim base image holds.
runtime=$(sed -n 's/^# runtime-packages: //p' deploy/Dockerfile)
[ -n "$runtime" ] || { echo "[bundle] deploy/Dockerfile has no '# runtime-packages:' line" >&2; exit 1; }
grep -q "apt-get install -y --no-install-recommends" deploy/Dockerfile
# Under pipefail, `producer | grep -q` fails at random: grep -q exits at its first match, and a producer still
# writing dies of SIGPIPE. Every membership test below reads a variable instead.
stage=$(sed -n '/^FROM debian:bookworm-slim/,$p' deploy/Dockerfile)
for p in $runtime; do
  grep -qw -- "$p" <<<"$stage" \
    || { echo "[bundle] '$p' is on the runtime-packages line but not installed by the runtime stage" >&2; exit 1; }
done
base="libc6 libgcc-s1 libstdc++6 zlib1g"

failed=0
packages=()
needed=$(readelf -d "$binary" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
while read -r line; do
  name=$(echo "$line" | awk '{print $1}')
  grep -qx -- "$name" <<<"$needed" || continue
  path=$(echo "$line" | awk '$2 == "=>" {print $3}')
  case "$name" in linux-vdso.so.*|/lib64/ld-linux-*) continue ;; esac
  if [ "$path" = "not" ] || [ -z "$path" ]; then
    echo "[bundle] $name: not found" >&2; failed=1; continue
  fi
  case "$path" in /opt/swift/*|*/swift/linux/*)
    echo "[bundle] $name comes from the Swift toolchain ($path): the binary is not self-contained" >&2; failed=1; continue ;;
  esac
  real=$(readlink -f "$path")
  package=$(dpkg -S "$real" 2>/dev/null | head -1 | cut -d: -f1 || true)
  [ -n "$package" ] || package=$(dpkg -S "$path" 2>/dev/null | head -1 | cut -d: -f1 || true)
  if [ -z "$package" ]; then echo "[bundle] $name ($path): no Debian package provides it" >&2; failed=1; continue; fi
  packages+=("$package")
  if [[ " $runtime $base " != *" $package "* ]]; then
    echo "[bundle] $name is in $package, which the runtime stage does not install" >&2; failed=1
  fi
done < <(ldd "$binary")

# Each package the runtime stage installs should be needed (a stale list grows the image).
for p in $runtime; do
  [ "$p" = ca-certificates ] && continue
  grep -qx -- "$p" <<<"$(printf '%s\n' "${packages[@]}")" || { echo "[bundle] the runtime stage installs $p, which the binary does not link" >&2; failed=1; }
done

# The binary runs with the toolchain's libraries out of reach.
if ! env -i PATH=/usr/bin:/bin LD_LIBRARY_PATH= "$binary" --version >/dev/null 2>&1; then
  echo "[bundle] the binary does not start without the toolchain" >&2; failed=1
fi
[ $failed = 0 ] || exit 1
echo "[bundle] $binary: $(stat -c %s "$binary") bytes; links only $(printf '%s\n' "${packages[@]}" | sort -u | tr '\n' ' ')(all in the runtime stage or the base image)" >&2
