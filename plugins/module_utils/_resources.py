# -*- coding: utf-8 -*-
# Copyright: dynamic_secrets.vault contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every Vault object type this collection manages, defined once.

Each definition holds the Vault path and the fields: each field is one module option
(its argument spec follows from its kind) with its normaliser, read-back name and
write-only flag; the few options that are not fields (name, mount_point, state,
update_* modes) are listed beside them.
The modules in plugins/modules are thin wrappers around these definitions.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.dynamic_secrets.vault.plugins.module_utils._errors import VaultInputError
from ansible_collections.dynamic_secrets.vault.plugins.module_utils._state import Field, Mount, Resource, Step

STATE = dict(type="str", default="present", choices=["present", "absent"])
UPDATE_MODE = dict(type="str", default="on_create", no_log=False, choices=["on_create", "always"])
CREDENTIAL_TYPE = dict(choices=["password", "rsa_private_key", "client_certificate"])


def _db_path(kind):
    return lambda p: "%s/%s/%s" % (p["mount_point"].strip("/"), kind, p["name"])


def _check_name(field):
    def check(params, path):
        value = params.get(field) or ""
        # '.' and '..' would reach Vault as another path once the HTTP client resolves them.
        if not value.strip() or "/" in value or value.strip() in (".", ".."):
            raise VaultInputError(field, path, "must be a non-empty name without '/', and not '.' or '..'")
        _check_mount_point(params, path)
    return check


def _check_mount_point(params, path):
    value = params.get("mount_point")
    if value is None:
        return
    segments = value.strip("/").split("/")
    if not value.strip("/") or any(seg in ("", ".", "..") for seg in segments):
        raise VaultInputError("mount_point", path, "must be a mount path without empty, '.' or '..' segments")


def _check_ttl_order(params, path, shorter, longer):
    if params.get(shorter) is None or params.get(longer) is None:
        return
    from ansible_collections.dynamic_secrets.vault.plugins.module_utils._normalize import ttl_seconds
    low, high = ttl_seconds(params[shorter]), ttl_seconds(params[longer])
    if high and low > high:
        raise VaultInputError(shorter, path, "%s (%ss) is longer than %s (%ss)" % (shorter, low, longer, high))


def _connection_details(name):
    return ("connection_details", name)


def _rotate_root(request, sends):
    """Rotate the root credential right after Vault received the admin password (and only then)."""
    if not request.params.get("rotate_root") or "password" not in sends:
        return []
    return [Step(Step.ROTATE, "%s/rotate-root/%s" % (request.mount_point, request.params["name"]),
                 rerun_hint="Fix the cause first (root_rotation_statements, the admin login's rights); a re-run "
                            "that sends the password (on create, or with update_password=always) rotates again")]


DB_CONNECTION = Resource(
    path=_db_path("config"),
    mount=Mount("secrets", "database"),
    merge_on_write=True,
    error_hints=(("plugin not found", "plugin_name"),
                 ("execute query", "root_rotation_statements"),
                 ("password authentication failed", "password"),
                 ("verifying connection", "connection_url"),
                 ("failed to connect", "connection_url")),
    validate=_check_name("name"),
    then=_rotate_root,
    options=dict(
        name=dict(type="str", required=True),
        mount_point=dict(type="str", default="database"),
        update_password=UPDATE_MODE,
        rotate_root=dict(type="bool", default=False),
        state=STATE,
    ),
    fields=[
        Field("plugin_name", option=dict(default="postgresql-database-plugin")),
        # A password embedded in the URL is write-only: compared and shown masked.
        Field("connection_url", kind="url", raw_wire=True, read_path=_connection_details("connection_url")),
        Field("username", read_path=_connection_details("username")),
        Field("password", write_only=True, update_option="update_password"),
        Field("allowed_roles", kind="set"),
        Field("verify_connection", kind="bool", option=dict(default=True), compare=False),
        Field("password_authentication", option=dict(no_log=False, choices=["password", "scram-sha-256"]),
              read_path=_connection_details("password_authentication")),
        Field("username_template", read_path=_connection_details("username_template")),
        Field("max_open_connections", kind="int", read_path=_connection_details("max_open_connections")),
        Field("max_idle_connections", kind="int", read_path=_connection_details("max_idle_connections")),
        Field("max_connection_lifetime", kind="ttl", read_path=_connection_details("max_connection_lifetime")),
        Field("root_rotation_statements", kind="statements",
              read_path=("root_credentials_rotate_statements",)),
    ],
)


def _check_db_role(params, path):
    _check_name("name")(params, path)
    _check_ttl_order(params, path, "default_ttl", "max_ttl")


def _check_k8s_auth_role(params, path):
    _check_name("name")(params, path)
    _check_ttl_order(params, path, "token_ttl", "token_max_ttl")


