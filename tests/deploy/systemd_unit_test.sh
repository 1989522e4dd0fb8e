#!/usr/bin/env bash
# deploy/habilisd.service passes systemd-analyze verify, run on a copy that points at the built habilisd.
#   tests/deploy/systemd_unit_test.sh HABILISD UNIT
set -euo pipefail
binary="$1" unit="$2"
if ! command -v systemd-analyze >/dev/null; then
  echo "systemd-analyze is missing: deploy/setup.sh installs systemd"; exit 1
fi
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
sed "s|/usr/local/bin/habilisd|$binary|" "$unit" > "$dir/habilisd.service"
out=$(SYSTEMD_LOG_LEVEL=notice systemd-analyze verify --man=no "$dir/habilisd.service" 2>&1 || true)
# Warnings about the host (no running manager, missing /etc files) are not the unit's; errors are.
if grep -v -e 'Failed to \(open\|load\) .*EnvironmentFile' -e 'not running' <<<"$out" | grep -qi 'error\|invalid\|unknown\|ignoring'; then
  echo "$out"; exit 1
fi
echo "${out:-habilisd.service verified}"
