"""Bad input fails clearly and leaves Vault as it was.

Each failure must name the offending option and the Vault path in `msg`, never be a
traceback, and store nothing (checked through the API and the audit log).
"""

from __future__ import annotations

import socket

import pytest

from tests.integration.fixtures_servers import configure_database_engine

# Run on OpenBao and on HashiCorp Vault (see fixtures_servers.server).
pytestmark = pytest.mark.both_servers


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


CONNECTION_TASK = """
- name: connection
  dynamic_secrets.vault.vault_db_connection:
    name: appdb
    mount_point: "{{ mount }}"
    connection_url: !unsafe "postgresql://{{username}}:{{password}}@127.0.0.1:$port/appdb?sslmode=disable"
    username: "{{ admin_user }}"
    password: "{{ admin_password }}"
    allowed_roles: [webapp-readonly]
    verify_connection: true
"""


def assert_clear_failure(result, task, *words):
    msg = result[task]["msg"]
    assert result[task].get("failed") is True
    for word in words:
        assert word in msg, f"{word!r} not in the failure message: {msg!r}"
    assert "Traceback" not in msg


def test_unreachable_database_stores_no_connection(server, vault, postgres, playbook, mount_point):
    """With verify_connection: true, a connection_url pointing at nothing fails with a message
    naming connection_url and the config path; Vault stores no connection and leaks no password."""
    vault.sys.enable_secrets_engine("database", path=mount_point)
    ev = {"mount": mount_point, "admin_user": postgres.admin_user, "admin_password": postgres.admin_password}

    mark = server.mark()
    result = playbook(CONNECTION_TASK, values={"port": closed_port()}, extra_vars=ev, expect_failure=True)
    assert_clear_failure(result, "connection", "connection_url", f"{mount_point}/config/appdb")
    assert postgres.admin_password not in result.output
    # Vault itself verifies the connection, so a refused write may be logged; none may succeed.
    server.assert_no_writes(mark, successful_only=True)
    assert vault.read(f"{mount_point}/config/appdb") is None


def test_unreachable_database_leaves_no_mount_behind(server, vault, postgres, playbook, mount_point):
    """When the failed connection was the reason to mount the engine, the mount is removed again,
    so Vault looks exactly as before the run."""
    ev = {"mount": mount_point, "admin_user": postgres.admin_user, "admin_password": postgres.admin_password}
    result = playbook(CONNECTION_TASK, values={"port": closed_port()}, extra_vars=ev, expect_failure=True)
    assert_clear_failure(result, "connection", f"{mount_point}/config/appdb")
    assert f"{mount_point}/" not in vault.sys.list_mounted_secrets_engines()["data"]


@pytest.mark.parametrize("module, option, path", [
    ("vault_db_role", "default_ttl", "{mount}/roles/webapp-broken"),
    ("vault_db_role", "max_ttl", "{mount}/roles/webapp-broken"),
    ("vault_k8s_auth_role", "token_ttl", "auth/{k8s}/role/webapp-broken"),
])
def test_unparseable_ttl_fails_before_any_write(server, vault, postgres, playbook, mount_point,
                                                k8s_mount, module, option, path):
    """A TTL such as `soon` is rejected before anything is sent to Vault, naming the option
    and the path."""
    configure_database_engine(vault, postgres, mount_point, with_roles=False)
    vault.sys.enable_auth_method("kubernetes", path=k8s_mount)
    extra = {
        "vault_db_role": f'mount_point: "{mount_point}"\n    db_name: appdb\n'
                         '    creation_statements: !unsafe [\'CREATE ROLE "{{name}}";\']',
        "vault_k8s_auth_role": f'mount_point: "{k8s_mount}"\n    bound_service_account_names: [webapp-sa]\n'
                               '    bound_service_account_namespaces: [default]',
    }[module]
    task = f"""
- name: broken
  dynamic_secrets.vault.{module}:
    name: webapp-broken
    {extra}
    {option}: soon
"""
    vault_path = path.format(mount=mount_point, k8s=k8s_mount)
    mark = server.mark()
    result = playbook(task, expect_failure=True)
    assert_clear_failure(result, "broken", option, vault_path)
    server.assert_no_writes(mark)
    assert vault.read(vault_path) is None


def test_unbalanced_hcl_fails_before_any_write(server, vault, playbook, unique_name):
    """A policy with an unclosed block is rejected before anything is sent, naming `policy`
    and sys/policies/acl/<name>."""
    name = unique_name("broken-policy")
    task = """
- name: policy
  dynamic_secrets.vault.vault_policy:
    name: "{{ policy_name }}"
    policy: |
      path "database/creds/webapp-readonly" {
        capabilities = ["read"]
"""
    mark = server.mark()
    result = playbook(task, extra_vars={"policy_name": name}, expect_failure=True)
    assert_clear_failure(result, "policy", "policy", f"sys/policies/acl/{name}")
    server.assert_no_writes(mark)
    assert vault.read(f"sys/policies/acl/{name}") is None


def test_invalid_hcl_rejected_by_vault_stores_nothing(server, vault, playbook, unique_name):
    """HCL that is well balanced but not a valid policy is refused by Vault; the failure
    carries Vault's reason with the field and path, and no policy is stored."""
    name = unique_name("broken-policy")
    task = """
- name: policy
  dynamic_secrets.vault.vault_policy:
    name: "{{ policy_name }}"
    policy: |
      path "database/creds/webapp-readonly" {
        capabilities = "read"
        bogus_key {}
      }
"""
    mark = server.mark()
    result = playbook(task, extra_vars={"policy_name": name}, expect_failure=True)
    assert_clear_failure(result, "policy", "policy", f"sys/policies/acl/{name}")
    server.assert_no_writes(mark, successful_only=True)
    assert vault.read(f"sys/policies/acl/{name}") is None
