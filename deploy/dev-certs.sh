#!/usr/bin/env bash
# Development certificates for habilisd's TLS and mutual TLS (docs/OPERATIONS.md). Not for production: use
# your organisation's certificate authority there.
#
#   deploy/dev-certs.sh [DIR]      (default: ./certs)
#
# Writes into DIR (mode 0700, keys 0600):
#   ca.pem, ca.key          a certificate authority, valid 30 days
#   server.pem, server.key  habilisd's certificate for localhost and 127.0.0.1, signed by the CA
#   client.pem, client.key  a client certificate (CN=habilis-client), signed by the CA, for mutual TLS
# Then:
#   habilisd --tls-cert DIR/server.pem --tls-key DIR/server.key [--tls-client-ca DIR/ca.pem]
set -euo pipefail
dir="${1:-certs}"
mkdir -p "$dir"
chmod 0700 "$dir"
cd "$dir"
umask 077
days=30

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem -days "$days" \
  -subj "/CN=habilis development CA" -addext "basicConstraints=critical,CA:TRUE" \
  -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null

issue() {  # name, subject, extensions
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$1.key" -out "$1.csr" -subj "$2" \
    2>/dev/null
  printf '%s\n' "$3" > "$1.ext"
  openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -out "$1.pem" -days "$days" \
    -extfile "$1.ext" 2>/dev/null
  rm -f "$1.csr" "$1.ext"
}
issue server "/CN=localhost" "subjectAltName=DNS:localhost,IP:127.0.0.1
extendedKeyUsage=serverAuth
keyUsage=critical,digitalSignature"
issue client "/CN=habilis-client" "extendedKeyUsage=clientAuth
keyUsage=critical,digitalSignature"
rm -f ca.srl
chmod 0644 ca.pem server.pem client.pem
echo "certificates written to $(pwd): ca.pem server.pem server.key client.pem client.key"
