"""dynamic_secrets.vault.vault_policy against a real OpenBao (runbook step 7)."""

from __future__ import annotations

import uuid

import pytest

# Run on OpenBao and on HashiCorp Vault (see fixtures_servers.server).
pytestmark = pytest.mark.both_servers

POLICY_V1 = """\
path "database/creds/webapp-readonly" {
  capabilities = ["read"]
}
"""
POLICY_V2 = """\
path "database/creds/webapp-readonly" {
  capabilities = ["read"]
}
path "database/creds/webapp-readwrite" {
  capabilities = ["read"]
}
"""

TASK = """
- name: policy
  dynamic_secrets.vault.vault_policy:
    name: "{{ policy_name }}"
    policy: "{{ policy_text | default(omit) }}"
    state: "{{ policy_state | default('present') }}"
"""


def stored_policy(vault, name):
    data = vault.read(f"sys/policies/acl/{name}")
    return None if data is None else data["data"]["policy"]


def test_policy_lifecycle(server, vault, playbook, unique_name):
    """An ACL policy is created once, left alone when unchanged and deleted once:
    check mode writes nothing, apply writes it, re-apply and repeated delete send no write."""
    name = unique_name("webapp-policy")
    ev = {"policy_name": name, "policy_text": POLICY_V1}

    mark = server.mark()
    result = playbook(TASK, extra_vars=ev, check=True)
    assert result["policy"]["changed"] is True
    server.assert_no_writes(mark)
    assert stored_policy(vault, name) is None

    result = playbook(TASK, extra_vars=ev)
    assert result["policy"]["changed"] is True
    assert result["policy"]["path"] == f"sys/policies/acl/{name}"
    assert stored_policy(vault, name).strip() == POLICY_V1.strip()

    mark = server.mark()
    result = playbook(TASK, extra_vars=ev)
    assert result["policy"]["changed"] is False
    server.assert_no_writes(mark)

    absent = {"policy_name": name, "policy_state": "absent"}
    mark = server.mark()
    result = playbook(TASK, extra_vars=absent, check=True)
    assert result["policy"]["changed"] is True
    server.assert_no_writes(mark)
    assert stored_policy(vault, name) is not None

    result = playbook(TASK, extra_vars=absent)
    assert result["policy"]["changed"] is True
    assert stored_policy(vault, name) is None

    mark = server.mark()
    result = playbook(TASK, extra_vars=absent)
    assert result["policy"]["changed"] is False
    server.assert_no_writes(mark)


def test_policy_text_change_is_applied_and_diffed(server, vault, playbook, unique_name):
    """Editing the HCL updates the stored policy; check mode only predicts it, and diff mode
    shows the old text as before and the new text as after."""
    name = unique_name("webapp-policy")
    playbook(TASK, extra_vars={"policy_name": name, "policy_text": POLICY_V1})

    ev = {"policy_name": name, "policy_text": POLICY_V2}
    mark = server.mark()
    result = playbook(TASK, extra_vars=ev, check=True, diff=True)
    assert result["policy"]["changed"] is True
    server.assert_no_writes(mark)
    assert stored_policy(vault, name).strip() == POLICY_V1.strip()
    diff = result["policy"]["diff"]
    assert "webapp-readwrite" not in str(diff["before"].get("policy"))
    assert "webapp-readwrite" in str(diff["after"].get("policy"))

    result = playbook(TASK, extra_vars=ev, diff=True)
    assert result["policy"]["changed"] is True
    assert stored_policy(vault, name).strip() == POLICY_V2.strip()


def test_policy_written_only_inside_namespace(server, vault, playbook, namespace, unique_name):
    """With `namespace:` the policy lands in that namespace and is not visible at the root."""
    name = unique_name("ns-policy")
    task = TASK.replace("state:", "namespace: \"{{ ns }}\"\n    state:")
    ev = {"policy_name": name, "policy_text": POLICY_V1, "ns": namespace}

    result = playbook(task, extra_vars=ev)
    assert result["policy"]["changed"] is True
    assert stored_policy(server.client(namespace=namespace), name).strip() == POLICY_V1.strip()
    assert stored_policy(vault, name) is None

    mark = server.mark()
    result = playbook(task, extra_vars=ev)
    assert result["policy"]["changed"] is False
    server.assert_no_writes(mark)


