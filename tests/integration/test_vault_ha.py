"""A 3-node integrated-storage (Raft) cluster that loses its leader (the runbook's "what
happens if the Vault server goes down?"), for OpenBao and for HashiCorp Vault.

The vault_server role starts the cluster on loopback; the test issues database
credentials in a loop through the collection's own client (``url`` lists every node)
while the active node is killed, measures the time without service, and checks that
every credential issued before and after still logs in and that revoking their leases
after the failover drops them from PostgreSQL.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import signal
import tempfile
import time
from pathlib import Path
from typing import Iterator

import hvac
import pytest

from tests.integration.ansible_runner import run_playbook
from tests.integration.fixtures_servers import free_port_run

from ansible_collections.dynamic_secrets.vault.plugins.module_utils import _postgres
from ansible_collections.dynamic_secrets.vault.plugins.module_utils._client import connect
from ansible_collections.dynamic_secrets.vault.plugins.module_utils._credentials import (
    read_credentials,
)

CLUSTER = """
- hosts: localhost
  gather_facts: false
  roles:
    - role: vault_server
"""

NODES = 3


@dataclasses.dataclass
class Cluster:
    flavor: str
    home: Path
    base_port: int
    token: str

    @property
    def addrs(self) -> list[str]:
        return [f"http://127.0.0.1:{self.base_port + 2 * n}" for n in range(NODES)]

    def node_pid(self, addr: str) -> int:
        index = self.addrs.index(addr)
        return int((self.home / "vault" / f"node{index}" / "server.pid").read_text().split()[0])

    def client(self, addr: str) -> hvac.Client:
        return hvac.Client(url=addr, token=self.token)

    def active(self) -> str:
        for addr in self.addrs:
            try:
                leader = self.client(addr).sys.read_leader_status()
            except Exception:  # noqa: BLE001 - a dead node
                continue
            if leader.get("leader_address"):
                return leader["leader_address"]
        raise AssertionError("no node knows the leader")


@pytest.fixture(scope="module", params=["openbao", "vault"])
def cluster(request, vault_binary_for) -> Iterator[Cluster]:
    flavor = request.param
    base = Path(tempfile.mkdtemp(prefix=f"it-ha-{flavor}-"))
    home = base / "home"
    port = free_port_run(2 * NODES)
    extra = {"vault_server_ha": True, "vault_server_port": port, "vault_server_flavor": flavor,
             "vault_server_binary": vault_binary_for(flavor)}
    env = {"DYNAMIC_SECRETS_HOME": str(home)}
    try:
        first = run_playbook(CLUSTER, env=env, extra_vars=extra, timeout=600)
        again = run_playbook(CLUSTER, env=env, extra_vars=extra, timeout=600)
        assert again.changed == 0, again.describe()
        assert first.changed > 0
        token = (home / "vault" / "root-token").read_text().strip()
        yield Cluster(flavor, home, port, token)
    finally:
        try:
            run_playbook(CLUSTER, env=env, extra_vars={**extra, "vault_server_state": "absent"}, timeout=300)
        finally:
            for pidfile in home.glob("vault/node*/server.pid"):
                try:
                    os.kill(int(pidfile.read_text().split()[0]), signal.SIGKILL)
                except (OSError, ValueError):
                    pass
            shutil.rmtree(base, ignore_errors=True)


def test_the_cluster_has_one_active_node_and_two_standbys(cluster: Cluster) -> None:
    """Every node is unsealed and joined; vault.env points at the active one."""
    statuses = [hvac.Client(url=a).sys.read_health_status(method="GET", standby_ok=True) for a in cluster.addrs]
    assert sum(1 for s in statuses if not s["standby"]) == 1
    assert all(s["initialized"] and not s["sealed"] for s in statuses)
    env_file = (cluster.home / "vault.env").read_text()
    assert f"export VAULT_ADDR={cluster.active()}" in env_file
    peers = cluster.client(cluster.active()).read("sys/storage/raft/configuration")["data"]["config"]["servers"]
    assert len(peers) == NODES


def test_issuance_survives_losing_the_leader(cluster: Cluster, postgres, capsys) -> None:
    """Credentials are issued every 0.2 s while the active node is killed: issuance resumes on
    the new leader; every login issued before and after works; revoking the leases after the
    failover drops the logins from PostgreSQL."""
    root = cluster.client(cluster.active())
    mount = f"db-ha-{cluster.flavor}"
    root.sys.enable_secrets_engine("database", path=mount)
    root.write_data(f"{mount}/config/appdb", data={
        "plugin_name": "postgresql-database-plugin", "connection_url": postgres.connection_url(),
        "username": postgres.admin_user, "password": postgres.admin_password, "allowed_roles": ["rw"]})
    root.write_data(f"{mount}/roles/rw", data={
        "db_name": "appdb", "default_ttl": "1h", "max_ttl": "24h",
        "creation_statements": ["CREATE ROLE \"{{name}}\" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL "
                                "'{{expiration}}';", _postgres.creation_grant(postgres.admin_user),
                                'GRANT SELECT ON ALL TABLES IN SCHEMA public TO "{{name}}";'],
        "revocation_statements": _postgres.revocation_statements("webapp_owner")})
    params = dict(url=",".join(cluster.addrs), token=cluster.token, auth_method="token", timeout=5, retries=0,
                  validate_certs=True)

    def issue():
        return read_credentials(connect(dict(params)), mount, "rw")

    issued, failures, last_error = [], 0, ""
    last_ok_before = first_ok_after = killed_at = None
    leader = cluster.active()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        now = time.monotonic()
        try:
            creds = issue()
        except Exception as exc:  # noqa: BLE001 - no service during the failover
            failures += 1
            last_error = str(exc)
        else:
            issued.append(creds)
            if killed_at is None:
                last_ok_before = now
            elif first_ok_after is None:
                first_ok_after = now
        if killed_at is None and len(issued) >= 5:
            os.kill(cluster.node_pid(leader), signal.SIGKILL)
            killed_at = time.monotonic()
        if first_ok_after is not None and len(issued) >= 10:
            break
        time.sleep(0.2)
    assert killed_at is not None and first_ok_after is not None, f"issuance did not resume ({failures} failures, the last: {last_error})"
    outage = first_ok_after - last_ok_before
    new_leader = cluster.active()
    assert new_leader != leader
    with capsys.disabled():
        print(f"\n[ha {cluster.flavor}] leader {leader} killed; new leader {new_leader}; no service for "
              f"{outage:.1f} s ({failures} failed requests); {len(issued)} credentials issued")
    assert outage < 60

    for creds in issued:
        assert postgres.can_login(creds["username"], creds["password"]), creds["username"]
    survivor = cluster.client(new_leader)
    for creds in issued:
        survivor.sys.revoke_lease(creds["lease_id"])
    for creds in issued:
        assert not postgres.role_exists(creds["username"]), creds["username"]
