"""Runbook steps 1-5 through the roles: ``vault_server`` starts a dev OpenBao,
``postgres_server`` a PostgreSQL cluster with a least-privilege ``vault_admin``,
and ``database_secrets`` configures the database secrets engine with the two
webapp roles.

The roles run once for this module, in a private ``DYNAMIC_SECRETS_HOME`` below
a mode-0700 directory (like a home under ``/root``) and on free ports, so they
never touch a developer's own servers: apply, ``--check``, apply again. The
tests then inspect what a user would see; the last one stops the servers.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import signal
import socket
import stat
import tempfile
import time
from pathlib import Path
from typing import Iterator

import hvac
import psycopg2
import psycopg2.errors
import pytest

from tests.integration.ansible_runner import Result, run_playbook
from tests.integration.fixtures_servers import free_port

SITE = """
- hosts: localhost
  gather_facts: false
  module_defaults:
    group/dynamic_secrets.vault.vault:
      url: "{{ vault_server_addr }}"
      token: "{{ vault_server_token }}"
  roles:
    - role: vault_server
    - role: postgres_server
    - role: database_secrets
"""

TEARDOWN = """
- hosts: localhost
  gather_facts: false
  roles:
    - role: vault_server
      vault_server_state: absent
    - role: postgres_server
      postgres_server_state: absent
