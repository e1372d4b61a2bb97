#!/usr/bin/env bash
# Builds the real Kubernetes binaries the test suite checks hac's output with (kubeadm,
# kube-apiserver, kube-controller-manager, kube-scheduler, kubectl) from the Go module
# k8s.io/kubernetes at a pinned version. They are test tools: no Go code goes into hac.
#
#   scripts/k8s-tools.sh 1.30.14        # build (or reuse) one version, print its folder
#   scripts/k8s-tools.sh --all          # every version the tests use (HAC_K8S_VERSIONS)
#
# k8s.io/kubernetes replaces its staging modules (k8s.io/api … k8s.io/kubelet) with local
# paths, so a scratch module that requires it must pin each of them with a `replace` line
# at the matching v0.MINOR.PATCH. The binaries are cached per version in
# ${HAC_K8S_CACHE:-$HOME/.cache/hac/k8s}/v<VERSION>/ (outside the work tree, so a fresh
# clone on the same machine reuses them; nothing of it is committed). Go's own module and
# build caches are reused as they are. A cached version is only reused when its stamp
# matches this script's recipe.
#
# Each version is built with the Go toolchain its release was built with (the module's
# `.go-version`, fetched by `go` itself from the module proxy as golang.org/toolchain):
# a newer Go changes behaviour that kubeadm relies on (Go 1.26's net/url rejects the
# `https://[10.96.0.1]:1234` kubeadm 1.30's proxy preflight check parses).
set -euo pipefail

# The versions the tests use: one that reads kubeadm.k8s.io/v1beta3 (1.30) and one that
# reads v1beta4 (1.32). tests/e2e_support/k8s.rs names the same ones.
HAC_K8S_VERSIONS=${HAC_K8S_VERSIONS:-"1.30.14 1.32.9"}
CACHE=${HAC_K8S_CACHE:-${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/hac/k8s}
TOOLS="kubeadm kube-apiserver kube-controller-manager kube-scheduler kubectl"
RECIPE=3 # bump when the build recipe changes, so old caches are rebuilt

log() { printf 'k8s-tools: %s\n' "$*" >&2; }

if ! command -v go >/dev/null 2>&1; then
  log "Go is not installed: install Go 1.22 or newer (https://go.dev/doc/install) and retry"
  exit 3
fi

build_version() {
  local version=${1#v}
  if ! [[ $version =~ ^1\.([0-9]+)\.([0-9]+)$ ]]; then
    log "not a Kubernetes version: '$1' (want MAJOR.MINOR.PATCH, e.g. 1.30.14)"
    exit 2
  fi
  local minor=${BASH_REMATCH[1]} patch=${BASH_REMATCH[2]}
  local dest="$CACHE/v$version"
  local stamp="recipe=$RECIPE"
  if [ -f "$dest/.stamp" ] && [ "$(cat "$dest/.stamp")" = "$stamp" ]; then
    local ok=1
    for t in $TOOLS; do [ -x "$dest/$t" ] || ok=0; done
    if [ $ok = 1 ]; then
      log "v$version: cached in $dest"
      echo "$dest"
      return
    fi
  fi

  local started=$SECONDS
  local src="$CACHE/src-v$version"
  mkdir -p "$src" "$dest"
  log "v$version: resolving k8s.io/kubernetes@v$version"
  local gomod
  gomod=$(cd "$src" && GOFLAGS=-mod=mod go mod download -json "k8s.io/kubernetes@v$version" |
    sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')
  if [ -z "$gomod" ] || [ ! -f "$gomod" ]; then
    log "v$version: the Go module proxy did not serve k8s.io/kubernetes@v$version"
    exit 3
  fi
  local goversion moddir toolchain
  goversion=$(sed -n 's/^go \([0-9.]*\)$/\1/p' "$gomod" | head -1)
  moddir=$(cd "$src" && go mod download -json "k8s.io/kubernetes@v$version" |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  toolchain=$(tr -d '[:space:]' <"$moddir/.go-version" 2>/dev/null || true)
  if ! [[ $toolchain =~ ^1\.[0-9]+(\.[0-9]+)?$ ]]; then
    log "v$version: no .go-version in the module; building with the installed Go"
    toolchain=local
  else
    toolchain=go$toolchain
  fi
  export GOTOOLCHAIN=$toolchain
  log "v$version: Go toolchain $toolchain ($(cd "$src" && go env GOVERSION))"
  {
    echo "module hac.test/k8s-tools"
    echo
    echo "go ${goversion:-1.22.0}"
    echo
    echo "require k8s.io/kubernetes v$version"
    echo
    echo "replace ("
    sed -n 's|^[[:space:]]*\(k8s\.io/[a-z0-9-]*\) => \./staging/src/.*$|\t\1 => \1 v0.'"$minor.$patch"'|p' "$gomod"
    echo ")"
  } >"$src/go.mod"
  rm -f "$src/go.sum"

  local pkg=k8s.io/component-base/version
  local ldflags="-s -w -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitVersion=v$version"
  ldflags+=" -X $pkg.gitCommit=0000000000000000000000000000000000000000 -X $pkg.gitTreeState=clean"
  ldflags+=" -X $pkg.buildDate=1970-01-01T00:00:00Z"
  ldflags+=" -X k8s.io/client-go/pkg/version.gitMajor=1 -X k8s.io/client-go/pkg/version.gitMinor=$minor"
  ldflags+=" -X k8s.io/client-go/pkg/version.gitVersion=v$version"
  for t in $TOOLS; do
    local t0=$SECONDS
    log "v$version: building $t (first build of a version takes minutes; later ones reuse Go's build cache)"
    (cd "$src" && CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -ldflags "$ldflags" \
      -o "$dest/$t.part" "k8s.io/kubernetes/cmd/$t")
    mv "$dest/$t.part" "$dest/$t"
    log "v$version: $t built in $((SECONDS - t0)) s"
  done
  "$dest/kubeadm" version -o short >/dev/null
  echo "$stamp" >"$dest/.stamp"
  unset GOTOOLCHAIN
  log "v$version: all built in $((SECONDS - started)) s into $dest ($(du -sh "$dest" | cut -f1))"
  echo "$dest"
}

if [ $# -eq 0 ]; then
  echo "usage: scripts/k8s-tools.sh VERSION... | --all" >&2
  exit 2
fi
if [ "$1" = "--all" ]; then set -- $HAC_K8S_VERSIONS; fi
for v in "$@"; do build_version "$v"; done
