"""dynamic_secrets.vault.vault_db_connection against real OpenBao and PostgreSQL (runbook steps 2-3)."""

from __future__ import annotations

import json

from tests.integration.fixtures_servers import READONLY_CREATION

import pytest

# Run on OpenBao and on HashiCorp Vault (see fixtures_servers.server).
pytestmark = pytest.mark.both_servers

# `!unsafe` keeps Vault's own {{username}}/{{password}} placeholders away from Jinja,
# exactly as the README shows users.
TASK = """
- name: connection
  dynamic_secrets.vault.vault_db_connection:
    name: appdb
    mount_point: "{{ mount }}"
    connection_url: !unsafe "postgresql://{{username}}:{{password}}@$host:$port/appdb?sslmode=disable"
    username: "{{ admin_user }}"
    password: "{{ admin_password }}"
    allowed_roles: "{{ allowed_roles | default(['webapp-readonly']) }}"
    verify_connection: true
    update_password: "{{ update_password | default('on_create') }}"
    rotate_root: "{{ rotate_root | default(false) }}"
    state: "{{ connection_state | default('present') }}"
"""

ABSENT_TASK = """
- name: connection
  dynamic_secrets.vault.vault_db_connection:
    name: appdb
    mount_point: "{{ mount }}"
    state: absent
"""


def values(postgres):
    return {"host": postgres.host, "port": postgres.port}


def admin_vars(postgres, mount, user=None, password=None, **extra):
    return {"mount": mount, "admin_user": user or postgres.admin_user,
            "admin_password": password or postgres.admin_password, **extra}


def stored_connection(vault, mount):
    data = vault.read(f"{mount}/config/appdb")
    return None if data is None else data["data"]


def mounted(vault, mount):
    return f"{mount}/" in vault.sys.list_mounted_secrets_engines()["data"]


def issue(vault, mount, role="webapp-readonly"):
    return vault.read(f"{mount}/creds/{role}")["data"]


def test_connection_lifecycle(server, vault, postgres, playbook, mount_point):
    """The runbook's connection is created (engine mounted on the way), left alone when
    unchanged, and deleted once; check mode neither mounts nor writes anything."""
    ev = admin_vars(postgres, mount_point)

    mark = server.mark()
    result = playbook(TASK, values=values(postgres), extra_vars=ev, check=True)
    assert result["connection"]["changed"] is True
    server.assert_no_writes(mark)
    assert not mounted(vault, mount_point)

    result = playbook(TASK, values=values(postgres), extra_vars=ev)
    assert result["connection"]["changed"] is True
    assert result["connection"]["path"] == f"{mount_point}/config/appdb"
    assert mounted(vault, mount_point)
    stored = stored_connection(vault, mount_point)
    assert stored["plugin_name"] == "postgresql-database-plugin"
    assert stored["allowed_roles"] == ["webapp-readonly"]
    assert stored["connection_details"]["username"] == postgres.admin_user
    assert stored["connection_details"]["connection_url"] == postgres.connection_url()
    assert postgres.admin_password not in json.dumps(stored)

    mark = server.mark()
    result = playbook(TASK, values=values(postgres), extra_vars=ev)
    assert result["connection"]["changed"] is False
    server.assert_no_writes(mark)

    mark = server.mark()
    result = playbook(ABSENT_TASK, extra_vars={"mount": mount_point}, check=True)
    assert result["connection"]["changed"] is True
    server.assert_no_writes(mark)
    assert stored_connection(vault, mount_point) is not None

    result = playbook(ABSENT_TASK, extra_vars={"mount": mount_point})
    assert result["connection"]["changed"] is True
    assert stored_connection(vault, mount_point) is None

    mark = server.mark()
    result = playbook(ABSENT_TASK, extra_vars={"mount": mount_point})
    assert result["connection"]["changed"] is False
    server.assert_no_writes(mark)


def test_connection_diff_masks_password(server, vault, postgres, playbook, mount_point):
    """Diff mode shows before/after of the connection with the admin password as ********,
    both when creating and when changing allowed_roles."""
    ev = admin_vars(postgres, mount_point)
    result = playbook(TASK, values=values(postgres), extra_vars=ev, diff=True)
    diff = result["connection"]["diff"]
    assert diff["after"]["password"] == "********"
    assert diff["after"]["allowed_roles"] == ["webapp-readonly"]
    assert diff["before"].get("allowed_roles") is None

    ev["allowed_roles"] = ["webapp-readonly", "webapp-readwrite"]
    result = playbook(TASK, values=values(postgres), extra_vars=ev, diff=True)
    assert result["connection"]["changed"] is True
    diff = result["connection"]["diff"]
    assert sorted(diff["before"]["allowed_roles"]) == ["webapp-readonly"]
    assert sorted(diff["after"]["allowed_roles"]) == ["webapp-readonly", "webapp-readwrite"]
    assert diff["before"].get("password") in ("********", None)
    assert diff["after"]["password"] == "********"
    assert postgres.admin_password not in json.dumps(result.tasks)


