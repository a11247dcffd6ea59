#!/usr/bin/env bash
# Build the dev cluster binaries from the Go module proxy into a cache keyed by version.
#
# Usage: build-binaries.sh TARGET...
#   TARGET: kube-apiserver | kube-controller-manager | kube-scheduler | kubelet | etcd | vault-k8s | vault
# Environment:
#   DEV_CLUSTER_CACHE_DIR       cache root (required); binaries go to $DEV_CLUSTER_CACHE_DIR/bin
#   DEV_CLUSTER_K8S_VERSION     e.g. v1.34.4
#   DEV_CLUSTER_ETCD_VERSION    e.g. v3.6.4
#   DEV_CLUSTER_VAULT_K8S_VERSION  e.g. v1.6.2
#   DEV_CLUSTER_VAULT_VERSION   HashiCorp Vault server, e.g. v1.21.0
#   DEV_CLUSTER_GO              go command (default: go)
#
# Each binary lands at bin/<target>-<version> (written to a temporary name, then renamed);
# an existing binary is never rebuilt.
# Go's module, build and GOPATH caches live under the cache root, so nothing is written
# to the user's own Go setup or to the repository (wrapper modules are copied first).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache="${DEV_CLUSTER_CACHE_DIR:?DEV_CLUSTER_CACHE_DIR is required}"
k8s_version="${DEV_CLUSTER_K8S_VERSION:-v1.34.4}"
etcd_version="${DEV_CLUSTER_ETCD_VERSION:-v3.6.4}"
vault_k8s_version="${DEV_CLUSTER_VAULT_K8S_VERSION:-v1.6.2}"
vault_version="${DEV_CLUSTER_VAULT_VERSION:-v1.21.0}"
go="${DEV_CLUSTER_GO:-go}"

export GOPATH="$cache/go"
export GOMODCACHE="$cache/go/mod"
export GOCACHE="$cache/go/build-cache"
# -modcacherw keeps the module cache deletable with a plain rm -rf.
export GOFLAGS="-mod=mod -modcacherw"
export GOTOOLCHAIN=local
export CGO_ENABLED=0

bindir="$cache/bin"
mkdir -p "$bindir" "$GOMODCACHE" "$GOCACHE"

log() { printf '%s build-binaries: %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# Copy a wrapper module into a fresh scratch directory under the cache; sets $workdir.
workdir_for() {
    mkdir -p "$cache/go/work"
    workdir="$(mktemp -d "$cache/go/work/$1-$2.XXXXXX")"
    scratch+=("$workdir")
    cp -R "$here/gobuild/$1/." "$workdir/"
}
scratch=()
cleanup() { [ "${#scratch[@]}" -eq 0 ] || rm -rf "${scratch[@]}"; }
trap cleanup EXIT

# Point the Kubernetes wrapper at another release: require it and replace every
# staging module (the release's own `=> ./staging/...` lines) by v0.<minor>.<patch>.
retarget_kubernetes() {
    local dir="$1" version="$2" gomod staging
    gomod="$(cd "$dir" && "$go" mod download -json "k8s.io/kubernetes@$version" \
        | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')"
    staging="v0.${version#v1.}"
    (
        cd "$dir"
        awk '$2 == "=>" && $3 ~ /^\.\/staging\// {print $1}' "$gomod" | while read -r mod; do
            "$go" mod edit -replace="$mod=$mod@$staging"
        done
        "$go" mod edit -require="k8s.io/kubernetes@$version"
        "$go" mod tidy
    )
}

pinned_version() {
    (cd "$1" && "$go" list -m -f '{{.Version}}' "$2")
}

build_kubernetes() {
    local cmd="$1" out="$bindir/$1-$k8s_version" dir minor build_date ldflags
    workdir_for kubernetes "$k8s_version"
    dir="$workdir"
    if [ "$(pinned_version "$dir" k8s.io/kubernetes)" != "$k8s_version" ]; then
        log "retargeting the kubernetes wrapper module to $k8s_version"
        retarget_kubernetes "$dir" "$k8s_version"
    fi
    minor="${k8s_version#v1.}"
    minor="${minor%%.*}"
    # The release's publication time keeps the binary reproducible.
    build_date="$(cd "$dir" && "$go" list -m -f '{{.Time.UTC.Format "2006-01-02T15:04:05Z"}}' k8s.io/kubernetes)"
    ldflags="-s -w"
    for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
        ldflags+=" -X $pkg.gitVersion=$k8s_version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
        ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=$build_date"
    done
    log "building $cmd $k8s_version"
    (cd "$dir" && "$go" build -trimpath -ldflags "$ldflags" -o "$out.tmp" "k8s.io/kubernetes/cmd/$cmd")
    mv -f "$out.tmp" "$out"
}

# Build one binary from a wrapper module that pins a single Go module (etcd, vault-k8s,
# Vault): retarget the pin when another version is asked for, then build the package.
# Usage: build_pinned WRAPPER VERSION MODULE PACKAGE OUT LDFLAGS
build_pinned() {
    local wrapper="$1" version="$2" module="$3" package="$4" out="$5" ldflags="$6" dir
    workdir_for "$wrapper" "$version"
    dir="$workdir"
    if [ "$(pinned_version "$dir" "$module")" != "$version" ]; then
        log "retargeting the $wrapper wrapper module to $version"
        (cd "$dir" && "$go" mod edit -require="$module@$version" && "$go" mod tidy)
    fi
    log "building $wrapper $version"
    (cd "$dir" && "$go" build -trimpath -ldflags "$ldflags" -o "$out.tmp" "$package")
    mv -f "$out.tmp" "$out"
}

build_etcd() {
    build_pinned etcd "$etcd_version" go.etcd.io/etcd/server/v3 . "$bindir/etcd-$etcd_version" "-s -w"
}

build_vault_k8s() {
    build_pinned vault-k8s "$vault_k8s_version" github.com/hashicorp/vault-k8s github.com/hashicorp/vault-k8s \
        "$bindir/vault-k8s-$vault_k8s_version" \
        "-s -w -X github.com/hashicorp/vault-k8s/version.Version=${vault_k8s_version#v}"
}

# HashiCorp Vault: its go.mod has replace directives, so `go install` refuses it; the
# wrapper module carries the two non-local replaces of the release (see gobuild/vault).
build_vault() {
    build_pinned vault "$vault_version" github.com/hashicorp/vault github.com/hashicorp/vault \
        "$bindir/vault-$vault_version" "-s -w"
}

[ "$#" -gt 0 ] || { echo "usage: $0 kube-apiserver|kube-controller-manager|kube-scheduler|kubelet|etcd|vault-k8s|vault..." >&2; exit 2; }
for target in "$@"; do
    start=$SECONDS
    # Concurrent runs (parallel test sessions, two playbooks) build each binary once:
    # the second waits for the first and then finds the binary in place.
    exec 9> "$bindir/.$target.lock"
    flock 9
    case "$target" in
        kube-apiserver | kube-controller-manager | kube-scheduler | kubelet)
            [ -x "$bindir/$target-$k8s_version" ] || build_kubernetes "$target" ;;
        etcd) [ -x "$bindir/etcd-$etcd_version" ] || build_etcd ;;
        vault-k8s) [ -x "$bindir/vault-k8s-$vault_k8s_version" ] || build_vault_k8s ;;
        vault) [ -x "$bindir/vault-$vault_version" ] || build_vault ;;
        *) echo "unknown target: $target" >&2; exit 2 ;;
    esac
    flock -u 9
    log "$target ready after $((SECONDS - start))s"
done
