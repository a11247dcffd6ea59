"""The five login methods: what each needs, what it sends, and that none writes into params."""

from unittest import mock

import pytest

from ansible_collections.dynamic_secrets.vault.plugins.module_utils import _auth_kubernetes, _auth_token
from ansible_collections.dynamic_secrets.vault.plugins.module_utils._auth_approle import AppRoleAuth
from ansible_collections.dynamic_secrets.vault.plugins.module_utils._auth_jwt import JwtAuth
from ansible_collections.dynamic_secrets.vault.plugins.module_utils._auth_kubernetes import KubernetesAuth
from ansible_collections.dynamic_secrets.vault.plugins.module_utils._auth_token import TokenAuth
from ansible_collections.dynamic_secrets.vault.plugins.module_utils._auth_userpass import UserpassAuth
from ansible_collections.dynamic_secrets.vault.plugins.module_utils._client import AUTH_METHODS
from ansible_collections.dynamic_secrets.vault.plugins.module_utils._errors import VaultAuthError


def params(**given):
    base = dict(token=None, auth_mount_point=None, auth_role=None, role_id=None, secret_id=None,
                auth_username=None, auth_password=None, auth_jwt=None)
    base.update(given)
    return base


def login(method_cls, given):
    before = dict(given)
    method = method_cls(given)
    method.validate()
    client = mock.MagicMock()
    method.authenticate(client)
    assert given == before, "a login method must not write into the module's params"
    return method, client


def test_every_method_is_registered_by_name():
    assert sorted(AUTH_METHODS) == ["approle", "jwt", "kubernetes", "token", "userpass"]
    assert all(AUTH_METHODS[name].NAME == name for name in AUTH_METHODS)


def test_token_from_the_option(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    _method, client = login(TokenAuth, params(token="s.option"))
    assert client.token == "s.option"


def test_token_from_the_token_file_stays_out_of_params(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / ".vault-token").write_text("s.file\n")
    method, client = login(TokenAuth, params())
    assert client.token == "s.file" and method.token == "s.file"


def test_no_token_anywhere_names_the_ways_to_give_one(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    with pytest.raises(VaultAuthError, match="VAULT_TOKEN") as err:
        TokenAuth(params()).validate()
    assert err.value.field == "token"


def test_approle_sends_role_and_secret_to_its_mount():
    _method, client = login(AppRoleAuth, params(role_id="r", secret_id="s", auth_mount_point="ci"))
    client.auth.approle.login.assert_called_once_with(role_id="r", secret_id="s", mount_point="ci", use_token=True)


def test_approle_without_secret_id_fails_before_any_request():
    with pytest.raises(VaultAuthError, match="auth_method=approle needs secret_id") as err:
        AppRoleAuth(params(role_id="r")).validate()
    assert err.value.path == "auth/approle/login" and err.value.field == "secret_id"


def test_kubernetes_reads_the_service_account_token_file(tmp_path, monkeypatch):
    token = tmp_path / "token"
    token.write_text("jwt-from-file\n")
    monkeypatch.setattr(_auth_kubernetes.KubernetesAuth, "TOKEN_PATH", str(token))
    method, client = login(KubernetesAuth, params(auth_role="webapp"))
    assert method.jwt == "jwt-from-file"
    client.auth.kubernetes.login.assert_called_once_with(role="webapp", jwt="jwt-from-file",
                                                         mount_point="kubernetes", use_token=True)


def test_kubernetes_prefers_auth_jwt_and_needs_a_role(tmp_path, monkeypatch):
    monkeypatch.setattr(_auth_kubernetes.KubernetesAuth, "TOKEN_PATH", str(tmp_path / "missing"))
    _method, client = login(KubernetesAuth, params(auth_role="webapp", auth_jwt="given"))
    assert client.auth.kubernetes.login.call_args.kwargs["jwt"] == "given"
    with pytest.raises(VaultAuthError, match="needs auth_role"):
        KubernetesAuth(params(auth_jwt="given")).validate()
    with pytest.raises(VaultAuthError, match="no ServiceAccount token at"):
        KubernetesAuth(params(auth_role="webapp")).validate()


def test_userpass_sends_the_user_and_password():
    _method, client = login(UserpassAuth, params(auth_username="ops", auth_password="pw"))
    client.auth.userpass.login.assert_called_once_with(username="ops", password="pw", mount_point="userpass",
                                                       use_token=True)


def test_jwt_needs_role_and_jwt():
    _method, client = login(JwtAuth, params(auth_role="ci", auth_jwt="eyJ"))
    client.auth.jwt.jwt_login.assert_called_once_with(role="ci", jwt="eyJ", path="jwt", use_token=True)
    with pytest.raises(VaultAuthError, match="auth_jwt"):
        JwtAuth(params(auth_role="ci")).validate()


def test_token_file_name_is_the_vault_cli_default():
    assert _auth_token.TOKEN_FILE == "~/.vault-token"
