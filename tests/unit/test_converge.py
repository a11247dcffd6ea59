"""converge() against a mocked hvac client: check mode, error mapping, rollback of a mount."""

from unittest import mock

import hvac.exceptions
import pytest

from ansible_collections.dynamic_secrets.vault.plugins.module_utils._errors import VaultModuleError
from ansible_collections.dynamic_secrets.vault.plugins.module_utils._resources import DB_CONNECTION, POLICY
from ansible_collections.dynamic_secrets.vault.plugins.module_utils._state import converge

from .test_state import conn_params, params


def client_without_mount():
    client = mock.Mock()
    client.adapter.get.side_effect = hvac.exceptions.InvalidRequest(errors=["No secret engine mount at database/"])
    client.read.return_value = None
    return client


def test_check_mode_reports_the_change_and_writes_nothing():
    client = client_without_mount()
    result = converge(client, DB_CONNECTION, conn_params(), check_mode=True, want_diff=True)
    assert result["changed"] and result["action"] == "create"
    client.write_data.assert_not_called()
    client.sys.enable_secrets_engine.assert_not_called()
    assert result["diff"]["after"]["password"] == "********"


def test_failed_write_removes_the_mount_it_created_and_names_the_path():
    client = client_without_mount()
    client.write_data.side_effect = hvac.exceptions.InvalidRequest(
        errors=["error creating database object: error verifying connection: dial tcp 127.0.0.1:1: connect: connection refused"])
    with pytest.raises(VaultModuleError) as err:
        converge(client, DB_CONNECTION, conn_params())
    client.sys.enable_secrets_engine.assert_called_once_with(backend_type="database", path="database")
    client.sys.disable_secrets_engine.assert_called_once_with(path="database")
    assert "database/config/appdb" in err.value.message
    assert "connection refused" in err.value.message
    assert "connection_url" in err.value.message
    assert "s3cret-admin" not in err.value.message


def test_permission_denied_is_a_clear_message():
    client = mock.Mock()
    client.read.side_effect = hvac.exceptions.Forbidden(errors=["1 error occurred:\n\t* permission denied\n\n"])
    with pytest.raises(VaultModuleError) as err:
        converge(client, POLICY, params(POLICY, name="p", policy='path "x" { capabilities = ["read"] }'))
    assert err.value.message.startswith("Vault refused to read sys/policies/acl/p (permission denied)")


def test_mount_of_the_wrong_type_is_refused():
    client = mock.Mock()
    client.adapter.get.return_value = {"data": {"type": "kv"}}
    with pytest.raises(VaultModuleError) as err:
        converge(client, DB_CONNECTION, conn_params())
    assert "mounted as 'kv'" in err.value.message
    client.write_data.assert_not_called()
