"""The modules under faults and odd input, against real OpenBao and PostgreSQL.

Each test states what a user sees: the message names the right option and the Vault path, no
secret shows in any output, and nothing is written that a re-run could not converge (checked
through the API, PostgreSQL and the audit log).
"""

from __future__ import annotations

import json
import socket
import threading
import time
import uuid

import pytest

# Run on OpenBao and on HashiCorp Vault (see fixtures_servers.server).
pytestmark = pytest.mark.both_servers


def _failure(result, task: str) -> dict:
    found = result[task]
    assert found.get("failed") is True, found
    assert "Traceback" not in found["msg"] and "Unexpected error" not in found["msg"], found["msg"]
    return found


# --------------------------------------------------------------------------- #
# 1. A password written into connection_url is write-only
# --------------------------------------------------------------------------- #
EMBEDDED_URL_TASK = """
- name: connection
  dynamic_secrets.vault.vault_db_connection:
    name: appdb
    mount_point: "{{ mount }}"
    connection_url: "postgresql://{{ admin_user }}:{{ admin_password }}@127.0.0.1:{{ port }}/appdb?sslmode=disable"
    allowed_roles: [webapp-readonly]
"""


def test_password_in_connection_url_never_shows_and_a_rerun_is_unchanged(server, vault, postgres, playbook,
                                                                         mount_point):
    """A connection_url with the admin password written into it (as the runbook's users do):
    `-vvv --diff` shows the URL with the password masked, the re-run reports changed=false with no
    write, and the password appears in no output, first run or re-run."""
    user, password = postgres.create_admin_role()
    ev = {"mount": mount_point, "admin_user": user, "admin_password": password, "port": postgres.port}

    first = playbook(EMBEDDED_URL_TASK, extra_vars=ev, diff=True, verbosity=3)
    assert password not in first.output
    assert f"postgresql://{user}:********@127.0.0.1:{postgres.port}/appdb" in first.output
    stored = vault.read(f"{mount_point}/config/appdb")["data"]["connection_details"]["connection_url"]
    assert password not in stored  # Vault reads it back redacted

    mark = server.mark()
    again = playbook(EMBEDDED_URL_TASK, extra_vars=ev, diff=True)
    assert again["connection"]["changed"] is False, again["connection"]
    assert password not in again.output
    server.assert_no_writes(mark)
    verbose = playbook(EMBEDDED_URL_TASK, extra_vars=ev, diff=True, verbosity=3)
    assert password not in verbose.output


# --------------------------------------------------------------------------- #
# 2. A failed root rotation is never "stored but silently unrotated"
# --------------------------------------------------------------------------- #
ROTATE_TASK = """
- name: connection
  dynamic_secrets.vault.vault_db_connection:
    name: appdb
    mount_point: "{{ mount }}"
    connection_url: !unsafe "postgresql://{{username}}:{{password}}@127.0.0.1:$port/appdb?sslmode=disable"
    username: "{{ admin_user }}"
    password: "{{ admin_password }}"
    allowed_roles: [webapp-readonly]
    rotate_root: true
    root_rotation_statements: !unsafe $statements
  no_log: false
"""
BAD_ROTATION = ["ALTER ROLE \"{{name}}\" WITH NO SUCH CLAUSE '{{password}}';"]
GOOD_ROTATION = ["ALTER ROLE \"{{name}}\" WITH PASSWORD '{{password}}';"]


def test_failed_root_rotation_reports_the_change_and_the_fixed_rerun_rotates(
        server, vault, postgres, playbook, mount_point):
    """rotate_root with broken root_rotation_statements: the failed run says it changed the
    connection, removes the unrotated connection again (the original password is not stored
    anywhere), and the run with fixed statements creates and rotates it, after which the
    original admin password no longer logs in."""
    vault.sys.enable_secrets_engine("database", path=mount_point)
    user, password = postgres.create_admin_role()
    ev = {"mount": mount_point, "admin_user": user, "admin_password": password}

    failed = playbook(ROTATE_TASK, values={"port": postgres.port, "statements": json.dumps(BAD_ROTATION)},
                      extra_vars=ev, expect_failure=True)
    found = _failure(failed, "connection")
    assert found.get("changed") is True, found["msg"]
    assert f"{mount_point}/rotate-root/appdb" in found["msg"]
    assert "re-run" in found["msg"]
    assert password not in failed.output
    assert vault.read(f"{mount_point}/config/appdb") is None
    assert postgres.can_login(user, password)

    fixed = playbook(ROTATE_TASK, values={"port": postgres.port, "statements": json.dumps(GOOD_ROTATION)},
                     extra_vars=ev)
    assert fixed["connection"]["changed"] is True
    assert fixed["connection"]["root_rotated"] is True
    assert not postgres.can_login(user, password)