"""

TIMEOUT = 900


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie nobody reaped yet counts as ended)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\nState:\tZ" not in status


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@dataclasses.dataclass
class Deployment:
    home: Path
    vault_port: int
    pg_port: int
    env: dict[str, str]
    extra_vars: dict[str, object]
    first: Result
    check: Result
    second: Result

    @property
    def vault_addr(self) -> str:
        return f"http://127.0.0.1:{self.vault_port}"

    @property
    def vault_token(self) -> str:
        return (self.home / "vault" / "root-token").read_text().strip()

    def vault(self) -> hvac.Client:
        return hvac.Client(url=self.vault_addr, token=self.vault_token)

    def connect(self, user: str, password: str):
        conn = psycopg2.connect(host="127.0.0.1", port=self.pg_port, dbname="appdb", user=user,
                                password=password, connect_timeout=5)
        conn.autocommit = True
        return conn

    def superuser_query(self, sql: str, params=None) -> list[tuple]:
        password = (self.home / "postgres" / "superuser-password").read_text().strip()
        conn = self.connect("postgres", password)
        try:
            with conn.cursor() as cur:
                cur.execute(sql, params)
                return cur.fetchall() if cur.description else []
        finally:
            conn.close()

    def vault_pid(self) -> int | None:
        pidfile = self.home / "vault" / "server.pid"
        return int(pidfile.read_text().split()[0]) if pidfile.exists() else None

    def postgres_pid(self) -> int | None:
        pidfile = self.home / "postgres" / "data" / "postmaster.pid"
        return int(pidfile.read_text().split()[0]) if pidfile.exists() else None

    def issue(self, role: str) -> dict:
        return self.vault().secrets.database.generate_credentials(name=role, mount_point="database")


def _kill_leftovers(deployment_home: Path) -> None:
    """Last resort after a failed teardown: stop what the roles started, by pid file."""
    for pidfile in (deployment_home / "vault" / "server.pid",
                    deployment_home / "postgres" / "data" / "postmaster.pid"):
        try:
            pid = int(pidfile.read_text().split()[0])
            os.kill(pid, signal.SIGTERM)
        except (OSError, ValueError, IndexError):
            continue


@pytest.fixture(scope="module")
def deployment() -> Iterator[Deployment]:
    """The three roles applied (twice, with a check-mode run between) to a private home."""
    base = Path(tempfile.mkdtemp(prefix="it-roles-"))  # mode 0700, like /root
    home = base / "home"
    vault_port = free_port(pairs=True)
    pg_port = free_port()
    env = {"DYNAMIC_SECRETS_HOME": str(home)}
    extra_vars = {"vault_server_port": vault_port, "postgres_server_port": pg_port}

    def run(**kwargs) -> Result:
        return run_playbook(SITE, env=env, extra_vars=extra_vars, timeout=TIMEOUT, **kwargs)

    try:
        first = run()
        check = run(check=True)
        second = run()
        yield Deployment(home, vault_port, pg_port, env, extra_vars, first, check, second)
    finally:
        try:
            run_playbook(TEARDOWN, env=env, extra_vars=extra_vars, timeout=TIMEOUT)
        except AssertionError:
            _kill_leftovers(home)
        shutil.rmtree(base, ignore_errors=True)


def test_first_run_starts_both_servers_and_configures_vault(deployment: Deployment) -> None:
    """A first run reports changes and leaves a healthy Vault whose database engine
    connects to PostgreSQL as vault_admin and allows exactly the two webapp roles."""
    assert deployment.first.changed > 0, deployment.first.describe()
    client = deployment.vault()
    assert client.sys.read_health_status(method="GET")["sealed"] is False
    config = client.secrets.database.read_connection(name="appdb", mount_point="database")["data"]
    assert config["connection_details"]["username"] == "vault_admin"
    assert set(config["allowed_roles"]) == {"webapp-readonly", "webapp-readwrite"}
    for role in ("webapp-readonly", "webapp-readwrite"):
        data = client.secrets.database.read_role(name=role, mount_point="database")["data"]
        assert (data["default_ttl"], data["max_ttl"]) == (3600, 86400)


def test_check_mode_on_converged_system_changes_nothing(deployment: Deployment) -> None:
    """`--check` against the converged servers succeeds and reports changed=0."""
    assert deployment.check.failed == 0
    assert deployment.check.changed == 0, deployment.check.describe()


def test_second_run_is_idempotent(deployment: Deployment) -> None:
    """Running the roles again reports changed=0 and keeps the same server processes."""
    assert deployment.second.changed == 0, deployment.second.describe()
    assert deployment.second.failed == 0


def test_servers_outlive_ansible_playbook(deployment: Deployment) -> None:
    """The servers keep running after ansible-playbook has exited, on the chosen ports."""
    assert deployment.vault_pid() and _alive(deployment.vault_pid())
    assert deployment.postgres_pid() and _alive(deployment.postgres_pid())
    assert _listening(deployment.vault_port)
    assert _listening(deployment.pg_port)


def test_readwrite_credential_can_insert(deployment: Deployment) -> None:
    """A webapp-readwrite credential from Vault logs in and can INSERT (serial id included)."""
    creds = deployment.issue("webapp-readwrite")
    try:
        conn = deployment.connect(creds["data"]["username"], creds["data"]["password"])
        try:
            with conn.cursor() as cur:
                cur.execute("INSERT INTO public.items (name) VALUES ('from readwrite') RETURNING id")
                assert cur.fetchone()[0] > 0
        finally:
            conn.close()
    finally:
        deployment.vault().sys.revoke_lease(creds["lease_id"])


def test_readonly_credential_can_select_but_not_insert(deployment: Deployment) -> None:
    """A webapp-readonly credential can SELECT the sample rows but INSERT is refused."""
    creds = deployment.issue("webapp-readonly")
    try:
        conn = deployment.connect(creds["data"]["username"], creds["data"]["password"])
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT name FROM public.items ORDER BY id")
                names = [row[0] for row in cur.fetchall()]
                assert names[:2] == ["first item", "second item"]
                with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                    cur.execute("INSERT INTO public.items (name) VALUES ('from readonly')")
        finally:
            conn.close()
    finally:
        deployment.vault().sys.revoke_lease(creds["lease_id"])


def test_revoking_the_lease_drops_the_login(deployment: Deployment) -> None:
    """Revoking a credential's lease drops its PostgreSQL role, so it can no longer log in."""
    creds = deployment.issue("webapp-readwrite")
    user, password = creds["data"]["username"], creds["data"]["password"]
    deployment.connect(user, password).close()
    deployment.vault().sys.revoke_lease(creds["lease_id"])
    assert deployment.superuser_query("SELECT 1 FROM pg_roles WHERE rolname = %s", (user,)) == []
    with pytest.raises(psycopg2.OperationalError):
        deployment.connect(user, password)