def test_update_after_root_rotation_keeps_working(server, vault, postgres, playbook, mount_point):
    """After `rotate-root`, changing allowed_roles (update_password left at on_create) and
    re-running do not resend the old admin password: credentials keep being issued."""
    user, password = postgres.create_admin_role()
    ev = admin_vars(postgres, mount_point, user, password)
    playbook(TASK, values=values(postgres), extra_vars=ev)
    vault.write_data(f"{mount_point}/roles/webapp-readonly", data={
        "db_name": "appdb", "creation_statements": READONLY_CREATION, "default_ttl": "1h"})

    vault.adapter.post(f"/v1/{mount_point}/rotate-root/appdb", json={})
    assert not postgres.can_login(user, password), "rotate-root did not change the admin password"

    ev["allowed_roles"] = ["webapp-readonly", "webapp-readwrite"]
    result = playbook(TASK, values=values(postgres), extra_vars=ev)
    assert result["connection"]["changed"] is True
    assert sorted(stored_connection(vault, mount_point)["allowed_roles"]) == [
        "webapp-readonly", "webapp-readwrite"]
    creds = issue(vault, mount_point)
    postgres.connect(creds["username"], creds["password"]).close()

    mark = server.mark()
    result = playbook(TASK, values=values(postgres), extra_vars=ev)
    assert result["connection"]["changed"] is False
    server.assert_no_writes(mark)
    creds = issue(vault, mount_point)
    postgres.connect(creds["username"], creds["password"]).close()
    assert not postgres.can_login(user, password)


def test_rotate_root_option(server, vault, postgres, playbook, mount_point):
    """`rotate_root: true` rotates the admin password right after creating the connection, so
    only Vault knows it; a re-run neither rotates again nor breaks credential issuing."""
    user, password = postgres.create_admin_role()
    ev = admin_vars(postgres, mount_point, user, password, rotate_root=True)
    result = playbook(TASK, values=values(postgres), extra_vars=ev)
    assert result["connection"]["changed"] is True
    assert not postgres.can_login(user, password)
    vault.write_data(f"{mount_point}/roles/webapp-readonly", data={
        "db_name": "appdb", "creation_statements": READONLY_CREATION, "default_ttl": "1h"})
    creds = issue(vault, mount_point)
    postgres.connect(creds["username"], creds["password"]).close()

    mark = server.mark()
    result = playbook(TASK, values=values(postgres), extra_vars=ev)
    assert result["connection"]["changed"] is False
    server.assert_no_writes(mark)
    creds = issue(vault, mount_point)
    postgres.connect(creds["username"], creds["password"]).close()


def test_update_password_always_resends(server, vault, postgres, playbook, mount_point):
    """`update_password: always` sends the password on every run, so every run reports
    changed (the documented trade-off) and the audit log shows the write."""
    ev = admin_vars(postgres, mount_point, update_password="always")
    result = playbook(TASK, values=values(postgres), extra_vars=ev)
    assert result["connection"]["changed"] is True
    for _attempt in range(2):
        mark = server.mark()
        result = playbook(TASK, values=values(postgres), extra_vars=ev)
        assert result["connection"]["changed"] is True
        assert [w.path for w in server.writes_since(mark)] == [f"{mount_point}/config/appdb"]


def test_update_password_always_sets_new_admin_password(server, vault, postgres, playbook, mount_point):
    """With `update_password: always` a changed admin password reaches Vault: after the DBA
    changes it in PostgreSQL, a run with the new password makes issuing work again."""
    user, password = postgres.create_admin_role()
    ev = admin_vars(postgres, mount_point, user, password)
    playbook(TASK, values=values(postgres), extra_vars=ev)
    vault.write_data(f"{mount_point}/roles/webapp-readonly", data={
        "db_name": "appdb", "creation_statements": READONLY_CREATION, "default_ttl": "1h"})

    new_password = password + "-new"
    postgres.superuser_query(f'ALTER ROLE "{user}" PASSWORD %s', (new_password,))

    ev = admin_vars(postgres, mount_point, user, new_password, update_password="always")
    result = playbook(TASK, values=values(postgres), extra_vars=ev)
    assert result["connection"]["changed"] is True
    # Vault keeps pooled connections; a reset makes it log in again with what it stores.
    vault.adapter.post(f"/v1/{mount_point}/reset/appdb", json={})
    creds = issue(vault, mount_point)
    postgres.connect(creds["username"], creds["password"]).close()
