"""dynamic_secrets.vault.vault_db_credentials against real OpenBao and PostgreSQL (runbook step 5)."""

from __future__ import annotations

import psycopg2
import pytest

# Run on OpenBao and on HashiCorp Vault (see fixtures_servers.server).
pytestmark = pytest.mark.both_servers

TASK = """
- name: creds
  dynamic_secrets.vault.vault_db_credentials:
    role: "{{ role }}"
    mount_point: "{{ mount }}"
"""


def leases(vault, mount, role):
    try:
        return vault.sys.list_leases(prefix=f"{mount}/creds/{role}/")["data"]["keys"]
    except Exception:  # noqa: BLE001 - hvac raises InvalidPath when there are none
        return []


def vault_logins(postgres):
    return {row[0] for row in postgres.superuser_query("SELECT rolname FROM pg_roles WHERE rolname LIKE 'v-%'")}


def test_check_mode_issues_nothing(server, vault, postgres, playbook, database_engine):
    """In check mode no credential is issued: no lease in Vault, no new login in PostgreSQL."""
    before = vault_logins(postgres)
    result = playbook(TASK, extra_vars={"role": "webapp-readonly", "mount": database_engine.mount_point},
                      check=True)
    assert result["creds"]["changed"] is True
    assert "password" not in result["creds"]
    assert leases(vault, database_engine.mount_point, "webapp-readonly") == []
    assert vault_logins(postgres) == before


def test_readonly_credentials_can_read_but_not_write(vault, postgres, playbook, database_engine):
    """`webapp-readonly` credentials are a working, expiring PostgreSQL login (lease 1h,
    renewable) that can SELECT from public.items but not INSERT."""
    result = playbook(TASK, extra_vars={"role": "webapp-readonly", "mount": database_engine.mount_point})
    creds = result["creds"]
    assert creds["changed"] is True
    assert creds["path"] == f"{database_engine.mount_point}/creds/webapp-readonly"
    assert creds["lease_id"].startswith(f"{database_engine.mount_point}/creds/webapp-readonly/")
    assert creds["lease_duration"] == 3600
    assert creds["renewable"] is True
    assert postgres.superuser_query("SELECT rolvaliduntil IS NOT NULL FROM pg_roles WHERE rolname = %s",
                                    (creds["username"],)) == [(True,)]

    conn = postgres.connect(creds["username"], creds["password"])
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM public.items")
            assert cur.fetchone()[0] >= 1
            with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                cur.execute("INSERT INTO public.items (name) VALUES ('from-readonly')")
    finally:
        conn.close()


def test_readwrite_credentials_can_write(vault, postgres, playbook, database_engine):
    """`webapp-readwrite` credentials can INSERT, UPDATE and DELETE rows of public.items."""
    result = playbook(TASK, extra_vars={"role": "webapp-readwrite", "mount": database_engine.mount_point})
    creds = result["creds"]
    conn = postgres.connect(creds["username"], creds["password"])
    try:
        with conn.cursor() as cur:
            cur.execute("INSERT INTO public.items (name) VALUES ('from-readwrite') RETURNING id")
            row_id = cur.fetchone()[0]
            cur.execute("UPDATE public.items SET name = 'updated' WHERE id = %s", (row_id,))
            cur.execute("DELETE FROM public.items WHERE id = %s", (row_id,))
            assert cur.rowcount == 1
    finally:
        conn.close()


def test_each_run_issues_a_new_login(vault, postgres, playbook, database_engine):
    """Every run issues a distinct login with its own lease (and says changed), as documented."""
    ev = {"role": "webapp-readonly", "mount": database_engine.mount_point}
    first = playbook(TASK, extra_vars=ev)["creds"]
    second = playbook(TASK, extra_vars=ev)["creds"]
    assert second["changed"] is True
    assert first["username"] != second["username"]
    assert first["lease_id"] != second["lease_id"]
    assert len(leases(vault, database_engine.mount_point, "webapp-readonly")) == 2
    for creds in (first, second):
        postgres.connect(creds["username"], creds["password"]).close()


def test_credentials_used_by_a_later_task(postgres, playbook, database_engine):
    """The documented pattern works: register the credentials with no_log and log in with them
    from a later task (community.postgresql.postgresql_query); the password is not printed."""
    tasks = """
- name: creds
  dynamic_secrets.vault.vault_db_credentials:
    role: webapp-readonly
    mount_point: "{{ mount }}"
  register: creds
  no_log: true

- name: query
  community.postgresql.postgresql_query:
    login_host: "{{ pg_host }}"
    port: "{{ pg_port }}"
    login_user: "{{ creds.username }}"
    login_password: "{{ creds.password }}"
    db: appdb
    query: SELECT count(*) AS n FROM public.items
"""
    result = playbook(tasks, extra_vars={"mount": database_engine.mount_point,
                                         "pg_host": postgres.host, "pg_port": postgres.port})
    assert result["creds"].get("password") is None  # censored by no_log
    assert result["query"]["query_result"][0]["n"] >= 1
