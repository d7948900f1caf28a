#!/usr/bin/env bash
# Builds the pinned third-party binaries that tests, the demo and code generation
# use (kube-apiserver, kubectl, etcd, registry, cosign, controller-gen) into bin/.
#
#   hack/tools.sh                      # all tools
#   hack/tools.sh kube-apiserver etcd  # some tools
#   hack/tools.sh --list               # names, versions and cache paths
#
# Versions are pinned by the go.mod/go.sum files under hack/tools/ (one Go module
# per tool family, so their dependency graphs never bump each other). Each binary
# is built once per machine and user into
#   ${KRITIS_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kritis-tools}/<name>-<version>-<key>/<name>
# where <key> hashes the module's go.mod, go.sum and *.go files, the build flags
# and the Go version, and is then hard-linked (or copied) into bin/. A fresh clone
# with a warm cache therefore takes about a second; a version bump rebuilds only
# the tools whose module changed.
#
# Environment:
#   KRITIS_BIN_DIR       where to put the binaries (default: <repo>/bin)
#   KRITIS_TOOLS_CACHE   cache directory (default: see above)
#   KRITIS_TOOLS_REBUILD=1  ignore the cache and rebuild
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS_DIR="$ROOT/hack/tools"
BIN_DIR="${KRITIS_BIN_DIR:-$ROOT/bin}"
CACHE_DIR="${KRITIS_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kritis-tools}"

ALL_TOOLS=(kube-apiserver kubectl etcd registry cosign controller-gen)

log() { printf '%s\n' "$*" >&2; }
die() { log "hack/tools.sh: $*"; exit 1; }

# module_version DIR MODULE: the version of MODULE that DIR/go.mod requires.
module_version() {
  local v
  v="$(awk -v m="$2" '{ if ($1 == "require") $0 = substr($0, index($0, $2)) } $1 == m { print $2; exit }' "$1/go.mod")"
  [[ -n "$v" ]] || die "$2 is not required by $1/go.mod"
  printf '%s' "$v"
}

# tool_spec NAME sets: MODDIR (module dir), PKG (package to build), VERSION,
# LDFLAGS, CGO (0/1) and ESTIMATE (cold build time on a 2-core machine).
tool_spec() {
  CGO=0
  case "$1" in
    kube-apiserver | kubectl)
      MODDIR="$TOOLS_DIR"
      PKG="k8s.io/kubernetes/cmd/$1"
      VERSION="$(module_version "$MODDIR" k8s.io/kubernetes)"
      local major minor x
      IFS=. read -r major minor x <<<"${VERSION#v}"
      LDFLAGS="-s -w"
      for x in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
        LDFLAGS+=" -X $x.gitVersion=$VERSION -X $x.gitMajor=$major -X $x.gitMinor=$minor -X $x.gitTreeState=clean"
      done
      if [[ "$1" == kube-apiserver ]]; then ESTIMATE="about 7 minutes"; else ESTIMATE="about 35 s after kube-apiserver, longer alone"; fi
      ;;
    etcd)
      MODDIR="$TOOLS_DIR/etcd"
      PKG="."
      VERSION="$(module_version "$MODDIR" go.etcd.io/etcd/server/v3)"
      LDFLAGS="-s -w"
      ESTIMATE="about 40 seconds"
      ;;
    registry)
      MODDIR="$TOOLS_DIR/registry"
      PKG="github.com/distribution/distribution/v3/cmd/registry"
      VERSION="$(module_version "$MODDIR" github.com/distribution/distribution/v3)"
      LDFLAGS="-s -w -X github.com/distribution/distribution/v3/version.version=$VERSION"
      ESTIMATE="about 1.5 minutes"
      ;;
    cosign)
      MODDIR="$TOOLS_DIR/cosign"
      PKG="github.com/sigstore/cosign/v2/cmd/cosign"
      VERSION="$(module_version "$MODDIR" github.com/sigstore/cosign/v2)"
      LDFLAGS="-s -w -X sigs.k8s.io/release-utils/version.gitVersion=$VERSION -X sigs.k8s.io/release-utils/version.gitTreeState=clean"
      ESTIMATE="about 4.5 minutes"
      ;;
    controller-gen)
      MODDIR="$TOOLS_DIR/controller-gen"
      PKG="sigs.k8s.io/controller-tools/cmd/controller-gen"
      VERSION="$(module_version "$MODDIR" sigs.k8s.io/controller-tools)"
      LDFLAGS="-s -w -X sigs.k8s.io/controller-tools/pkg/version.version=$VERSION"
      ESTIMATE="about 45 seconds"
      ;;
    *) die "unknown tool '$1' (known: ${ALL_TOOLS[*]})" ;;
  esac
}

