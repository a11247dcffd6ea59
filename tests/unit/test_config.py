"""vault_config's engine with a mocked hvac client: validation, order, prune selection, secrets."""

from unittest import mock

import hvac.exceptions
import pytest

from ansible_collections.dynamic_secrets.vault.plugins.module_utils import _config
from ansible_collections.dynamic_secrets.vault.plugins.module_utils._errors import VaultModuleError

ROLE = {"name": "r", "db_name": "appdb", "creation_statements": ["SELECT 1"]}


def doc(**extra):
    base = {
        "policies": [{"name": "p", "policy": 'path "x" { capabilities = ["read"] }'}],
        "database": [{"mount_point": "db", "roles": [ROLE],
                      "connections": [{"name": "appdb", "connection_url": "postgresql://u:Pw1@h/db",
                                       "password": "s3cret-pw"}]}],
        "kubernetes": [{"mount_point": "k", "roles": [{"name": "w", "bound_service_account_names": ["a"],
                                                      "bound_service_account_namespaces": ["b"]}],
                        "config": {"kubernetes_host": "https://h", "token_reviewer_jwt": "jwt-value"}}],
    }
    base.update(extra)
    return base


def test_items_come_in_dependency_order():
    """Policies first, then a mount's connection before its roles, then auth config before auth roles."""
    _mounts, items = _config.build(doc())
    assert [i.kind for i in items] == ["policy", "database connection", "database role",
                                       "kubernetes auth config", "kubernetes auth role"]
    assert [i.path for i in items][1:3] == ["db/config/appdb", "db/roles/r"]


@pytest.mark.parametrize("broken, words", [
    ({"database": [{"mount_point": "db", "roles": [dict(ROLE, default_ttl="soon")]}]}, ["default_ttl", "db/roles/r"]),
    ({"database": [{"mount_point": "db", "roles": [dict(ROLE, mount_point="other")]}]}, ["mount_point"]),
    ({"database": [{"mount_point": "db", "roles": [{"name": "r"}]}]}, ["database[0].roles[0]", "db_name"]),
    ({"policies": [{"name": "..", "policy": "x"}]}, ["'.' or '..'"]),
    ({"policies": [{"name": "p", "policy": "a"}, {"name": "p", "policy": "b"}]}, ["same object"]),
])
def test_the_whole_document_is_validated_before_anything(broken, words):
    with pytest.raises(VaultModuleError) as exc:
        _config.build(doc(**broken))
    for word in words:
        assert word in exc.value.message


def test_secrets_are_found_anywhere_in_the_raw_document():
    assert _config.secrets_in(doc()) == {"s3cret-pw", "Pw1", "jwt-value"}


def _lister(keys_by_path):
    def list_(path):
        if path not in keys_by_path:
            raise hvac.exceptions.InvalidPath()
        return {"data": {"keys": keys_by_path[path]}}
    return list_


def test_prune_selects_only_unlisted_objects_in_managed_mounts():
    """Unlisted roles in listed mounts and unlisted policies go; listed ones, prune_keep globs,
    built-in policies and mounts the document does not name stay."""
    document = doc(prune=True, prune_keep=["keep-*"])
    mounts, items = _config.build(document)
    for mount in mounts:
        mount.present = True
    client = mock.Mock()
    client.list.side_effect = _lister({
        "db/roles": ["r", "old", "keep-me"],
        "auth/k/role": ["w", "stale"],
        "sys/policies/acl": ["p", "root", "default", "unused"],
        "other/roles": ["never"],
    })
    pruned = _config.prune_candidates(client, document, mounts, items)
    assert sorted(i.path for i in pruned) == ["auth/k/role/stale", "db/roles/old", "sys/policies/acl/unused"]
    assert all(i.params["state"] == "absent" for i in pruned)


def test_prune_skips_policies_the_document_does_not_manage():
    document = doc(prune=True)
    document.pop("policies")
    mounts, items = _config.build(document)
    for mount in mounts:
        mount.present = True
    client = mock.Mock()
    client.list.side_effect = _lister({"sys/policies/acl": ["unused"]})
    assert _config.prune_candidates(client, document, mounts, items) == []


def test_a_failed_rotation_query_is_blamed_on_root_rotation_statements():
    from ansible_collections.dynamic_secrets.vault.plugins.module_utils._resources import DB_CONNECTION

    message = 'failed to update user: 1 error occurred: * failed to execute query: ERROR: syntax error at or near "NO"'
    assert DB_CONNECTION.field_at_fault(message) == "root_rotation_statements"
    assert DB_CONNECTION.field_at_fault("plugin not found in the catalog: x") == "plugin_name"


def test_module_params_yield_their_url_password():
    assert _config.secrets_in({"connection_url": "postgresql://u:Pw9@h/db", "password": None}) == {"Pw9"}
