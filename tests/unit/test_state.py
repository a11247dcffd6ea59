"""Compare/diff logic: what changes, what is sent, and that secrets never show."""

import json

import pytest

from ansible_collections.dynamic_secrets.vault.plugins.module_utils._errors import VaultInputError
from ansible_collections.dynamic_secrets.vault.plugins.module_utils._resources import (
    DB_CONNECTION,
    DB_ROLE,
    K8S_AUTH,
    K8S_AUTH_ROLE,
    POLICY,
)
from ansible_collections.dynamic_secrets.vault.plugins.module_utils._state import MASK, Request, plan


def decide(resource, given, stored, mount_present=True):
    """The plan for ``given`` params against ``stored`` (one Request, validated once)."""
    return plan(Request(resource, given), stored, mount_present)


URL = "postgresql://{{username}}:{{password}}@127.0.0.1:5432/appdb"


def params(resource, **given):
    """Module params as AnsibleModule would pass them: every option, defaults applied."""
    out = {}
    for name, spec in resource.options.items():
        out[name] = spec.get("default")
    out.update(given)
    return out


def conn_params(**given):
    base = dict(name="appdb", connection_url=URL, username="vault_admin", password="s3cret-admin",
                allowed_roles=["webapp-readonly", "webapp-readwrite"])
    base.update(given)
    return params(DB_CONNECTION, **base)


STORED_CONN = {
    "allowed_roles": ["webapp-readwrite", "webapp-readonly"],
    "connection_details": {"connection_url": URL, "username": "vault_admin", "max_open_connections": "4"},
    "plugin_name": "postgresql-database-plugin",
    "root_credentials_rotate_statements": [],
}


def test_missing_object_is_created_with_password_and_mount():
    decided = decide(DB_CONNECTION, conn_params(), None, mount_present=False)
    assert decided.action == "create"
    assert decided.payload["password"] == "s3cret-admin"
    assert decided.payload["verify_connection"] is True
    assert decided.before == {"mount": None}
    assert decided.after["mount"] == "database/"


def test_unchanged_object_needs_no_write_and_password_is_not_resent():
    decided = decide(DB_CONNECTION, conn_params(), STORED_CONN)
    assert decided.action == "none"
    assert decided.payload is None


def test_a_different_password_alone_is_not_a_change_with_on_create():
    decided = decide(DB_CONNECTION, conn_params(password="another"), STORED_CONN)
    assert not decided.changed


def test_update_password_always_resends_and_reports_change():
    decided = decide(DB_CONNECTION, conn_params(update_password="always"), STORED_CONN)
    assert decided.action == "update"
    assert decided.changed_fields == ["password"]
    assert decided.payload["password"] == "s3cret-admin"


def test_update_of_allowed_roles_does_not_resend_password():
    decided = decide(DB_CONNECTION, conn_params(allowed_roles=["webapp-readonly"]), STORED_CONN)
    assert decided.action == "update"
    assert decided.changed_fields == ["allowed_roles"]
    assert "password" not in decided.payload


def test_values_vault_returns_as_strings_compare_equal():
    decided = decide(DB_CONNECTION, conn_params(max_open_connections=4), STORED_CONN)
    assert not decided.changed


def test_only_options_the_user_set_are_compared():
    stored = dict(STORED_CONN, root_credentials_rotate_statements=["ALTER ..."])
    decided = decide(DB_CONNECTION, conn_params(), stored)
    assert not decided.changed


def test_diff_masks_the_password_and_shows_changes():
    decided = decide(DB_CONNECTION, conn_params(allowed_roles=["x"]), STORED_CONN)
    assert decided.before["password"] == MASK
    assert decided.after["password"] == MASK
    assert decided.before["allowed_roles"] == ["webapp-readonly", "webapp-readwrite"]
    assert decided.after["allowed_roles"] == ["x"]
    assert "s3cret-admin" not in json.dumps([decided.before, decided.after])


def test_absent_deletes_existing_and_ignores_missing():
    assert decide(DB_ROLE, params(DB_ROLE, name="r", state="absent"), {"db_name": "x"}).action == "delete"
    assert decide(DB_ROLE, params(DB_ROLE, name="r", state="absent"), None).action == "none"


