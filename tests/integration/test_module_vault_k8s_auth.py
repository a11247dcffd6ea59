"""dynamic_secrets.vault.vault_k8s_auth against a real OpenBao (runbook step 6).

No cluster is needed: Vault stores the configuration without contacting the API server.
"""

from __future__ import annotations

import json

from tests.integration.fixtures_servers import make_fake_jwt

import pytest

# Run on OpenBao and on HashiCorp Vault (see fixtures_servers.server).
pytestmark = pytest.mark.both_servers

TASK = """
- name: k8s auth
  dynamic_secrets.vault.vault_k8s_auth:
    mount_point: "{{ mount }}"
    kubernetes_host: "{{ k8s_host | default('https://127.0.0.1:6443') }}"
    kubernetes_ca_cert: "{{ ca_pem }}"
    token_reviewer_jwt: "{{ reviewer_jwt }}"
    update_token_reviewer_jwt: "{{ update_jwt | default('on_create') }}"
    issuer: https://kubernetes.default.svc.cluster.local
    disable_local_ca_jwt: true
"""

ABSENT_TASK = """
- name: k8s auth
  dynamic_secrets.vault.vault_k8s_auth:
    mount_point: "{{ mount }}"
    state: absent
"""


def auth_enabled(vault, mount):
    methods = vault.sys.list_auth_methods()["data"]
    return methods.get(f"{mount}/", {}).get("type")


def stored_config(vault, mount):
    data = vault.read(f"auth/{mount}/config")
    return None if data is None else data["data"]


def test_k8s_auth_lifecycle(server, vault, playbook, k8s_mount, k8s_ca_pem, fake_jwt):
    """Kubernetes auth is enabled and configured (host, CA, reviewer JWT, issuer), left alone when
    unchanged, and removed once; check mode neither enables nor writes anything."""
    ev = {"mount": k8s_mount, "ca_pem": k8s_ca_pem, "reviewer_jwt": fake_jwt}

    mark = server.mark()
    result = playbook(TASK, extra_vars=ev, check=True)
    assert result["k8s auth"]["changed"] is True
    server.assert_no_writes(mark)
    assert auth_enabled(vault, k8s_mount) is None

    result = playbook(TASK, extra_vars=ev)
    assert result["k8s auth"]["changed"] is True
    assert result["k8s auth"]["path"] == f"auth/{k8s_mount}/config"
    assert auth_enabled(vault, k8s_mount) == "kubernetes"
    stored = stored_config(vault, k8s_mount)
    assert stored["kubernetes_host"] == "https://127.0.0.1:6443"
    assert stored["kubernetes_ca_cert"].strip() == k8s_ca_pem.strip()
    assert stored["token_reviewer_jwt_set"] is True
    assert stored["issuer"] == "https://kubernetes.default.svc.cluster.local"
    assert stored["disable_local_ca_jwt"] is True

    mark = server.mark()
    result = playbook(TASK, extra_vars=ev)
    assert result["k8s auth"]["changed"] is False
    server.assert_no_writes(mark)

    mark = server.mark()
    result = playbook(ABSENT_TASK, extra_vars=ev, check=True)
    assert result["k8s auth"]["changed"] is True
    server.assert_no_writes(mark)
    assert auth_enabled(vault, k8s_mount) == "kubernetes"

    result = playbook(ABSENT_TASK, extra_vars=ev)
    assert result["k8s auth"]["changed"] is True
    assert auth_enabled(vault, k8s_mount) is None

    mark = server.mark()
    result = playbook(ABSENT_TASK, extra_vars=ev)
    assert result["k8s auth"]["changed"] is False
    server.assert_no_writes(mark)


def test_k8s_auth_diff_masks_reviewer_jwt(server, vault, playbook, k8s_mount, k8s_ca_pem, fake_jwt):
    """Diff mode shows the configuration before and after, with the reviewer JWT as ********."""
    ev = {"mount": k8s_mount, "ca_pem": k8s_ca_pem, "reviewer_jwt": fake_jwt}
    result = playbook(TASK, extra_vars=ev, diff=True)
    diff = result["k8s auth"]["diff"]
    assert diff["after"]["token_reviewer_jwt"] == "********"
    assert diff["after"]["kubernetes_host"] == "https://127.0.0.1:6443"

    ev["k8s_host"] = "https://127.0.0.2:6443"
    result = playbook(TASK, extra_vars=ev, diff=True)
    assert result["k8s auth"]["changed"] is True
    diff = result["k8s auth"]["diff"]
    assert diff["before"]["kubernetes_host"] == "https://127.0.0.1:6443"
    assert diff["after"]["kubernetes_host"] == "https://127.0.0.2:6443"
    assert diff["before"]["token_reviewer_jwt"] == "********"
    assert diff["after"]["token_reviewer_jwt"] == "********"
    assert fake_jwt not in json.dumps(result.tasks)


def test_unrelated_update_keeps_reviewer_jwt(server, vault, playbook, k8s_mount, k8s_ca_pem, fake_jwt):
    """Changing kubernetes_host does not make Vault forget the reviewer JWT (Vault replaces the
    whole config on write), and a new JWT alone with update_token_reviewer_jwt=on_create is no change."""
    ev = {"mount": k8s_mount, "ca_pem": k8s_ca_pem, "reviewer_jwt": fake_jwt}
    playbook(TASK, extra_vars=ev)

    ev["k8s_host"] = "https://127.0.0.2:6443"
    result = playbook(TASK, extra_vars=ev)
    assert result["k8s auth"]["changed"] is True
    stored = stored_config(vault, k8s_mount)
    assert stored["kubernetes_host"] == "https://127.0.0.2:6443"
    assert stored["token_reviewer_jwt_set"] is True

    ev["reviewer_jwt"] = make_fake_jwt()
    mark = server.mark()
    result = playbook(TASK, extra_vars=ev)
    assert result["k8s auth"]["changed"] is False
    server.assert_no_writes(mark)


def test_update_token_reviewer_jwt_always(server, vault, playbook, k8s_mount, k8s_ca_pem, fake_jwt):
    """`update_token_reviewer_jwt: always` writes the JWT on every run and says so (changed)."""
    ev = {"mount": k8s_mount, "ca_pem": k8s_ca_pem, "reviewer_jwt": fake_jwt, "update_jwt": "always"}
    playbook(TASK, extra_vars=ev)
    mark = server.mark()
    result = playbook(TASK, extra_vars=ev)
    assert result["k8s auth"]["changed"] is True
    assert [w.path for w in server.writes_since(mark)] == [f"auth/{k8s_mount}/config"]
    assert stored_config(vault, k8s_mount)["token_reviewer_jwt_set"] is True
