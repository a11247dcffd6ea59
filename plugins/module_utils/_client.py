# -*- coding: utf-8 -*-
# Copyright: dynamic_secrets.vault contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Connection and login: one argspec for every module, one hvac client factory.

The options are documented once in ``plugins/doc_fragments/connection.py``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible.module_utils.basic import env_fallback

from ansible_collections.dynamic_secrets.vault.plugins.module_utils._errors import (
    VaultAuthError,
    VaultModuleError,
    vault_errors,
)

try:
    import hvac
    import requests
    from requests.adapters import HTTPAdapter
    from urllib3.util.retry import Retry

    HAS_HVAC = True
    HVAC_IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - exercised when hvac is missing
    HAS_HVAC = False
    HVAC_IMPORT_ERROR = exc

DEFAULT_URL = "http://127.0.0.1:8200"
SERVICE_ACCOUNT_TOKEN = "/var/run/secrets/kubernetes.io/serviceaccount/token"

COMMON_ARGSPEC = dict(
    url=dict(type="str", fallback=(env_fallback, ["VAULT_ADDR", "BAO_ADDR"])),
    token=dict(type="str", no_log=True, fallback=(env_fallback, ["VAULT_TOKEN", "BAO_TOKEN"])),
    namespace=dict(type="str", fallback=(env_fallback, ["VAULT_NAMESPACE", "BAO_NAMESPACE"])),
    ca_cert=dict(type="path", fallback=(env_fallback, ["VAULT_CACERT", "BAO_CACERT"])),
    validate_certs=dict(type="bool", default=True),
    timeout=dict(type="int", default=30),
    retries=dict(type="int", default=3),
    auth_method=dict(
        type="str",
        default="token",
        choices=["token", "approle", "kubernetes", "userpass", "jwt"],
    ),
    auth_mount_point=dict(type="str"),
    auth_role=dict(type="str"),
    role_id=dict(type="str", no_log=False),
    secret_id=dict(type="str", no_log=True),
    auth_username=dict(type="str"),
    auth_password=dict(type="str", no_log=True),
    auth_jwt=dict(type="str", no_log=True),
)


def argspec(**module_options):
    """The module's argument spec: the common options plus its own."""
    spec = dict(COMMON_ARGSPEC)
    overlap = set(spec) & set(module_options)
    if overlap:
        raise ValueError("module re-declares common options: %s" % ", ".join(sorted(overlap)))
    spec.update(module_options)
    return spec


def with_fallbacks(params):
    """The common options of ``params`` completed as AnsibleModule would: unset ones from
    their environment variables, then their defaults. For plugins that are not modules."""
    completed = dict(params)
    for name, spec in COMMON_ARGSPEC.items():
        if completed.get(name) is None and spec.get("fallback"):
            for variable in spec["fallback"][1]:
                if os.environ.get(variable):
                    completed[name] = os.environ[variable]
                    break
        if completed.get(name) is None and "default" in spec:
            completed[name] = spec["default"]
    return completed


class _AuthMethod(object):
    """One login method: what it needs and how it logs in."""

    NAME = None
    DEFAULT_MOUNT = None
    REQUIRED = ()

    def __init__(self, params):
        self.params = params
        self.mount_point = params.get("auth_mount_point") or self.DEFAULT_MOUNT

    def validate(self):
        missing = [name for name in self.REQUIRED if not self.params.get(name)]
        if missing:
            raise VaultAuthError(
                "auth_method=%s needs %s" % (self.NAME, ", ".join(missing)),
                path="auth/%s/login" % self.mount_point if self.mount_point else None,
            )

    def authenticate(self, client):
        raise NotImplementedError


class _TokenAuth(_AuthMethod):
    NAME = "token"

    def validate(self):
        if self.params.get("token"):
            return
        path = os.path.expanduser("~/.vault-token")
        if os.path.exists(path):
            with open(path) as handle:
                token = handle.read().strip()
            if token:
                self.params["token"] = token
                return
        raise VaultAuthError(
            "No Vault token: set the 'token' option, VAULT_TOKEN or BAO_TOKEN, or write ~/.vault-token "
            "(or choose another auth_method)"
        )

    def authenticate(self, client):
        client.token = self.params["token"]


class _AppRoleAuth(_AuthMethod):
    NAME = "approle"
    DEFAULT_MOUNT = "approle"
    REQUIRED = ("role_id", "secret_id")

    def authenticate(self, client):
        client.auth.approle.login(
            role_id=self.params["role_id"],
            secret_id=self.params["secret_id"],
            mount_point=self.mount_point,
            use_token=True,
        )


