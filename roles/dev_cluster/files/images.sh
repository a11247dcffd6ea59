#!/usr/bin/env bash
# Build the dev node's container images from local files and import them into its containerd.
# Nothing is pulled from a registry.
#
# Usage:
#   images.sh ref NAME...              prints "NAME REF" per image, building nothing but the pause program
#   images.sh ensure SOCKET NAME...    builds what is missing and imports it into the containerd at SOCKET;
#                                      prints "NAME REF present" (already there) or "NAME REF imported"
# NAME: pause | vault-agent | webapp
#
# Environment:
#   IMAGES_CACHE_DIR     cache root (required): Debian packages, built archives, Go caches
#   IMAGES_CTR           ctr binary (default: ctr)
#   IMAGES_GO            go binary (default: go), for the pause program
#   IMAGES_VAULT_BINARY  the Vault/OpenBao binary of the agent image, installed as /bin/vault
#   IMAGES_PSQL          the psql binary of the webapp image (its shared libraries come along)
#
# Every image is tagged dynamic-secrets.local/NAME:<hash of its inputs>, so it is rebuilt and
# re-imported only when an input changes (this script, a package, a binary).
# The rootfs: busybox-static (Debian package) with its applets, a passwd/group holding
# root, vault (100:1000) and nobody (65534), plus what the image adds.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache="${IMAGES_CACHE_DIR:?IMAGES_CACHE_DIR is required}"
ctr="${IMAGES_CTR:-ctr}"
go="${IMAGES_GO:-go}"
action="${1:?usage: images.sh ref|ensure ...}"
shift
case "$action" in
    ref) ;;
    ensure) socket="${1:?containerd socket}"; shift ;;
    *) echo "unknown action: $action" >&2; exit 2 ;;
esac

imgdir="$cache/images"
mkdir -p "$imgdir"
log() { printf '%s images: %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
scratch=()
cleanup() { [ "${#scratch[@]}" -eq 0 ] || rm -rf "${scratch[@]}"; }
trap cleanup EXIT

busybox_deb() {
    local debs=("$imgdir"/busybox-static_*.deb)
    if [ ! -e "${debs[0]}" ]; then
        log "downloading the busybox-static Debian package"
        (cd "$imgdir" && apt-get download -q busybox-static >&2) || {
            apt-get update -q >&2 && (cd "$imgdir" && apt-get download -q busybox-static >&2)
        }
        debs=("$imgdir"/busybox-static_*.deb)
    fi
    printf '%s\n' "${debs[0]}"
}

pause_binary() {
    local out
    out="$imgdir/pause-$(sha256sum "$here/pause/main.go" | cut -c1-16)"
    if [ ! -x "$out" ]; then
        log "building the pause program"
        (cd "$here/pause" && GOPATH="$cache/go" GOCACHE="$cache/go/build-cache" GOFLAGS=-modcacherw \
            GOTOOLCHAIN=local CGO_ENABLED=0 "$go" build -trimpath -ldflags "-s -w" -o "$out.tmp" .)
        mv -f "$out.tmp" "$out"
    fi
    printf '%s\n' "$out"
}

# The files an image is made of, one "SOURCE TARGET" per line.
inputs() {
    local name="$1" lib src
    case "$name" in
        pause) printf '%s /pause\n' "$(pause_binary)" ;;
        vault-agent)
            src="$(readlink -f "${IMAGES_VAULT_BINARY:?IMAGES_VAULT_BINARY is required}")"
            [ "$(head -c 4 "$src" | od -An -c | tr -d ' ')" = '177ELF' ] ||
                { echo "images: $IMAGES_VAULT_BINARY is not an executable binary (a script?)" >&2; exit 1; }
            printf '%s /bin/vault\n' "$src" ;;
        webapp)
            printf '%s /usr/bin/psql\n' "$(readlink -f "${IMAGES_PSQL:?IMAGES_PSQL is required}")"
            ldd "$IMAGES_PSQL" | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}' | sort -u |
                while read -r lib; do printf '%s %s\n' "$(readlink -f "$lib")" "$lib"; done ;;
        *) echo "unknown image: $name" >&2; exit 2 ;;
    esac
}

build() {
    local name="$1" ref="$2" archive="$3" files="$4" work rootfs user entry src dst
    work="$(mktemp -d "$imgdir/.build-$name.XXXXXX")"
    scratch+=("$work")
    rootfs="$work/rootfs"
    mkdir -p "$rootfs"/{bin,etc,tmp,home/vault,vault/secrets}
    chmod 1777 "$rootfs/tmp"
    if [ "$name" != pause ]; then
        dpkg-deb -x "$(busybox_deb)" "$work/busybox"
        cp "$work/busybox/bin/busybox" "$rootfs/bin/busybox"
        chroot "$rootfs" /bin/busybox --install -s /bin
    fi
    printf 'root:x:0:0:root:/root:/bin/sh\nvault:x:100:1000:vault:/home/vault:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' > "$rootfs/etc/passwd"
    printf 'root:x:0:\nvault:x:1000:\nnobody:x:65534:\n' > "$rootfs/etc/group"
    chown 100:1000 "$rootfs/home/vault" "$rootfs/vault/secrets"
    while read -r src dst; do
        mkdir -p "$rootfs$(dirname "$dst")"
        case "$name:$dst" in
            vault-agent:/bin/vault) strip -o "$rootfs$dst" "$src" 2>/dev/null || cp "$src" "$rootfs$dst" ;;
            *) cp "$src" "$rootfs$dst" ;;
        esac
    done <<< "$files"
    case "$name" in
        pause) user=65534; entry=/pause ;;
        vault-agent) user=100; entry=/bin/vault ;;
        webapp) user=65534; entry=/bin/sh ;;
    esac
    umoci init --layout "$work/oci" >&2
    umoci new --image "$work/oci:img" >&2
    umoci insert --image "$work/oci:img" "$rootfs" / >&2
    umoci config --image "$work/oci:img" --config.user="$user" --config.entrypoint="$entry" \
        --config.env=PATH=/usr/local/bin:/usr/bin:/bin --config.workingdir=/ >&2
    skopeo copy -q "oci:$work/oci:img" "docker-archive:$archive.tmp:$ref" >&2
    mv -f "$archive.tmp" "$archive"
}

for name in "$@"; do
    files="$(inputs "$name")"
    hash="$( { cat "${BASH_SOURCE[0]}"; [ "$name" = pause ] || sha256sum "$(busybox_deb)";
               while read -r src _; do sha256sum "$src"; done <<< "$files"; echo "$files"; } |
             sha256sum | cut -c1-16)"
    ref="dynamic-secrets.local/$name:$hash"
    if [ "$action" = ref ]; then
        echo "$name $ref"
        continue
    fi
    archive="$imgdir/$name-$hash.tar"
    exec 9> "$imgdir/.$name.lock"
    flock 9
    if "$ctr" --address "$socket" -n k8s.io images ls -q "name==$ref" | grep -qx "$ref"; then
        echo "$name $ref present"
    else
        [ -s "$archive" ] || { log "building $ref"; build "$name" "$ref" "$archive" "$files"; }
        "$ctr" --address "$socket" -n k8s.io images import "$archive" >&2
        echo "$name $ref imported"
    fi
    flock -u 9
done
