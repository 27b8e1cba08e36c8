#!/usr/bin/env bash
# Builds kustomize and kubeconform at pinned versions into .infra/bin, once each, from the Go module proxy
# (`go install module@version`: neither module has replace directives). A version file beside each binary makes
# a second run free. GOTOOLCHAIN=local: an older Go stops with a clear message instead of fetching a toolchain.
# Needs Go 1.26+ (the pinned kustomize asks for it); prints the kustomize path, then the kubeconform path.
set -euo pipefail
KUSTOMIZE_VERSION="${KUSTOMIZE_MODULE_VERSION:-v5.8.2}"      # sigs.k8s.io/kustomize/kustomize/v5
KUBECONFORM_VERSION="${KUBECONFORM_MODULE_VERSION:-v0.8.0}"  # github.com/yannh/kubeconform
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN_DIR="$REPO/.infra/bin"

# build NAME PACKAGE VERSION [LDFLAGS]: skip when the binary of that version is there already.
build() {
  local name=$1 package=$2 version=$3 ldflags="-s -w ${4:-}" bin="$BIN_DIR/$1" tmp
  if [[ -x "$bin" && -f "$bin.version" && "$(cat "$bin.version")" == "$version" ]]; then
    echo "$bin"; return
  fi
  command -v go >/dev/null || { echo "$name: Go is not installed (https://go.dev/dl/)" >&2; exit 1; }
  mkdir -p "$BIN_DIR"
  # Built beside, then moved: a test and `make k8s-check` building at once never see half a binary.
  tmp="$(mktemp -d "$BIN_DIR/.build.XXXXXX")"
  echo "building $name $version (a minute or two the first time)" >&2
  (cd "$tmp" && GOTOOLCHAIN=local GOBIN="$tmp" go install -trimpath -ldflags "$ldflags" "$package@$version") \
    || { rm -rf "$tmp"; exit 1; }
  mv -f "$tmp/$name" "$bin"
  rm -rf "$tmp"
  echo "$version" > "$bin.version"
  echo "$bin"
}

build kustomize sigs.k8s.io/kustomize/kustomize/v5 "$KUSTOMIZE_VERSION"
# kubeconform reports "development" unless its version is linked in.
build kubeconform github.com/yannh/kubeconform/cmd/kubeconform "$KUBECONFORM_VERSION" "-X main.version=$KUBECONFORM_VERSION"
