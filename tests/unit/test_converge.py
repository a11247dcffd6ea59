"""converge() against a mocked hvac client: check mode, error mapping, rollback of a mount."""

from unittest import mock

import hvac.exceptions
import pytest

from ansible_collections.dynamic_secrets.vault.plugins.module_utils._errors import VaultModuleError
from ansible_collections.dynamic_secrets.vault.plugins.module_utils._resources import DB_CONNECTION, POLICY
from ansible_collections.dynamic_secrets.vault.plugins.module_utils._state import Request, converge

from .test_state import STORED_CONN, conn_params, params


def client_without_mount():
    client = mock.Mock()
    client.adapter.get.side_effect = hvac.exceptions.InvalidRequest(errors=["No secret engine mount at database/"])
    client.read.return_value = None
    return client


def test_check_mode_reports_the_change_and_writes_nothing():
    client = client_without_mount()
    result = converge(client, Request(DB_CONNECTION, conn_params()), check_mode=True, want_diff=True)
    assert result["changed"] and result["action"] == "create"
    client.write_data.assert_not_called()
    client.sys.enable_secrets_engine.assert_not_called()
    assert result["diff"]["after"]["password"] == "********"


def test_failed_write_removes_the_mount_it_created_and_names_the_path():
    client = client_without_mount()
    client.write_data.side_effect = hvac.exceptions.InvalidRequest(
        errors=["error creating database object: error verifying connection: dial tcp 127.0.0.1:1: connect: connection refused"])
    with pytest.raises(VaultModuleError) as err:
        converge(client, Request(DB_CONNECTION, conn_params()))
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
        converge(client, Request(POLICY, params(POLICY, name="p", policy='path "x" { capabilities = ["read"] }')))
    assert err.value.message.startswith("Vault refused to read sys/policies/acl/p (permission denied)")


def test_mount_of_the_wrong_type_is_refused():
    client = mock.Mock()
    client.adapter.get.return_value = {"data": {"type": "kv"}}
    with pytest.raises(VaultModuleError) as err:
        converge(client, Request(DB_CONNECTION, conn_params()))
    assert "mounted as 'kv'" in err.value.message
    client.write_data.assert_not_called()


def test_the_plan_lists_every_step_and_execute_takes_exactly_those():
    """Create on a missing mount with rotate_root: enable, write (sending the password), rotate."""
    client = client_without_mount()
    request = Request(DB_CONNECTION, conn_params(rotate_root=True))
    result = converge(client, request, check_mode=True)
    assert result["steps"] == [
        {"step": "enable mount", "path": "sys/mounts/database"},
        {"step": "write", "path": "database/config/appdb", "sends_write_only": ["password"]},
        {"step": "rotate root", "path": "database/rotate-root/appdb"},
    ]
    client.write_data.assert_not_called()

    client = client_without_mount()
    converge(client, request)
    assert client.method_calls == [
        mock.call.adapter.get("/v1/sys/mounts/database"),
        mock.call.sys.enable_secrets_engine(backend_type="database", path="database"),
        mock.call.write_data("database/config/appdb", data=mock.ANY),
        mock.call.write_data("database/rotate-root/appdb", data={}),
    ]


def test_a_rerun_that_does_not_send_the_password_takes_no_step_and_never_rotates():
    client = mock.Mock()
    client.adapter.get.return_value = {"data": {"type": "database"}}
    client.read.return_value = {"data": STORED_CONN}
    result = converge(client, Request(DB_CONNECTION, conn_params(rotate_root=True)))
    assert result["steps"] == [] and not result["changed"]
    client.write_data.assert_not_called()


def test_input_is_validated_once_per_call():
    client = client_without_mount()
    with mock.patch.object(DB_CONNECTION, "desired", wraps=DB_CONNECTION.desired) as desired:
        converge(client, Request(DB_CONNECTION, conn_params(rotate_root=True)), check_mode=True)
    assert desired.call_count == 1


def test_a_failed_rotation_after_a_create_removes_what_the_call_made():
    client = client_without_mount()
    client.write_data.side_effect = [None, hvac.exceptions.InvalidRequest(
        errors=["failed to execute query: ERROR: syntax error"])]
    with pytest.raises(VaultModuleError) as err:
        converge(client, Request(DB_CONNECTION, conn_params(rotate_root=True)))
    client.delete.assert_called_once_with("database/config/appdb")
    client.sys.disable_secrets_engine.assert_called_once_with(path="database")
    assert err.value.changed is True
    assert "database/rotate-root/appdb" in err.value.message
    assert "Undone, so Vault is as before: write database/config/appdb, enable mount sys/mounts/database" \
        in err.value.message
    assert "a re-run" in err.value.message and "s3cret-admin" not in err.value.message


def test_a_failed_rotation_after_an_update_keeps_the_write_and_says_so():
    client = mock.Mock()
    client.adapter.get.return_value = {"data": {"type": "database"}}
    client.read.return_value = {"data": STORED_CONN}
    client.write_data.side_effect = [None, hvac.exceptions.InvalidRequest(errors=["failed to execute query"])]
    with pytest.raises(VaultModuleError) as err:
        converge(client, Request(DB_CONNECTION, conn_params(rotate_root=True, update_password="always")))
    client.delete.assert_not_called()
    assert "Already done: write database/config/appdb" in err.value.message
    assert err.value.changed is True


def test_absent_plans_one_delete_or_nothing():
    client = mock.Mock()
    client.adapter.get.return_value = {"data": {"type": "database"}}
    client.read.return_value = {"data": STORED_CONN}
    request = Request(DB_CONNECTION, conn_params(state="absent"))
    assert converge(client, request)["steps"] == [{"step": "delete", "path": "database/config/appdb"}]
    client.delete.assert_called_once_with("database/config/appdb")
    client.read.return_value = None
    assert converge(client, request)["steps"] == []
