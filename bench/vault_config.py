"""Benchmark: one vault_config task against the per-object modules in loops, side by side.

Starts one real OpenBao dev server with a file audit device, then for N database roles +
N ACL policies + N Kubernetes auth roles converges the same objects twice (first apply, then
a no-op re-run), once with the per-object modules in loops and once with a single
vault_config task, each on its own mounts and names. Prints wall time, write requests in
the audit log and the ratios, then vault_config alone at larger N.

Usage (from the repository root, after `make bootstrap`; no shebang: run it with the venv's Python):
    .venv/bin/python bench/vault_config.py [--n 20] [--scale 200 1000]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.integration.fixtures_servers import _start_openbao, _stop_process  # noqa: E402

PLAYBOOK = Path(sys.executable).with_name("ansible-playbook")


class Unsafe(str):
    """A string Ansible must not template (Vault's own {{name}} placeholders)."""


yaml.SafeDumper.add_representer(Unsafe, lambda dumper, value: dumper.represent_scalar("!unsafe", str(value)))
CREATION = [Unsafe('CREATE ROLE "{{name}}" WITH LOGIN PASSWORD \'{{password}}\' VALID UNTIL \'{{expiration}}\';')]
POLICY = 'path "database/creds/%s" {\n  capabilities = ["read"]\n}\n'


def document(tag: str, n: int) -> dict:
    db, k8s = f"db-{tag}", f"k8s-{tag}"
    return {
        "database": [{"mount_point": db, "roles": [
            {"name": f"role-{i}", "db_name": "appdb", "creation_statements": CREATION,
             "default_ttl": "1h", "max_ttl": "24h"} for i in range(n)]}],
        "kubernetes": [{"mount_point": k8s, "roles": [
            {"name": f"app-{i}", "bound_service_account_names": [f"sa-{i}"],
             "bound_service_account_namespaces": ["default"], "token_policies": [f"{tag}-policy-{i}"],
             "token_ttl": "1h"} for i in range(n)]}],
        "policies": [{"name": f"{tag}-policy-{i}", "policy": POLICY % f"role-{i}"} for i in range(n)],
    }


def looped_playbook(doc: dict) -> list:
    db, k8s = doc["database"][0], doc["kubernetes"][0]
    return [{"hosts": "localhost", "gather_facts": False, "tasks": [
        {"name": "policies", "dynamic_secrets.vault.vault_policy": "{{ item }}", "loop": doc["policies"]},
        {"name": "database roles", "dynamic_secrets.vault.vault_db_role":
            "{{ item | combine({'mount_point': '%s'}) }}" % db["mount_point"], "loop": db["roles"]},
        {"name": "kubernetes auth roles", "dynamic_secrets.vault.vault_k8s_auth_role":
            "{{ item | combine({'mount_point': '%s'}) }}" % k8s["mount_point"], "loop": k8s["roles"]},
    ]}]


def bulk_playbook(doc: dict) -> list:
    return [{"hosts": "localhost", "gather_facts": False, "tasks": [
        {"name": "whole configuration", "dynamic_secrets.vault.vault_config": doc}]}]


def count_writes(audit_log: Path, start: int) -> int:
    """Mutating requests (create/update/delete; logins and lookups left out) after byte ``start``."""
    writes = set()
    with audit_log.open("rb") as fh:
        fh.seek(start)
        for line in fh.read().decode("utf-8", "replace").splitlines():
            entry = json.loads(line)
            req = entry.get("request") or {}
            path = req.get("path", "")
            if entry.get("type") == "request" and req.get("operation") in ("create", "update", "delete") \
                    and not path.endswith("/login") and not path.startswith(("auth/token/lookup", "sys/capabilities")):
                writes.add(req.get("id"))
    return len(writes)


def run(server, work: Path, plays: list) -> tuple[float, int]:
    """Run the plays with ansible-playbook; return (wall seconds, write requests)."""
    book = work / f"play-{uuid.uuid4().hex[:6]}.yml"
    book.write_text(yaml.safe_dump(plays, sort_keys=False))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VAULT_", "BAO_"))}
    env.update(VAULT_ADDR=server.addr, VAULT_TOKEN=server.token, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"),
               ANSIBLE_PYTHON_INTERPRETER=sys.executable, ANSIBLE_STDOUT_CALLBACK="ansible.posix.json")
    start = server.audit_log.stat().st_size
    began = time.monotonic()
    proc = subprocess.run([str(PLAYBOOK), "-i", "localhost,", "-c", "local", str(book)], cwd=REPO, env=env,
                          capture_output=True, text=True, check=False)
    wall = time.monotonic() - began
    if proc.returncode != 0:
        sys.exit(f"ansible-playbook failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-2000:]}")
    return wall, count_writes(server.audit_log, start)


def prepare(server, doc: dict) -> None:
    """The mounts and the database connection the roles name (not verified: the bench measures the
    Vault configuration only, and the per-object role modules do not enable mounts)."""
    import hvac

    client = hvac.Client(url=server.addr, token=server.token)
    mount = doc["database"][0]["mount_point"]
    client.sys.enable_secrets_engine("database", path=mount)
    client.sys.enable_auth_method("kubernetes", path=doc["kubernetes"][0]["mount_point"])
    client.write_data(f"{mount}/config/appdb", data={
        "plugin_name": "postgresql-database-plugin", "verify_connection": False, "allowed_roles": ["*"],
        "connection_url": "postgresql://{{username}}:{{password}}@127.0.0.1:1/appdb"})  # not templated here


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20, help="objects of each kind for the side-by-side run")
    parser.add_argument("--scale", type=int, nargs="*", default=[200, 1000], help="larger N, vault_config alone")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-vault-config-"))
    server = _start_openbao(work)
    try:
        rows = []
        for label, builder in (("per-object modules in loops", looped_playbook), ("one vault_config task", bulk_playbook)):
            doc = document(uuid.uuid4().hex[:6], args.n)
            prepare(server, doc)
            first, first_writes = run(server, work, builder(doc))
            again, again_writes = run(server, work, builder(doc))
            rows.append((label, 3 * args.n, first, first_writes, again, again_writes))
        print(f"\nN={args.n} per kind ({3 * args.n} objects), OpenBao {server.addr}, one run\n")
        print("| how | objects | first apply | writes | no-op re-run | writes |")
        print("|---|---|---|---|---|---|")
        for label, objects, first, fw, again, aw in rows:
            print(f"| {label} | {objects} | {first:.1f} s | {fw} | {again:.1f} s | {aw} |")
        loop_first, loop_again = rows[0][2], rows[0][4]
        bulk_first, bulk_again = rows[1][2], rows[1][4]
        print(f"| ratio vault_config / loops | | {bulk_first / loop_first:.3f} | | {bulk_again / loop_again:.3f} | |")
        if args.scale:
            print("\nvault_config alone\n")
            print("| objects | first apply | writes | no-op re-run | writes | re-run per object |")
            print("|---|---|---|---|---|---|")
            for n in args.scale:
                doc = document(uuid.uuid4().hex[:6], n)
                prepare(server, doc)
                first, fw = run(server, work, bulk_playbook(doc))
                again, aw = run(server, work, bulk_playbook(doc))
                print(f"| {3 * n} | {first:.1f} s | {fw} | {again:.1f} s | {aw} | {1000 * again / (3 * n):.1f} ms |")
    finally:
        _stop_process(server.process)


if __name__ == "__main__":
    main()
