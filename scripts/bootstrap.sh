#!/usr/bin/env bash
# Install everything the project needs on a fresh machine, idempotently:
#   - Debian packages via apt-get when missing: PostgreSQL 15, openssl, shellcheck, and for
#     the dev node containerd, runc, the CNI plugins, umoci and skopeo (images are built
#     locally from busybox-static, downloaded by the dev_cluster role)
#   - the project venv (.venv) from the pinned requirements.txt
#   - the collection link .collections/ansible_collections/dynamic_secrets/vault
# Go-built binaries (etcd, kube-apiserver, ...) are built on demand by the
# dev_cluster role into a cache outside the repository.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

need_apt=()
[ -x /usr/lib/postgresql/15/bin/initdb ] || need_apt+=(postgresql-15 postgresql-client-15)
command -v openssl >/dev/null || need_apt+=(openssl)
command -v shellcheck >/dev/null || need_apt+=(shellcheck)
command -v containerd >/dev/null || need_apt+=(containerd)
command -v runc >/dev/null || need_apt+=(runc)
[ -x /usr/lib/cni/loopback ] || need_apt+=(containernetworking-plugins)
command -v umoci >/dev/null || need_apt+=(umoci)
command -v skopeo >/dev/null || need_apt+=(skopeo)
command -v strip >/dev/null || need_apt+=(binutils)
if [ "${#need_apt[@]}" -gt 0 ]; then
  echo "bootstrap: apt-get install ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${need_apt[@]}"
  # Debian's package creates and starts a default cluster on 5432; the
  # project runs its own clusters, so leave the default one stopped.
  if command -v pg_ctlcluster >/dev/null; then pg_ctlcluster 15 main stop 2>/dev/null || true; fi
fi

PY="${PYTHON:-python3.11}"
command -v "$PY" >/dev/null || PY=python3
stamp=".venv/.requirements.sha256"
want="$(sha256sum requirements.txt | cut -d' ' -f1)"
if [ ! -x .venv/bin/python ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "bootstrap: creating .venv from requirements.txt"
  "$PY" -m venv .venv
  .venv/bin/pip install -q --upgrade pip
  .venv/bin/pip install -q -r requirements.txt
  echo "$want" > "$stamp"
fi

mkdir -p .collections/ansible_collections/dynamic_secrets
ln -sfn ../../.. .collections/ansible_collections/dynamic_secrets/vault
echo "bootstrap: ready (venv: $ROOT/.venv)"
