#!/usr/bin/env bash
# Builds habilis and runs every test (unit, store conformance, integration against the real habilisd).
set -euo pipefail
cd "$(dirname "$0")/.."

bash deploy/build.sh
ctest --test-dir build --output-on-failure -j "${HABILIS_TEST_JOBS:-2}"
