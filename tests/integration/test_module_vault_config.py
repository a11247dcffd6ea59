"""vault_config converges a whole document in one task, against real OpenBao and PostgreSQL.

Order as everywhere: apply -> changed -> verify -> re-apply -> not changed with no write; then
the plan on a drifted server, prune, a bad item, secrets and a rotated root.
"""

from __future__ import annotations

import json

import pytest

from tests.integration.fixtures_servers import READONLY_CREATION, READWRITE_CREATION

# Run on OpenBao and on HashiCorp Vault (see fixtures_servers.server).
pytestmark = pytest.mark.both_servers

TASK = """
- name: config
  dynamic_secrets.vault.vault_config: $document
"""


def _document(postgres, db_mount, k8s_mount, ca_pem, jwt, policies, admin=None, prune=False, keep=()):
    user, password = admin or (postgres.admin_user, postgres.admin_password)
    return {
        "prune": prune,
        "prune_keep": list(keep),
        "policies": [{"name": name, "policy": 'path "%s/creds/%s" {\n  capabilities = ["read"]\n}\n'
                      % (db_mount, name)} for name in policies],
        "database": [{"mount_point": db_mount,
                      "connections": [{"name": "appdb", "connection_url": postgres.connection_url(),
                                       "username": user, "password": password,
                                       "allowed_roles": ["webapp-readonly", "webapp-readwrite"],
                                       "rotate_root": admin is not None}],
                      "roles": [{"name": "webapp-readonly", "db_name": "appdb",
                                 "creation_statements": READONLY_CREATION, "default_ttl": "1h", "max_ttl": "24h"},
                                {"name": "webapp-readwrite", "db_name": "appdb",
                                 "creation_statements": READWRITE_CREATION, "default_ttl": "1h", "max_ttl": "24h"}]}],
        "kubernetes": [{"mount_point": k8s_mount,
                        "config": {"kubernetes_host": "https://127.0.0.1:6443", "kubernetes_ca_cert": ca_pem,
                                   "token_reviewer_jwt": jwt, "disable_local_ca_jwt": True},
                        "roles": [{"name": "webapp", "bound_service_account_names": ["webapp-sa"],
                                   "bound_service_account_namespaces": ["default"],
                                   "token_policies": [policies[0]], "token_ttl": "24h"}]}],
    }


def _run(playbook, document, **kwargs):
    # JSON is YAML; !unsafe keeps Vault's {{name}} placeholders away from Jinja.
    return playbook(TASK, values={"document": "!unsafe " + json.dumps(document)}, **kwargs)


@pytest.fixture()
def names(unique_name, mount_point, k8s_mount):
    return dict(db=mount_point, k8s=k8s_mount, policies=[unique_name("webapp-policy"), unique_name("ops")])


@pytest.fixture()
def cleanup_policies(vault, names):
    yield
    for name in names["policies"] + [names["policies"][0] + "-extra"]:
        try:
            vault.sys.delete_policy(name)
        except Exception:  # noqa: BLE001 - best-effort cleanup
            pass


def test_apply_then_rerun_changes_nothing_and_writes_nothing(server, vault, postgres, playbook, names,
                                                             k8s_ca_pem, fake_jwt, cleanup_policies):
    """The first run creates every object in one task; the re-run reports changed=false, every
    action none, and sends no write request."""
    doc = _document(postgres, names["db"], names["k8s"], k8s_ca_pem, fake_jwt, names["policies"])
    first = _run(playbook, doc)["config"]
    assert first["changed"] is True
    # 2 mounts, 2 policies, connection, 2 DB roles, auth config, auth role
    assert first["summary"] == {"create": 9, "update": 0, "delete": 0, "none": 0}, first["summary"]
    assert vault.read(f"{names['db']}/roles/webapp-readwrite")["data"]["default_ttl"] == 3600
    assert vault.read(f"auth/{names['k8s']}/role/webapp")["data"]["token_policies"] == [names["policies"][0]]
    assert vault.read(f"auth/{names['k8s']}/config")["data"]["token_reviewer_jwt_set"] is True

    mark = server.mark()
    again = _run(playbook, doc)["config"]
    assert again["changed"] is False
    assert again["summary"] == {"create": 0, "update": 0, "delete": 0, "none": 9}
    server.assert_no_writes(mark)


