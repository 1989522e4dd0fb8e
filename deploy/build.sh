#!/usr/bin/env bash
# Installs the dependencies (deploy/setup.sh) and builds habilis into ./build. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
# Checkouts in other folders (CI clones) share ccache's entries: paths are hashed relative to here.
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=true

bash deploy/setup.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "${HABILIS_BUILD_JOBS:-2}"
