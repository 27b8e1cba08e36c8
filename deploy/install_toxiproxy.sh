#!/usr/bin/env bash
# Builds Toxiproxy's server (network faults for the chaos tests) at a pinned version into .infra/bin, once,
# from the Go module proxy. Needs Go 1.22+; prints the binary's path.
set -euo pipefail
VERSION="${TOXIPROXY_VERSION:-v2.12.0}"
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="$REPO/.infra/bin/toxiproxy-server"
if [[ -x "$BIN" && -f "$BIN.version" && "$(cat "$BIN.version")" == "$VERSION" ]]; then
  echo "$BIN"; exit 0
fi
command -v go >/dev/null || { echo "toxiproxy: Go is not installed (https://go.dev/dl/)" >&2; exit 1; }
mkdir -p "$(dirname "$BIN")"
echo "building toxiproxy-server $VERSION (a minute the first time)" >&2
tmp="$(mktemp -d)"
GOBIN="$tmp" go install "github.com/Shopify/toxiproxy/v2/cmd/server@$VERSION"
mv "$tmp/server" "$BIN"
rm -rf "$tmp"
echo "$VERSION" > "$BIN.version"
echo "$BIN"