def test_check_mode_reports_exactly_the_drift_and_prune_deletes_only_the_extra(
        server, vault, postgres, playbook, names, k8s_ca_pem, fake_jwt, cleanup_policies):
    """After an out-of-band change (a role's TTL), a deletion (a policy) and an extra object
    (an unlisted DB role), check mode with diff names exactly those three and writes nothing;
    the real run with prune then fixes the two and deletes only the extra role, leaving names
    that prune_keep protects and the built-in policies alone."""
    doc = _document(postgres, names["db"], names["k8s"], k8s_ca_pem, fake_jwt, names["policies"], prune=True,
                    keep=["kept-*"])
    _run(playbook, doc)
    vault.write_data(f"{names['db']}/roles/webapp-readonly", data={"default_ttl": "5m"})
    vault.sys.delete_policy(names["policies"][1])
    for extra in ("extra-role", "kept-role"):
        vault.write_data(f"{names['db']}/roles/{extra}", data={
            "db_name": "appdb", "creation_statements": READONLY_CREATION, "default_ttl": "1h"})

    mark = server.mark()
    plan = _run(playbook, doc, check=True, diff=True)["config"]
    server.assert_no_writes(mark)
    drift = {(o["path"], o["action"]) for o in plan["objects"] if o["action"] != "none"}
    assert drift == {(f"{names['db']}/roles/webapp-readonly", "update"),
                     (f"sys/policies/acl/{names['policies'][1]}", "create"),
                     (f"{names['db']}/roles/extra-role", "delete")}, drift
    changed = next(o for o in plan["objects"] if o["path"] == f"{names['db']}/roles/webapp-readonly")
    assert changed["changed_fields"] == ["default_ttl"]
    assert changed["diff"]["before"]["default_ttl"] == 300 and changed["diff"]["after"]["default_ttl"] == 3600
    assert plan["summary"]["create"] == 1 and plan["summary"]["update"] == 1 and plan["summary"]["delete"] == 1

    applied = _run(playbook, doc)["config"]
    assert applied["changed"] is True
    roles = set(vault.list(f"{names['db']}/roles")["data"]["keys"])
    assert roles == {"webapp-readonly", "webapp-readwrite", "kept-role"}
    assert {"root", "default"} <= set(vault.sys.list_acl_policies()["data"]["keys"])
    assert _run(playbook, doc)["config"]["changed"] is False


def test_a_bad_item_in_the_middle_writes_nothing_anywhere(
        server, vault, postgres, playbook, names, k8s_ca_pem, fake_jwt, cleanup_policies):
    """One role with max_ttl shorter than default_ttl, among valid objects, fails the whole
    document before any request: the message names the item and the option; no mount, no policy."""
    doc = _document(postgres, names["db"], names["k8s"], k8s_ca_pem, fake_jwt, names["policies"])
    doc["database"][0]["roles"][1]["max_ttl"] = "10m"
    mark = server.mark()
    result = _run(playbook, doc, expect_failure=True)
    msg = result["config"]["msg"]
    assert "default_ttl" in msg and f"{names['db']}/roles/webapp-readwrite" in msg
    server.assert_no_writes(mark)
    assert f"{names['db']}/" not in vault.sys.list_mounted_secrets_engines()["data"]