GO_VERSION=""
go_version() {
  if [[ -z "$GO_VERSION" ]]; then
    command -v go >/dev/null || die "go is not on PATH"
    GO_VERSION="$(go env GOVERSION GOOS GOARCH | tr '\n' ' ')"
  fi
  printf '%s' "$GO_VERSION"
}

# cache_key NAME: short hash of everything that decides the binary's content.
cache_key() {
  {
    printf '%s\n' "$1" "$PKG" "$VERSION" "$LDFLAGS" "CGO_ENABLED=$CGO" "$(go_version)"
    (cd "$MODDIR" && find . -maxdepth 1 -type f \( -name go.mod -o -name go.sum -o -name '*.go' \) | LC_ALL=C sort | xargs cat)
  } | sha256sum | cut -c1-12
}

# install_bin SRC DST: hard-link SRC to DST (copy across file systems), atomically.
install_bin() {
  local src="$1" dst="$2"
  if [[ "$dst" -ef "$src" ]] || { [[ -f "$dst" ]] && cmp -s "$src" "$dst"; }; then
    return 0
  fi
  mkdir -p "$(dirname "$dst")"
  local tmp="$dst.tmp.$$"
  ln -f "$src" "$tmp" 2>/dev/null || cp -f "$src" "$tmp"
  chmod +x "$tmp"
  if ! mv -f "$tmp" "$dst" 2>/dev/null; then
    # mv refuses when a parallel run already linked the same file into place.
    rm -f "$tmp"
    [[ "$dst" -ef "$src" ]] || cmp -s "$src" "$dst" || die "cannot install $dst"
  fi
}

build_tool() {
  local name="$1"
  tool_spec "$name"
  local key dir out
  key="$(cache_key "$name")"
  dir="$CACHE_DIR/$name-$VERSION-$key"
  out="$dir/$name"

  if [[ -x "$out" && "${KRITIS_TOOLS_REBUILD:-0}" != 1 ]]; then
    install_bin "$out" "$BIN_DIR/$name"
    log "$name $VERSION: cached ($dir)"
    return 0
  fi

  mkdir -p "$dir"
  # One builder per cache entry: parallel callers (e.g. test packages) wait here.
  exec {lock_fd}>"$dir/.lock"
  if command -v flock >/dev/null; then flock "$lock_fd"; fi
  if [[ -x "$out" && "${KRITIS_TOOLS_REBUILD:-0}" != 1 ]]; then
    log "$name $VERSION: built by another process meanwhile ($dir)"
  else
    log "building $name $VERSION ($ESTIMATE on 2 cores with a cold Go build cache)..."
    local start=$SECONDS tmp="$out.tmp.$$"
    if ! (cd "$MODDIR" && GOWORK=off CGO_ENABLED="$CGO" \
      go build -trimpath -buildvcs=false -ldflags "$LDFLAGS" -o "$tmp" "$PKG"); then
      rm -f "$tmp"
      exec {lock_fd}>&-
      die "building $name failed"
    fi
    mv -f "$tmp" "$out"
    log "built $name $VERSION in $((SECONDS - start))s ($dir)"
  fi
  exec {lock_fd}>&-
  install_bin "$out" "$BIN_DIR/$name"
}

list_tools() {
  local name
  for name in "${ALL_TOOLS[@]}"; do
    tool_spec "$name"
    printf '%-15s %-8s %s\n' "$name" "$VERSION" "$CACHE_DIR/$name-$VERSION-$(cache_key "$name")/$name"
  done
}

main() {
  case "${1:-}" in
    -h | --help) sed -n '2,22p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; return 0 ;;
    --list) list_tools; return 0 ;;
  esac
  local tools=("$@") name start=$SECONDS
  [[ ${#tools[@]} -gt 0 ]] || tools=("${ALL_TOOLS[@]}")
  for name in "${tools[@]}"; do tool_spec "$name"; done # reject unknown names early
  for name in "${tools[@]}"; do build_tool "$name"; done
  log "tools ready in $BIN_DIR ($((SECONDS - start))s)"
}

main "$@"
