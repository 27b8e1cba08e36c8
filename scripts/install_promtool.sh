#!/usr/bin/env bash
# Builds promtool (Prometheus's rule checker) at a pinned version into .infra/bin, once, from the Go module
# proxy. `go install …@version` refuses the module (its go.mod has replace directives), so it is downloaded
# with `go mod download` and built inside the module. Needs Go 1.23+; prints the binary's path.
set -euo pipefail
VERSION="${PROMTOOL_MODULE_VERSION:-v0.305.0}"   # the Go module version of Prometheus 3.5 (LTS)
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="$REPO/.infra/bin/promtool"
if [[ -x "$BIN" && -f "$BIN.version" && "$(cat "$BIN.version")" == "$VERSION" ]]; then
  echo "$BIN"; exit 0
fi
command -v go >/dev/null || { echo "promtool: Go is not installed (https://go.dev/dl/)" >&2; exit 1; }
mkdir -p "$(dirname "$BIN")"
dir="$(cd /tmp && go mod download -json "github.com/prometheus/prometheus@$VERSION" \
  | python3 -c 'import json, sys; print(json.load(sys.stdin)["Dir"])')"
echo "building promtool $VERSION (a few minutes the first time)" >&2
(cd "$dir" && go build -o "$BIN" ./cmd/promtool)
echo "$VERSION" > "$BIN.version"
echo "$BIN"