# --------------------------------------------------------------------------- #
# 3. The option named in an error is the one at fault, or none
# --------------------------------------------------------------------------- #
def test_token_ttl_longer_than_token_max_ttl_is_blamed_on_token_ttl(server, vault, playbook, k8s_mount):
    """token_ttl 2h with token_max_ttl 1h fails before any write, naming token_ttl."""
    vault.sys.enable_auth_method("kubernetes", path=k8s_mount)
    mark = server.mark()
    result = playbook(f"""
- name: role
  dynamic_secrets.vault.vault_k8s_auth_role:
    name: webapp
    mount_point: {k8s_mount}
    bound_service_account_names: [webapp-sa]
    bound_service_account_namespaces: [default]
    token_ttl: 2h
    token_max_ttl: 1h
""", expect_failure=True)
    found = _failure(result, "role")
    assert found["field"] == "token_ttl"
    assert "'token_ttl'" in found["msg"] and f"auth/{k8s_mount}/role/webapp" in found["msg"]
    assert "bound_service_account_names" not in found["msg"]
    server.assert_no_writes(mark)


def test_unknown_plugin_is_blamed_on_plugin_name(server, vault, postgres, playbook, mount_point):
    """Vault's 'plugin not found in the catalog' is reported on plugin_name, not connection_url."""
    vault.sys.enable_secrets_engine("database", path=mount_point)
    result = playbook(f"""
- name: connection
  dynamic_secrets.vault.vault_db_connection:
    name: appdb
    mount_point: {mount_point}
    plugin_name: no-such-database-plugin
    connection_url: !unsafe "{postgres.connection_url()}"
    username: "{postgres.admin_user}"
    password: "{postgres.admin_password}"
  no_log: false
""", expect_failure=True)
    found = _failure(result, "connection")
    assert found.get("field") == "plugin_name", found["msg"]
    assert "[field: plugin_name]" in found["msg"] and "connection_url" not in found["msg"]


def test_garbage_pem_keys_are_blamed_on_pem_keys(server, vault, playbook, k8s_mount):
    """pem_keys that hold no public key are reported on pem_keys, not kubernetes_host."""
    result = playbook(f"""
- name: auth
  dynamic_secrets.vault.vault_k8s_auth:
    mount_point: {k8s_mount}
    kubernetes_host: https://127.0.0.1:6443
    pem_keys: [not-a-pem-key]
""", expect_failure=True)
    found = _failure(result, "auth")
    assert found["field"] == "pem_keys"
    assert "kubernetes_host" not in found["msg"]


# --------------------------------------------------------------------------- #
# 4. '.' and '..' are not names
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("name", [".", ".."])
@pytest.mark.parametrize("module, extra", [
    ("vault_policy", 'policy: \'path "x/*" { capabilities = ["read"] }\''),
    ("vault_db_role", "mount_point: {mount}\n    db_name: appdb\n    creation_statements: ['SELECT 1']"),
    ("vault_k8s_auth_role", "mount_point: {mount}\n    bound_service_account_names: [a]\n"
                            "    bound_service_account_namespaces: [b]"),
])
def test_dot_names_are_rejected_before_any_request(server, playbook, mount_point, module, extra, name):
    """`name: .` or `name: ..` would reach another URL once the HTTP client resolves it: the
    module refuses it naming `name`, and Vault sees no request of the run at all."""
    with server.audit_log.open("rb") as fh:
        before = len(fh.read())
    result = playbook(f"""
- name: object
  dynamic_secrets.vault.{module}:
    name: "{name}"
    {extra.replace("{mount}", mount_point)}
""", expect_failure=True)
    found = _failure(result, "object")
    assert found.get("field") == "name", found["msg"]
    assert "'.' or '..'" in found["msg"]
    with server.audit_log.open("rb") as fh:
        assert len(fh.read()) == before


