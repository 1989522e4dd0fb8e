#!/usr/bin/env bash
# Quick start: builds habilisd and serves it on 127.0.0.1:50051 with an embedded store in ./data,
# seeded on first start with a small demo. Ctrl-C stops it; the data stays for the next start.
set -euo pipefail
cd "$(dirname "$0")/.."

bash deploy/build.sh
exec build/server/habilisd --listen "${HABILIS_LISTEN:-127.0.0.1:50051}" --data-dir "${HABILIS_DATA_DIR:-./data}" \
  --seed-demo
