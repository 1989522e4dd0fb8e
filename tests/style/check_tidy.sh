#!/usr/bin/env bash
# Runs clang-tidy (.clang-tidy at the root: function size and cognitive complexity) on every C++ source of
# the tree, with the compile commands of BUILD_DIR, and fails on any finding. Headers are checked through
# the sources that include them.
# Usage: check_tidy.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
source_dir=$1 build_dir=$2
cd "$source_dir"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# run-clang-tidy takes the files of the compile commands that match the pattern (not the generated
# protobuf code), parallelizes over them, and returns non-zero when any finding is an error.
if ! run-clang-tidy-14 -quiet -p "$build_dir" -j "${HABILIS_TIDY_JOBS:-2}" "^$PWD/(authz|store|server|clients|tests)/" >"$log" 2>&1; then
  grep -E "(warning|error): " "$log" | sort -u
  echo "clang-tidy found functions over the limits of .clang-tidy (or could not run: see above)"
  exit 1
fi