# --------------------------------------------------------------------------- #
# 5. vault_db_credentials without no_log warns; a missing ca_cert names ca_cert
# --------------------------------------------------------------------------- #
def test_db_credentials_warn_when_the_task_is_not_no_log(database_engine, playbook):
    """Without no_log the module warns that its result holds the password; with no_log it does not."""
    task = f"""
- name: creds
  dynamic_secrets.vault.vault_db_credentials:
    role: webapp-readonly
    mount_point: {database_engine.mount_point}
  no_log: $no_log
"""
    loud = playbook(task, values={"no_log": "false"})
    assert any("no_log" in w for w in loud["creds"].get("warnings", [])), loud["creds"]
    quiet = playbook(task, values={"no_log": "true"})
    assert "warnings" not in quiet["creds"] or not any("no_log" in w for w in quiet["creds"]["warnings"])


def test_missing_ca_cert_file_is_named(server, playbook, tmp_path):
    """A ca_cert path that does not exist fails naming ca_cert and the path, not 'Unexpected error'."""
    missing = tmp_path / "no-such-ca.pem"
    result = playbook(f"""
- name: policy
  dynamic_secrets.vault.vault_policy:
    name: p-{uuid.uuid4().hex[:6]}
    policy: 'path "x/*" {{ capabilities = ["read"] }}'
    url: https://127.0.0.1:8200
    ca_cert: {missing}
""", expect_failure=True)
    found = _failure(result, "policy")
    assert found["field"] == "ca_cert" and str(missing) in found["msg"]


# --------------------------------------------------------------------------- #
# What held, kept: unreachable, hung, wrong token, denied path, concurrent runs
# --------------------------------------------------------------------------- #
POLICY_TASK = """
- name: policy
  dynamic_secrets.vault.vault_policy:
    name: "$name"
    policy: 'path "secret/x" { capabilities = ["read"] }'
    url: "$url"
    timeout: 2
    retries: 0
"""


def test_unreachable_vault_fails_fast_with_the_address(playbook):
    """A closed port fails within the timeout with 'Could not reach Vault' and the path."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    started = time.monotonic()
    result = playbook(POLICY_TASK, values={"name": "p", "url": f"http://127.0.0.1:{port}"}, expect_failure=True)
    assert "Could not reach Vault" in _failure(result, "policy")["msg"]
    assert time.monotonic() - started < 60


def test_hung_vault_is_bounded_by_timeout(playbook):
    """A server that accepts and never answers is given up on after `timeout` seconds."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    try:
        started = time.monotonic()
        result = playbook(POLICY_TASK, values={"name": "p", "url": f"http://127.0.0.1:{server.getsockname()[1]}"},
                          expect_failure=True)
        assert "Could not reach Vault" in _failure(result, "policy")["msg"]
        assert time.monotonic() - started < 60
    finally:
        server.close()


def test_wrong_token_and_denied_path_name_the_path(server, vault, playbook, unique_name):
    """A bad token fails at login; a token whose policy does not cover the path fails naming it;
    neither writes anything."""
    name = unique_name("p")
    limited = vault.auth.token.create(policies=["default"], ttl="5m")["auth"]["client_token"]
    mark = server.mark()
    bad = playbook(POLICY_TASK, values={"name": name, "url": server.addr}, env={"VAULT_TOKEN": "not-a-token"},
                   expect_failure=True)
    assert "permission denied" in _failure(bad, "policy")["msg"]
    denied = playbook(POLICY_TASK, values={"name": name, "url": server.addr}, env={"VAULT_TOKEN": limited},
                      expect_failure=True)
    msg = _failure(denied, "policy")["msg"]
    assert "permission denied" in msg and f"sys/policies/acl/{name}" in msg
    server.assert_no_writes(mark, successful_only=True)


def test_two_concurrent_runs_on_the_same_objects_both_converge(server, vault, database_engine, playbook):
    """Two playbooks writing the same role at once both succeed and leave one consistent role;
    a third run then reports no change."""
    task = f"""
- name: role
  dynamic_secrets.vault.vault_db_role:
    name: concurrent
    mount_point: {database_engine.mount_point}
    db_name: appdb
    creation_statements: !unsafe ['CREATE ROLE "{{{{name}}}}" WITH LOGIN PASSWORD ''{{{{password}}}}'';']
    default_ttl: 10m
    max_ttl: 1h
"""
    results = []
    threads = [threading.Thread(target=lambda: results.append(playbook(task))) for _thread in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 2
    stored = vault.read(f"{database_engine.mount_point}/roles/concurrent")["data"]
    assert stored["default_ttl"] == 600 and stored["max_ttl"] == 3600
    assert playbook(task)["role"]["changed"] is False
