#!/usr/bin/env bash
# Fails if any C++ file of the tree differs from what clang-format makes of it (.clang-format at the root).
# Usage: check_format.sh SOURCE_DIR
set -euo pipefail
cd "$1"
status=0
while IFS= read -r file; do
  if ! clang-format --dry-run -Werror "$file" >/dev/null 2>&1; then
    echo "not formatted: $file (run: clang-format -i $file)"
    status=1
  fi
done < <(git ls-files -co --exclude-standard '*.cc' '*.h')
exit $status