class _KubernetesAuth(_AuthMethod):
    NAME = "kubernetes"
    DEFAULT_MOUNT = "kubernetes"
    REQUIRED = ("auth_role",)

    def validate(self):
        super(_KubernetesAuth, self).validate()
        if not self.params.get("auth_jwt"):
            if not os.path.exists(SERVICE_ACCOUNT_TOKEN):
                raise VaultAuthError(
                    "auth_method=kubernetes needs auth_jwt (no ServiceAccount token at %s)" % SERVICE_ACCOUNT_TOKEN,
                    path="auth/%s/login" % self.mount_point,
                )
            with open(SERVICE_ACCOUNT_TOKEN) as handle:
                self.params["auth_jwt"] = handle.read().strip()

    def authenticate(self, client):
        client.auth.kubernetes.login(
            role=self.params["auth_role"],
            jwt=self.params["auth_jwt"],
            mount_point=self.mount_point,
            use_token=True,
        )


class _UserpassAuth(_AuthMethod):
    NAME = "userpass"
    DEFAULT_MOUNT = "userpass"
    REQUIRED = ("auth_username", "auth_password")

    def authenticate(self, client):
        client.auth.userpass.login(
            username=self.params["auth_username"],
            password=self.params["auth_password"],
            mount_point=self.mount_point,
            use_token=True,
        )


class _JwtAuth(_AuthMethod):
    NAME = "jwt"
    DEFAULT_MOUNT = "jwt"
    REQUIRED = ("auth_role", "auth_jwt")

    def authenticate(self, client):
        client.auth.jwt.jwt_login(
            role=self.params["auth_role"],
            jwt=self.params["auth_jwt"],
            path=self.mount_point,
            use_token=True,
        )


AUTH_METHODS = dict(
    (cls.NAME, cls) for cls in (_TokenAuth, _AppRoleAuth, _KubernetesAuth, _UserpassAuth, _JwtAuth)
)


def _session(retries):
    session = requests.Session()
    if retries and retries > 0:
        retry = Retry(
            total=retries,
            connect=retries,
            read=retries,
            backoff_factor=0.3,
            status_forcelist=(412, 429, 500, 502, 503, 504),
            allowed_methods=None,
            raise_on_status=False,
        )
        adapter = HTTPAdapter(max_retries=retry)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
    return session


def pick_address(url, verify, timeout):
    """The address to talk to when ``url`` lists several (a cluster's nodes, comma-separated).

    The active node if one answers, else a standby (standbys forward requests to the
    active node); a node that does not answer is skipped.
    """
    addresses = [address.strip() for address in (url or DEFAULT_URL).split(",") if address.strip()]
    if len(addresses) <= 1:
        return addresses[0] if addresses else DEFAULT_URL
    standby = None
    seen = []
    for address in addresses:
        try:
            response = requests.get(address.rstrip("/") + "/v1/sys/health", verify=verify,
                                    timeout=min(timeout or 30, 5))
        except requests.RequestException as exc:
            seen.append("%s: %s" % (address, exc.__class__.__name__))
            continue
        if response.status_code == 200:
            return address
        if response.status_code in (429, 473) and standby is None:
            standby = address
        seen.append("%s: HTTP %s" % (address, response.status_code))
    if standby is not None:
        return standby
    raise VaultModuleError("No address in 'url' answers as an active or standby Vault node (%s)" % "; ".join(seen),
                           field="url")


def connect(params):
    """Return a logged-in hvac client built from the common options.

    ``params`` is the module's params dict; values found by login helpers
    (a token from ~/.vault-token, a ServiceAccount JWT) are stored back in it.
    """
    if not HAS_HVAC:
        raise VaultModuleError("The hvac Python library is required: %s" % HVAC_IMPORT_ERROR)
    method_cls = AUTH_METHODS[params.get("auth_method") or "token"]
    method = method_cls(params)
    method.validate()

    verify = params.get("validate_certs", True)
    if verify and params.get("ca_cert"):
        verify = params["ca_cert"]
        if not os.path.isfile(verify):
            raise VaultModuleError("Invalid value for 'ca_cert': there is no CA certificate file at %s "
                                   "(to verify %s)" % (verify, params.get("url") or DEFAULT_URL), field="ca_cert")
    session = _session(params.get("retries"))
    # hvac uses the session's own ``verify`` when it is given a session.
    session.verify = verify
    client = hvac.Client(
        url=pick_address(params.get("url"), verify, params.get("timeout")),
        namespace=params.get("namespace") or None,
        verify=verify,
        timeout=params.get("timeout") or 30,
        session=session,
    )
    login_path = "auth/%s/login" % method.mount_point if method.mount_point else "auth/token/lookup-self"
    with vault_errors("log in at", login_path):
        method.authenticate(client)
    return client