def test_namespace_on_a_server_without_namespaces_fails_before_any_write(server, vault, playbook, unique_name):
    """HashiCorp Vault without Enterprise ignores the namespace header: a module given a
    namespace fails naming the option instead of writing into the root namespace."""
    if server.kind != "vault":
        pytest.skip("OpenBao has namespaces")
    name = unique_name("ns-policy")
    task = TASK.replace("state:", "namespace: team-a\n    state:")
    mark = server.mark()
    result = playbook(task, extra_vars={"policy_name": name, "policy_text": POLICY_V1}, expect_failure=True)
    message = result["policy"]["msg"]
    assert "Invalid value for 'namespace' (team-a)" in message and "no namespaces" in message
    server.assert_no_writes(mark)
    assert stored_policy(vault, name) is None


def test_policy_with_approle_login(server, vault, playbook, unique_name):
    """auth_method: approle logs in with role_id/secret_id (no token anywhere) and the write
    is made by the AppRole token, not the root token."""
    mount = f"approle-{uuid.uuid4().hex[:8]}"
    admin_policy = unique_name("policy-admin")
    vault.sys.enable_auth_method("approle", path=mount)
    try:
        vault.sys.create_or_update_acl_policy(
            admin_policy,
            'path "sys/policies/acl/*" { capabilities = ["create", "read", "update", "delete", "list"] }\n',
        )
        vault.auth.approle.create_or_update_approle("ansible", token_policies=[admin_policy],
                                                    token_ttl="10m", mount_point=mount)
        role_id = vault.auth.approle.read_role_id("ansible", mount_point=mount)["data"]["role_id"]
        secret_id = vault.auth.approle.generate_secret_id("ansible", mount_point=mount)["data"]["secret_id"]

        name = unique_name("approle-policy")
        tasks = """
- name: policy
  dynamic_secrets.vault.vault_policy:
    auth_method: approle
    auth_mount_point: "{{ approle_mount }}"
    role_id: "{{ approle_role_id }}"
    secret_id: "{{ approle_secret_id }}"
    name: "{{ policy_name }}"
    policy: "{{ policy_text }}"
"""
        ev = {"approle_mount": mount, "approle_role_id": role_id, "approle_secret_id": secret_id,
              "policy_name": name, "policy_text": POLICY_V1}
        mark = server.mark()
        result = playbook(tasks, extra_vars=ev, env={"VAULT_TOKEN": None})
        assert result["policy"]["changed"] is True
        assert stored_policy(vault, name).strip() == POLICY_V1.strip()
        writes = server.writes_since(mark)
        assert [(w.path, w.display_name) for w in writes] == [(f"sys/policies/acl/{name}", mount)]
    finally:
        vault.sys.disable_auth_method(mount)
        vault.sys.delete_acl_policy(admin_policy)


def test_module_defaults_group(server, vault, playbook, unique_name):
    """`module_defaults: {group/dynamic_secrets.vault.vault: {url, token}}` supplies the
    connection to every module of the collection; it wins over VAULT_ADDR in the environment."""
    name = unique_name("defaults-policy")
    play = """
- hosts: localhost
  gather_facts: false
  module_defaults:
    group/dynamic_secrets.vault.vault:
      url: "{{ vault_url }}"
      token: "{{ vault_token }}"
  tasks:
    - name: policy
      dynamic_secrets.vault.vault_policy:
        name: "{{ policy_name }}"
        policy: "{{ policy_text }}"
"""
    ev = {"vault_url": server.addr, "vault_token": server.token,
          "policy_name": name, "policy_text": POLICY_V1}
    result = playbook(play, extra_vars=ev,
                      env={"VAULT_ADDR": "http://127.0.0.1:9", "VAULT_TOKEN": None})
    assert result["policy"]["changed"] is True
    assert stored_policy(vault, name).strip() == POLICY_V1.strip()
