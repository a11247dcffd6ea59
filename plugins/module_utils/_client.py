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

from ansible_collections.dynamic_secrets.vault.plugins.module_utils._auth_approle import AppRoleAuth
from ansible_collections.dynamic_secrets.vault.plugins.module_utils._auth_jwt import JwtAuth
from ansible_collections.dynamic_secrets.vault.plugins.module_utils._auth_kubernetes import KubernetesAuth
from ansible_collections.dynamic_secrets.vault.plugins.module_utils._auth_token import TokenAuth
from ansible_collections.dynamic_secrets.vault.plugins.module_utils._auth_userpass import UserpassAuth
from ansible_collections.dynamic_secrets.vault.plugins.module_utils._errors import VaultModuleError, vault_errors

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


AUTH_METHODS = dict(
    (cls.NAME, cls) for cls in (TokenAuth, AppRoleAuth, KubernetesAuth, UserpassAuth, JwtAuth)
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


def _require_namespaces(client, namespace):
    """Fail when the server has no namespaces instead of acting in the root namespace.

    HashiCorp Vault without Enterprise ignores the namespace header and would apply
    every request to the root namespace; its sys/health says ``"enterprise": false``.
    OpenBao (which has namespaces) does not report that field.
    """
    with vault_errors("read", "sys/health"):
        health = client.sys.read_health_status(method="GET", standby_ok=True, sealed_code=200, uninit_code=200)
    if hasattr(health, "json"):
        health = health.json()
    if isinstance(health, dict) and health.get("enterprise") is False:
        raise VaultModuleError(
            "Invalid value for 'namespace' (%s): the server at %s (Vault %s, not Enterprise) has no namespaces "
            "and would act in the root namespace; remove the namespace option (and VAULT_NAMESPACE)"
            % (namespace, client.url, health.get("version", "?")), field="namespace")


def connect(params):
    """Return a logged-in hvac client built from the common options.

    ``params`` is the module's params dict; it is only read (a token file or a
    ServiceAccount token the login method finds stays with the method).
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
    if params.get("namespace"):
        _require_namespaces(client, params["namespace"])
    with vault_errors("log in at", method.login_path):
        method.authenticate(client)
    return client