DB_ROLE = Resource(
    path=_db_path("roles"),
    merge_on_write=True,
    error_hints=(("statement", "creation_statements"),),
    validate=_check_db_role,
    required_if=[("state", "present", ("db_name", "creation_statements"))],
    options=dict(
        name=dict(type="str", required=True),
        mount_point=dict(type="str", default="database"),
        state=STATE,
    ),
    fields=[
        Field("db_name"),
        Field("creation_statements", kind="statements"),
        Field("revocation_statements", kind="statements"),
        Field("rollback_statements", kind="statements"),
        Field("renew_statements", kind="statements"),
        Field("default_ttl", kind="ttl"),
        Field("max_ttl", kind="ttl"),
        Field("credential_type", option=CREDENTIAL_TYPE),
    ],
)


def _check_static_role(params, path):
    _check_name("name")(params, path)
    period = params.get("rotation_period")
    if period is not None:
        from ansible_collections.dynamic_secrets.vault.plugins.module_utils._normalize import ttl_seconds
        if ttl_seconds(period) < 5:
            raise VaultInputError("rotation_period", path, "Vault rotates at most every 5 seconds (got %ss)"
                                  % ttl_seconds(period))


DB_STATIC_ROLE = Resource(
    path=_db_path("static-roles"),
    merge_on_write=True,
    error_hints=(("statement", "rotation_statements"), ("allowed", "name"), ("rotation", "rotation_period")),
    validate=_check_static_role,
    required_if=[("state", "present", ("db_name", "username", "rotation_period"))],
    options=dict(
        name=dict(type="str", required=True),
        mount_point=dict(type="str", default="database"),
        state=STATE,
    ),
    fields=[
        Field("db_name"),
        Field("username"),
        Field("rotation_period", kind="ttl"),
        Field("rotation_statements", kind="statements"),
        Field("credential_type", option=CREDENTIAL_TYPE),
    ],
)


def _check_policy(params, path):
    _check_name("name")(params, path)
    text = params.get("policy")
    if params.get("state") == "absent" or text is None:
        return
    if not text.strip():
        raise VaultInputError("policy", path, "the policy text is empty")
    depth = 0
    in_string = False
    escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
            continue
        if char == '"':
            in_string = True
        elif char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth < 0:
                break
    if in_string or depth != 0:
        raise VaultInputError("policy", path, "the HCL is not well formed (unbalanced braces or quotes)")


POLICY = Resource(
    path=lambda p: "sys/policies/acl/%s" % p["name"],
    merge_on_write=False,
    error_hints=(("policy", "policy"), ("parse", "policy")),
    validate=_check_policy,
    required_if=[("state", "present", ("policy",))],
    options=dict(
        name=dict(type="str", required=True),
        state=STATE,
    ),
    fields=[Field("policy", kind="text", raw_wire=True)],
)


K8S_AUTH = Resource(
    path=lambda p: "auth/%s/config" % p["mount_point"].strip("/"),
    mount=Mount("auth", "kubernetes"),
    merge_on_write=False,
    absent_disables_mount=True,
    validate=_check_mount_point,
    required_if=[("state", "present", ("kubernetes_host",))],
    error_hints=(("public key", "pem_keys"), ("pem", "pem_keys"), ("certificate", "kubernetes_ca_cert"),
                 ("host", "kubernetes_host")),
    options=dict(
        mount_point=dict(type="str", default="kubernetes"),
        update_token_reviewer_jwt=UPDATE_MODE,
        state=STATE,
    ),
    fields=[
        Field("kubernetes_host"),
        Field("kubernetes_ca_cert", kind="text", raw_wire=True),
        Field("token_reviewer_jwt", write_only=True, update_option="update_token_reviewer_jwt",
              set_flag="token_reviewer_jwt_set"),
        Field("issuer"),
        Field("disable_iss_validation", kind="bool"),
        Field("disable_local_ca_jwt", kind="bool"),
        Field("pem_keys", kind="list", option=dict(no_log=False)),
    ],
)


K8S_AUTH_ROLE = Resource(
    path=lambda p: "auth/%s/role/%s" % (p["mount_point"].strip("/"), p["name"]),
    merge_on_write=True,
    error_hints=(("service account name", "bound_service_account_names"),
                 ("namespace", "bound_service_account_namespaces")),
    validate=_check_k8s_auth_role,
    required_if=[("state", "present", ("bound_service_account_names", "bound_service_account_namespaces"))],
    options=dict(
        name=dict(type="str", required=True),
        mount_point=dict(type="str", default="kubernetes"),
        state=STATE,
    ),
    fields=[
        Field("bound_service_account_names", kind="set"),
        Field("bound_service_account_namespaces", kind="set"),
        Field("audience"),
        Field("alias_name_source", option=dict(choices=["serviceaccount_uid", "serviceaccount_name"])),
        Field("token_policies", kind="set", option=dict(no_log=False, aliases=["policies"])),
        Field("token_ttl", kind="ttl", option=dict(no_log=False, aliases=["ttl"])),
        Field("token_max_ttl", kind="ttl", option=dict(no_log=False)),
    ],
)
