#!/usr/bin/env bash
# Create a local certificate authority and the server and client certificates signed by it (PEM), for TLS tests.
#
# Usage: deploy/certs.sh [--force]
#   writes into ${SUPPORTMESH_CERTS_DIR:-<repo>/.infra/certs}:
#     ca.crt ca.key                      the local CA (10 years; never leaves this machine)
#     server.crt server.key              CN=localhost, SANs localhost, 127.0.0.1 and the service host names
#     <name>.crt <name>.key              one client certificate per caller, CN=<name> (the mTLS identity)
#   Existing files are kept (so running servers keep working) unless --force or the CA is missing.
# Client names: SUPPORTMESH_CERT_CLIENTS [retriever technical-analyst response-generator hop-indexer supportmesh-cli ops]
# (ops: tests and scripts that call commerce with the ops token; its CN must match under mutual TLS)
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DIR="${SUPPORTMESH_CERTS_DIR:-$REPO/.infra/certs}"
CLIENTS="${SUPPORTMESH_CERT_CLIENTS:-retriever technical-analyst response-generator hop-indexer supportmesh-cli ops}"
DAYS=3650
# Host names a container or pod reaches the servers by (docker-compose service names), besides localhost.
SERVER_SANS="DNS:localhost,IP:127.0.0.1,DNS:commerce,DNS:kafka,DNS:elasticsearch"

command -v openssl >/dev/null || { echo "[certs] error: openssl not found (apt-get install openssl)" >&2; exit 1; }
[[ "${1:-}" == "--force" ]] && rm -rf "$DIR"
mkdir -p "$DIR"
chmod 755 "$DIR" # keys stay 600: whoever runs a server as another user copies its key (infra.sh does for ES)

# sign NAME SUBJECT EXTENSIONS: a fresh key and a certificate for it signed by the CA.
sign() {
  local name="$1" subject="$2" ext="$3"
  [[ -s "$DIR/$name.crt" && -s "$DIR/$name.key" ]] && return 0
  openssl req -new -newkey rsa:2048 -nodes -keyout "$DIR/$name.key" -subj "$subject" -out "$DIR/$name.csr" 2>/dev/null
  openssl x509 -req -in "$DIR/$name.csr" -CA "$DIR/ca.crt" -CAkey "$DIR/ca.key" -CAcreateserial \
    -days "$DAYS" -sha256 -extfile <(printf '%s\n' "$ext") -out "$DIR/$name.crt" 2>/dev/null
  rm -f "$DIR/$name.csr"
  chmod 644 "$DIR/$name.crt"; chmod 600 "$DIR/$name.key"
}

if [[ ! -s "$DIR/ca.crt" || ! -s "$DIR/ca.key" ]]; then
  rm -f "$DIR"/*.crt "$DIR"/*.key # a new CA invalidates everything it signed
  openssl req -x509 -new -newkey rsa:2048 -nodes -days "$DAYS" -sha256 -keyout "$DIR/ca.key" \
    -subj "/CN=supportmesh local CA" -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" -out "$DIR/ca.crt" 2>/dev/null
  chmod 600 "$DIR/ca.key"
fi

sign server "/CN=localhost" "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth,clientAuth
subjectAltName=$SERVER_SANS"
for client in $CLIENTS; do
  sign "$client" "/CN=$client" "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=clientAuth"
done
echo "[certs] CA, server and client certificates ($CLIENTS) in $DIR" >&2