def test_no_secret_in_vvv_diff_output(server, postgres, playbook, names, k8s_ca_pem, fake_jwt, cleanup_policies):
    """The admin password and the reviewer JWT appear in no output of a -vvv --diff run, first
    or second, nor in a failing one."""
    doc = _document(postgres, names["db"], names["k8s"], k8s_ca_pem, fake_jwt, names["policies"])
    for kwargs in ({}, {}):
        result = _run(playbook, doc, diff=True, verbosity=3, **kwargs)
        assert postgres.admin_password not in result.output
        assert fake_jwt not in result.output
    doc["policies"][0]["policy"] = "path { broken"
    failed = _run(playbook, doc, diff=True, verbosity=3, expect_failure=True)
    assert postgres.admin_password not in failed.output and fake_jwt not in failed.output


def test_rotated_root_survives_reruns(server, vault, postgres, playbook, names, k8s_ca_pem, fake_jwt,
                                      cleanup_policies):
    """With rotate_root the first run rotates the admin password (the original no longer logs in);
    re-runs neither resend it nor report a change, and credentials keep working."""
    admin = postgres.create_admin_role()
    doc = _document(postgres, names["db"], names["k8s"], k8s_ca_pem, fake_jwt, names["policies"], admin=admin)
    _run(playbook, doc)
    assert not postgres.can_login(*admin)
    mark = server.mark()
    assert _run(playbook, doc)["config"]["changed"] is False
    server.assert_no_writes(mark)
    creds = vault.read(f"{names['db']}/creds/webapp-readonly")["data"]
    assert postgres.can_login(creds["username"], creds["password"])


def test_export_of_a_hand_made_vault_applies_without_change(server, vault, postgres, playbook, names, k8s_ca_pem,
                                                            fake_jwt, cleanup_policies):
    """vault_config_info exports what a Vault written by hand (hvac, not this collection) holds
    under the given mounts, with the password and the reviewer JWT left out and listed; applying
    the export with vault_config then reports changed=false and sends no write."""
    db, k8s, policy = names["db"], names["k8s"], names["policies"][0]
    vault.sys.enable_secrets_engine("database", path=db)
    vault.write_data(f"{db}/config/appdb", data={
        "plugin_name": "postgresql-database-plugin", "connection_url": postgres.connection_url(),
        "username": postgres.admin_user, "password": postgres.admin_password, "allowed_roles": ["webapp-readonly"]})
    vault.write_data(f"{db}/roles/webapp-readonly", data={
        "db_name": "appdb", "creation_statements": READONLY_CREATION, "default_ttl": "1h", "max_ttl": "24h"})
    vault.sys.enable_auth_method("kubernetes", path=k8s)
    vault.write_data(f"auth/{k8s}/config", data={
        "kubernetes_host": "https://127.0.0.1:6443", "kubernetes_ca_cert": k8s_ca_pem,
        "token_reviewer_jwt": fake_jwt, "disable_local_ca_jwt": True})
    vault.write_data(f"auth/{k8s}/role/webapp", data={
        "bound_service_account_names": ["webapp-sa"], "bound_service_account_namespaces": ["default"],
        "token_policies": [policy], "token_ttl": "24h"})
    vault.sys.create_or_update_policy(policy, 'path "x/*" {\n  capabilities = ["read"]\n}\n')

    exported = playbook(f"""
- name: export
  dynamic_secrets.vault.vault_config_info:
    database: [{db}]
    kubernetes: [{k8s}]
""")["export"]
    assert exported["changed"] is False
    assert set(exported["write_only"]) == {"database[0].connections[0].password", "kubernetes[0].config.token_reviewer_jwt"}
    assert postgres.admin_password not in json.dumps(exported) and fake_jwt not in json.dumps(exported)
    document = exported["document"]
    assert [r["name"] for r in document["database"][0]["roles"]] == ["webapp-readonly"]
    assert policy in [p["name"] for p in document["policies"]]

    mark = server.mark()
    applied = _run(playbook, document)["config"]
    assert applied["changed"] is False, [o for o in applied["objects"] if o["action"] != "none"]
    server.assert_no_writes(mark)