def test_revoking_a_login_that_created_a_table_ends_its_session_and_keeps_the_table(
        deployment: Deployment) -> None:
    """Vault's default revocation fails once a login owns a table (and leaves its sessions
    running). The role's statements end the session, hand the table with its rows to the
    owner role and drop the login, all as the least-privilege vault_admin."""
    creds = deployment.issue("webapp-readwrite")
    user, password = creds["data"]["username"], creds["data"]["password"]
    # The webapp roles stay least-privilege: this test alone lets the login create tables,
    # granted by vault_admin as a role's creation statements would.
    deployment.superuser_query("GRANT CREATE ON SCHEMA public TO vault_admin WITH GRANT OPTION")
    deployment.superuser_query(f'SET ROLE vault_admin; GRANT CREATE ON SCHEMA public TO "{user}"; RESET ROLE')
    table = f"made_by_{user[-10:]}"
    conn = deployment.connect(user, password)
    with conn.cursor() as cur:
        cur.execute(f"CREATE TABLE public.{table} (id int)")
        cur.execute(f"INSERT INTO public.{table} VALUES (1), (2)")
    try:
        deployment.vault().sys.revoke_lease(creds["lease_id"])
        with pytest.raises(psycopg2.OperationalError):  # the open session was ended
            with conn.cursor() as cur:
                cur.execute("SELECT 1")
    finally:
        conn.close()
    assert deployment.superuser_query("SELECT 1 FROM pg_roles WHERE rolname = %s", (user,)) == []
    assert deployment.superuser_query(
        "SELECT tableowner FROM pg_tables WHERE schemaname = 'public' AND tablename = %s",
        (table,)) == [("webapp_owner",)]
    assert deployment.superuser_query(f"SELECT count(*) FROM public.{table}") == [(2,)]
    with pytest.raises(psycopg2.OperationalError):
        deployment.connect(user, password)
    deployment.superuser_query("REVOKE CREATE ON SCHEMA public FROM vault_admin CASCADE")


def test_role_verification_leaves_no_login_behind(deployment: Deployment) -> None:
    """The roles' own proof credential (issued on every run) is revoked again: no login
    created by Vault survives the three runs."""
    leftovers = deployment.superuser_query("SELECT rolname FROM pg_roles WHERE rolname LIKE 'v-%'")
    assert leftovers == []


def test_vault_admin_is_least_privilege_and_rotated(deployment: Deployment) -> None:
    """Vault's admin login is CREATEROLE but not a superuser, and after root rotation the
    password postgres_server generated no longer works: only Vault knows it."""
    [(superuser, createrole)] = deployment.superuser_query(
        "SELECT rolsuper, rolcreaterole FROM pg_roles WHERE rolname = 'vault_admin'")
    assert superuser is False and createrole is True
    stored = (deployment.home / "postgres" / "vault_admin-password").read_text().strip()
    with pytest.raises(psycopg2.OperationalError):
        deployment.connect("vault_admin", stored)


def test_env_file_is_private_and_points_at_the_server(deployment: Deployment) -> None:
    """<home>/vault.env is mode 0600 and its VAULT_ADDR/VAULT_TOKEN authenticate to the server."""
    env_file = deployment.home / "vault.env"
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    exported = {}
    for line in env_file.read_text().splitlines():
        if line.startswith("export "):
            key, _sep, value = line[len("export "):].partition("=")
            exported[key] = value.strip("'")
    assert exported["VAULT_ADDR"] == exported["BAO_ADDR"] == deployment.vault_addr
    assert exported["VAULT_TOKEN"] == exported["BAO_TOKEN"]
    assert hvac.Client(url=exported["VAULT_ADDR"], token=exported["VAULT_TOKEN"]).is_authenticated()


def test_audit_device_records_requests(deployment: Deployment) -> None:
    """The file audit device is on by default: Vault requests land in <home>/vault/audit.log."""
    audit_log = deployment.home / "vault" / "audit.log"
    assert stat.S_IMODE(audit_log.stat().st_mode) & 0o077 == 0
    assert "database/config/appdb" in audit_log.read_text()


def test_servers_listen_on_loopback_only(deployment: Deployment) -> None:
    """Both servers bind 127.0.0.1 only (PostgreSQL's listen_addresses, Vault's listener)."""
    [(listen,)] = deployment.superuser_query("SHOW listen_addresses")
    assert listen == "127.0.0.1"
    args = Path(f"/proc/{deployment.vault_pid()}/cmdline").read_bytes().split(b"\0")
    assert f"-dev-listen-address=127.0.0.1:{deployment.vault_port}".encode() in args


def test_state_absent_stops_both_servers(deployment: Deployment) -> None:
    """`state: absent` stops the Vault and PostgreSQL processes; nothing keeps running."""
    vault_pid, postgres_pid = deployment.vault_pid(), deployment.postgres_pid()
    assert vault_pid and postgres_pid
    result = run_playbook(TEARDOWN, env=deployment.env, extra_vars=deployment.extra_vars,
                          timeout=TIMEOUT)
    assert result.changed == 2, result.describe()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and (_alive(vault_pid) or _alive(postgres_pid)):
        time.sleep(0.2)
    assert not _alive(vault_pid)
    assert not _alive(postgres_pid)
    assert not _listening(deployment.vault_port)
    assert not _listening(deployment.pg_port)
    again = run_playbook(TEARDOWN, env=deployment.env, extra_vars=deployment.extra_vars,
                         timeout=TIMEOUT)
    assert again.changed == 0, again.describe()
