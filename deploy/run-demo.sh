#!/usr/bin/env bash
# Quick start: builds habilisd and habilisctl, and serves habilis on 127.0.0.1:50051 (gRPC), 127.0.0.1:8080
# (HTTP/JSON) and 127.0.0.1:9464 (metrics), with an embedded store in ./data seeded on first start with a demo
# (a structure, its services, an application, four people). Its e-mails go to a local mailbox:
# ./data/mail/*.eml. Ctrl-C stops everything; the data stays for the next start.
set -euo pipefail
cd "$(dirname "$0")/.."

bash deploy/build.sh
data="${HABILIS_DATA_DIR:-./data}"
mkdir -p "$data"
/usr/bin/python3 deploy/demo-mail.py --port "${HABILIS_DEMO_SMTP_PORT:-2525}" --dir "$data/mail" &
mail_pid=$!
trap 'kill $mail_pid 2>/dev/null || true' EXIT
sleep 0.5
echo "habilisctl is build/clients/habilisctl (put it on your PATH: export PATH=\$PWD/build/clients:\$PATH)"
build/server/habilisd --listen "${HABILIS_LISTEN:-127.0.0.1:50051}" --data-dir "$data" --seed-demo \
  --http-listen "${HABILIS_HTTP_LISTEN:-127.0.0.1:8080}" --metrics-listen "${HABILIS_METRICS_LISTEN:-127.0.0.1:9464}" \
  --smtp-url "smtp://127.0.0.1:${HABILIS_DEMO_SMTP_PORT:-2525}"
