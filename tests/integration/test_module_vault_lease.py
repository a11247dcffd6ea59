"""dynamic_secrets.vault.vault_lease against real OpenBao and PostgreSQL (runbook step 11)."""

from __future__ import annotations

import pytest

# Run on OpenBao and on HashiCorp Vault (see fixtures_servers.server).
pytestmark = pytest.mark.both_servers

TASK = """
- name: lease
  dynamic_secrets.vault.vault_lease:
    lease_id: "{{ lease_id | default(omit) }}"
    prefix: "{{ prefix | default(omit) }}"
    state: "{{ lease_state | default('revoked') }}"
    increment: "{{ increment | default(omit) }}"
"""


def issue(vault, engine, role="webapp-readonly"):
    response = vault.read(f"{engine.mount_point}/creds/{role}")
    return response["lease_id"], response["data"]["username"], response["data"]["password"]


def lease_ttl(vault, lease_id):
    try:
        return vault.sys.read_lease(lease_id)["data"]["ttl"]
    except Exception:  # noqa: BLE001 - hvac raises InvalidRequest for unknown leases
        return None


def valid_until(postgres, user):
    rows = postgres.superuser_query("SELECT rolvaliduntil FROM pg_roles WHERE rolname = %s", (user,))
    return rows[0][0] if rows else None


def test_revoke_lease_drops_login(server, vault, postgres, playbook, database_engine):
    """Revoking a credential's lease removes the PostgreSQL login at once; check mode leaves it
    working and writes nothing, and revoking an already revoked lease is not a change."""
    lease_id, user, password = issue(vault, database_engine)
    ev = {"lease_id": lease_id}

    mark = server.mark()
    result = playbook(TASK, extra_vars=ev, check=True)
    assert result["lease"]["changed"] is True
    server.assert_no_writes(mark)
    assert lease_ttl(vault, lease_id) is not None
    assert postgres.can_login(user, password)

    result = playbook(TASK, extra_vars=ev)
    assert result["lease"]["changed"] is True
    assert result["lease"]["lease_id"] == lease_id
    assert not postgres.role_exists(user)
    assert not postgres.can_login(user, password)
    assert lease_ttl(vault, lease_id) is None

    mark = server.mark()
    result = playbook(TASK, extra_vars=ev)
    assert result["lease"]["changed"] is False
    server.assert_no_writes(mark)


def test_renew_lease_extends_login(server, vault, postgres, playbook, database_engine):
    """Renewing with increment 2h extends the lease beyond its 1h default and pushes the
    login's VALID UNTIL in PostgreSQL; check mode sends no renewal."""
    lease_id, user, _password = issue(vault, database_engine)
    before = valid_until(postgres, user)
    ev = {"lease_id": lease_id, "lease_state": "renewed", "increment": "2h"}

    mark = server.mark()
    result = playbook(TASK, extra_vars=ev, check=True)
    assert result["lease"]["changed"] is True
    server.assert_no_writes(mark)
    assert lease_ttl(vault, lease_id) <= 3600

    result = playbook(TASK, extra_vars=ev)
    assert result["lease"]["changed"] is True
    assert result["lease"]["lease_id"] == lease_id
    assert 3600 < result["lease"]["lease_duration"] <= 7200
    assert lease_ttl(vault, lease_id) > 3600
    assert valid_until(postgres, user) > before


def test_renew_unknown_lease_fails(server, playbook, database_engine):
    """Renewing a lease Vault does not know fails with a message naming the lease."""
    lease_id = f"{database_engine.mount_point}/creds/webapp-readonly/doesnotexist"
    result = playbook(TASK, extra_vars={"lease_id": lease_id, "lease_state": "renewed"}, expect_failure=True)
    assert lease_id in result["lease"]["msg"]


def test_revoke_prefix(server, vault, postgres, playbook, database_engine):
    """`prefix` revokes every read-only credential and leaves read-write ones alone; check mode
    revokes nothing and a second run finds nothing to revoke."""
    ro = [issue(vault, database_engine) for _attempt in range(2)]
    rw = issue(vault, database_engine, "webapp-readwrite")
    ev = {"prefix": f"{database_engine.mount_point}/creds/webapp-readonly"}

    mark = server.mark()
    result = playbook(TASK, extra_vars=ev, check=True)
    assert result["lease"]["changed"] is True
    server.assert_no_writes(mark)
    assert all(postgres.role_exists(user) for _lease, user, _password in ro)

    result = playbook(TASK, extra_vars=ev)
    assert result["lease"]["changed"] is True
    assert sorted(result["lease"]["revoked"]) == sorted(lease for lease, _user, _password in ro)
    assert not any(postgres.role_exists(user) for _lease, user, _password in ro)
    assert postgres.can_login(rw[1], rw[2])

    mark = server.mark()
    result = playbook(TASK, extra_vars=ev)
    assert result["lease"]["changed"] is False
    server.assert_no_writes(mark)