def role_params(**given):
    base = dict(name="webapp-readonly", db_name="appdb", creation_statements="CREATE ROLE x;",
                default_ttl="1h", max_ttl="24h")
    base.update(given)
    return params(DB_ROLE, **base)


STORED_ROLE = {"creation_statements": ["CREATE ROLE x;"], "db_name": "appdb", "default_ttl": 3600,
               "max_ttl": 86400, "credential_type": "password", "renew_statements": [],
               "revocation_statements": [], "rollback_statements": []}


def test_role_with_ttl_strings_matches_stored_seconds():
    assert not decide(DB_ROLE, role_params(), STORED_ROLE).changed
    assert decide(DB_ROLE, role_params(default_ttl="2h"), STORED_ROLE).changed_fields == ["default_ttl"]


def test_bad_ttl_fails_naming_field_and_path():
    with pytest.raises(VaultInputError) as err:
        decide(DB_ROLE, role_params(default_ttl="soon"), STORED_ROLE)
    assert "default_ttl" in err.value.message
    assert "database/roles/webapp-readonly" in err.value.message


def test_default_ttl_longer_than_max_ttl_is_refused():
    with pytest.raises(VaultInputError) as err:
        decide(DB_ROLE, role_params(default_ttl="48h"), STORED_ROLE)
    assert "default_ttl" in err.value.message


K8S_STORED = {"kubernetes_host": "https://127.0.0.1:6443", "kubernetes_ca_cert": "PEM\n",
              "disable_local_ca_jwt": True, "issuer": "", "pem_keys": [], "disable_iss_validation": True,
              "token_reviewer_jwt_set": True}


def k8s_params(**given):
    base = dict(kubernetes_host="https://127.0.0.1:6443", kubernetes_ca_cert="PEM",
                token_reviewer_jwt="eyJ.reviewer.jwt", disable_local_ca_jwt=True)
    base.update(given)
    return params(K8S_AUTH, **base)


def test_k8s_config_with_stored_jwt_is_unchanged():
    assert not decide(K8S_AUTH, k8s_params(), K8S_STORED).changed


def test_k8s_config_replaced_on_write_resends_the_jwt_with_any_change():
    decided = decide(K8S_AUTH, k8s_params(issuer="https://kubernetes.default.svc.cluster.local"), K8S_STORED)
    assert decided.changed_fields == ["issuer"]
    assert decided.payload["token_reviewer_jwt"] == "eyJ.reviewer.jwt"
    assert decided.payload["kubernetes_ca_cert"] == "PEM"


def test_k8s_config_without_stored_jwt_sends_it():
    decided = decide(K8S_AUTH, k8s_params(), dict(K8S_STORED, token_reviewer_jwt_set=False))
    assert decided.changed_fields == ["token_reviewer_jwt"]
    assert decided.before["token_reviewer_jwt"] is None
    assert decided.after["token_reviewer_jwt"] == MASK


def test_k8s_role_lists_are_sets_and_alias_names_map():
    stored = {"bound_service_account_names": ["webapp-sa"], "bound_service_account_namespaces": ["default"],
              "token_policies": ["b", "a"], "token_ttl": 86400, "token_max_ttl": 0}
    given = params(K8S_AUTH_ROLE, name="webapp", bound_service_account_names="webapp-sa",
                   bound_service_account_namespaces=["default"], token_policies=["a", "b", "a"],
                   token_ttl="24h")
    assert not decide(K8S_AUTH_ROLE, given, stored).changed


def test_policy_text_whitespace_is_not_a_change():
    stored = {"name": "p", "policy": 'path "x" {\n  capabilities = ["read"]\n}\n'}
    given = params(POLICY, name="p", policy='path "x" {\r\n  capabilities = ["read"]   \r\n}')
    assert not decide(POLICY, given, stored).changed


@pytest.mark.parametrize("text", ['path "x" { capabilities = ["read"] ', 'path "x { }', "   "])
def test_broken_hcl_is_refused_before_any_write(text):
    with pytest.raises(VaultInputError) as err:
        decide(POLICY, params(POLICY, name="p", policy=text), None)
    assert "'policy'" in err.value.message and "sys/policies/acl/p" in err.value.message
