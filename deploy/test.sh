#!/usr/bin/env bash
# Builds habilis and runs every test (unit, store conformance, integration against the real habilisd).
set -euo pipefail
cd "$(dirname "$0")/.."
# Checkouts in other folders (CI clones) share ccache's entries: paths are hashed relative to here.
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=true

bash deploy/build.sh
ctest --test-dir build --output-on-failure -j "${HABILIS_TEST_JOBS:-2}"

# The same suite again under AddressSanitizer + UndefinedBehaviorSanitizer (clang), and each libFuzzer
# target of tests/fuzz for a bounded time (docs/SECURITY.md).
CC=clang CXX=clang++ cmake -S . -B build-sanitize -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHABILIS_SANITIZE=ON \
  -DHABILIS_WERROR=OFF >/dev/null
cmake --build build-sanitize -j "${HABILIS_BUILD_JOBS:-2}"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:detect_stack_use_after_return=0"
export LSAN_OPTIONS="suppressions=$PWD/tests/lsan.supp"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
ctest --test-dir build-sanitize --output-on-failure -j "${HABILIS_TEST_JOBS:-2}"
