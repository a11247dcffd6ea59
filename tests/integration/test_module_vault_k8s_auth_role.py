"""dynamic_secrets.vault.vault_k8s_auth_role against a real OpenBao (runbook step 8)."""

from __future__ import annotations

import pytest

# Run on OpenBao and on HashiCorp Vault (see fixtures_servers.server).
pytestmark = pytest.mark.both_servers

TASK = """
- name: role
  dynamic_secrets.vault.vault_k8s_auth_role:
    name: webapp
    mount_point: "{{ mount }}"
    bound_service_account_names: [webapp-sa]
    bound_service_account_namespaces: "{{ namespaces | default(['default']) }}"
    policies: [webapp-policy]
    ttl: "{{ role_ttl | default('24h') }}"
"""

ABSENT_TASK = """
- name: role
  dynamic_secrets.vault.vault_k8s_auth_role:
    name: webapp
    mount_point: "{{ mount }}"
    state: absent
"""


@pytest.fixture()
def k8s_auth(vault, k8s_mount):
    vault.sys.enable_auth_method("kubernetes", path=k8s_mount)
    return k8s_mount


def stored_role(vault, mount):
    data = vault.read(f"auth/{mount}/role/webapp")
    return None if data is None else data["data"]


def test_k8s_auth_role_lifecycle(server, vault, playbook, k8s_auth):
    """The runbook's `webapp` role (webapp-sa in default, webapp-policy, ttl 24h, given with the
    `policies`/`ttl` aliases) is created, left alone when unchanged and deleted once; check mode
    writes nothing."""
    ev = {"mount": k8s_auth}

    mark = server.mark()
    result = playbook(TASK, extra_vars=ev, check=True)
    assert result["role"]["changed"] is True
    server.assert_no_writes(mark)
    assert stored_role(vault, k8s_auth) is None

    result = playbook(TASK, extra_vars=ev)
    assert result["role"]["changed"] is True
    assert result["role"]["path"] == f"auth/{k8s_auth}/role/webapp"
    stored = stored_role(vault, k8s_auth)
    assert stored["bound_service_account_names"] == ["webapp-sa"]
    assert stored["bound_service_account_namespaces"] == ["default"]
    assert stored["token_policies"] == ["webapp-policy"]
    assert stored["token_ttl"] == 86400

    mark = server.mark()
    result = playbook(TASK, extra_vars=ev)
    assert result["role"]["changed"] is False
    server.assert_no_writes(mark)

    mark = server.mark()
    result = playbook(ABSENT_TASK, extra_vars=ev, check=True)
    assert result["role"]["changed"] is True
    server.assert_no_writes(mark)
    assert stored_role(vault, k8s_auth) is not None

    result = playbook(ABSENT_TASK, extra_vars=ev)
    assert result["role"]["changed"] is True
    assert stored_role(vault, k8s_auth) is None

    mark = server.mark()
    result = playbook(ABSENT_TASK, extra_vars=ev)
    assert result["role"]["changed"] is False
    server.assert_no_writes(mark)


def test_k8s_auth_role_sets_and_ttls_compare_by_meaning(server, vault, playbook, k8s_auth):
    """Bound namespaces are a set (order does not matter) and ttl 86400 equals 24h: neither
    respelling is a change, while a real change is applied and shown in diff mode."""
    ev = {"mount": k8s_auth, "namespaces": ["default", "webapp"]}
    playbook(TASK, extra_vars=ev)

    mark = server.mark()
    result = playbook(TASK, extra_vars={"mount": k8s_auth, "namespaces": ["webapp", "default"],
                                        "role_ttl": 86400})
    assert result["role"]["changed"] is False
    server.assert_no_writes(mark)

    result = playbook(TASK, extra_vars={**ev, "role_ttl": "1h"}, diff=True)
    assert result["role"]["changed"] is True
    assert result["role"]["diff"]["before"]["token_ttl"] == 86400
    assert result["role"]["diff"]["after"]["token_ttl"] == 3600
    assert stored_role(vault, k8s_auth)["token_ttl"] == 3600
    assert sorted(stored_role(vault, k8s_auth)["bound_service_account_namespaces"]) == ["default", "webapp"]
