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
        name=dict(type="str", required=True,
                  description="Name of the connection, the last part of C(<mount_point>/config/<name>)."),
        mount_point=dict(type="str", default="database",
                         description="Where the database secrets engine is mounted."),
        update_password=dict(UPDATE_MODE, description=[("V(on_create) sends O(password) only when the connection is "
                                                        "created. A later run does not resend it, so a root credential "
                                                        "that Vault rotated (O(rotate_root), C(database/rotate-root)) "
                                                        "stays valid and a changed O(password) alone does not report "
                                                        "C(changed)."),
                                                       ("V(always) sends O(password) on every run, which then always "
                                                        "reports C(changed=true) because the stored password cannot be "
                                                        "read and compared.")]),
        rotate_root=dict(type="bool", default=False,
                         description=[("Rotate the root credential right after Vault received O(password) (on create, "
                                       "or with O(update_password=always)), so that only Vault knows the login it "
                                       "uses."),
                                      ("Rotation never happens on a run that did not send the password, which keeps "
                                       "this idempotent.")]),
        state=dict(STATE, description=("V(present) creates or updates the connection, V(absent) deletes it (the mount "
                                       "is kept).")),
    ),
    fields=[
        Field("plugin_name", option=dict(default="postgresql-database-plugin"),
              description="Database plugin."),
        # A password embedded in the URL is write-only: compared and shown masked.
        Field("connection_url", kind="url", raw_wire=True, read_path=_connection_details("connection_url"),
              description=[("Connection string with Vault's own placeholders, for example "
                            "C(postgresql://{{username}}:{{password}}@db.example.com:5432/app)."),
                           ("Vault's C({{ }}) placeholders collide with Jinja; write the value with C(!unsafe) or "
                            "inside C({% raw %}...{% endraw %}) (see the examples).")]),
        Field("username", read_path=_connection_details("username"),
              description=("The login Vault uses to manage database users. Use a least-privilege role, not the "
                           "superuser.")),
        Field("password", write_only=True, update_option="update_password",
              description=["Password of O(username). Vault never returns it, so it is write-only.",
                           "Sent when the connection is created, and on update only with O(update_password=always)."]),
        Field("allowed_roles", kind="set",
              description="Roles allowed to use this connection (compared as a set). V(*) allows all."),
        Field("verify_connection", kind="bool", option=dict(default=True), compare=False,
              description=[("Ask Vault to connect to the database before it stores the configuration. A connection "
                            "that fails is rejected and nothing is stored. Not stored by Vault, so never compared.")]),
        Field("password_authentication", option=dict(no_log=False, choices=["password", "scram-sha-256"]),
              read_path=_connection_details("password_authentication"),
              description="How Vault hashes passwords it sets (PostgreSQL)."),
        Field("username_template", read_path=_connection_details("username_template"),
              description="Go template for generated user names."),
        Field("max_open_connections", kind="int", read_path=_connection_details("max_open_connections"),
              description="Maximum open connections to the database."),
        Field("max_idle_connections", kind="int", read_path=_connection_details("max_idle_connections"),
              description="Maximum idle connections to the database."),
        Field("max_connection_lifetime", kind="ttl", read_path=_connection_details("max_connection_lifetime"),
              description="Maximum lifetime of a connection, seconds or a duration string like V(30s)."),
        Field("root_rotation_statements", kind="statements",
              read_path=("root_credentials_rotate_statements",),
              description="Statements Vault runs to rotate the root credential (a string is a one-item list)."),
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
        name=dict(type="str", required=True,
                  description="Role name, the last part of C(<mount_point>/roles/<name>)."),
        mount_point=dict(type="str", default="database",
                         description="Where the database secrets engine is mounted."),
        state=dict(STATE, description="V(present) creates or updates the role, V(absent) deletes it."),
    ),
    fields=[
        Field("db_name",
              description="Name of the connection (M(dynamic_secrets.vault.vault_db_connection)) this role uses."),
        Field("creation_statements", kind="statements",
              description=[("SQL run to create the login. Vault fills C({{name}}), C({{password}}) and "
                            "C({{expiration}}); protect them from Jinja with C(!unsafe) or C({% raw %}).")]),
        Field("revocation_statements", kind="statements",
              description="SQL run when the lease is revoked or expires."),
        Field("rollback_statements", kind="statements",
              description="SQL run when creation fails half way."),
        Field("renew_statements", kind="statements",
              description="SQL run when the lease is renewed."),
        Field("default_ttl", kind="ttl",
              description="Lease TTL of issued credentials, seconds or a duration string such as V(1h)."),
        Field("max_ttl", kind="ttl",
              description="Longest a lease can be renewed to, seconds or a duration string such as V(24h)."),
        Field("credential_type", option=CREDENTIAL_TYPE,
              description="Kind of credential the role issues."),
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
        name=dict(type="str", required=True,
                  description="Static role name, the last part of C(<mount_point>/static-roles/<name>)."),
        mount_point=dict(type="str", default="database",
                         description="Where the database secrets engine is mounted."),
        state=dict(STATE, description=("V(present) creates or updates the role, V(absent) deletes it (the database "
                                       "login stays).")),
    ),
    fields=[
        Field("db_name",
              description="Name of the connection (M(dynamic_secrets.vault.vault_db_connection)) this role uses."),
        Field("username",
              description=[("The existing database login whose password Vault manages. Vault refuses to change it on "
                            "an existing role; delete the role first.")]),
        Field("rotation_period", kind="ttl",
              description=("How often Vault rotates the password, seconds or a duration such as V(24h); at least 5 "
                           "seconds.")),
        Field("rotation_statements", kind="statements",
              description=[("SQL run to set the new password. Vault fills C({{name}}) and C({{password}}); protect "
                            "them from Jinja with C(!unsafe) or C({% raw %}). Empty means the plugin's default "
                            "(C(ALTER ROLE ... PASSWORD)).")]),
        Field("credential_type", option=CREDENTIAL_TYPE,
              description="Kind of credential Vault manages."),
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
        name=dict(type="str", required=True,
                  description="Policy name."),
        state=dict(STATE, description="V(present) creates or updates the policy, V(absent) deletes it."),
    ),
    fields=[Field("policy", kind="text", raw_wire=True,
                  description="The policy in HCL (or JSON). Required with O(state=present).")],
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
        mount_point=dict(type="str", default="kubernetes",
                         description="Where the kubernetes auth method is (or will be) enabled."),
        update_token_reviewer_jwt=dict(UPDATE_MODE, description=[("V(on_create) writes O(token_reviewer_jwt) when the "
                                                                  "configuration is created, when Vault holds no JWT, "
                                                                  "or together with any other change. A new JWT alone "
                                                                  "does not report a change."),
                                                                 ("V(always) writes it on every run (always "
                                                                  "C(changed=true)).")]),
        state=dict(STATE, description=("V(present) configures the method, V(absent) disables the whole auth method at "
                                       "O(mount_point) (with its roles).")),
    ),
    fields=[
        Field("kubernetes_host",
              description="URL of the Kubernetes API server as Vault reaches it. Required with O(state=present)."),
        Field("kubernetes_ca_cert", kind="text", raw_wire=True,
              description="PEM CA certificate of the API server. Compared ignoring line endings and trailing blanks."),
        Field("token_reviewer_jwt", write_only=True, update_option="update_token_reviewer_jwt",
              set_flag="token_reviewer_jwt_set",
              description=[("Token of a dedicated reviewer ServiceAccount bound to C(system:auth-delegator). Vault "
                            "never returns it, only whether one is stored, so it is write-only."),
                           ("Because Vault replaces the whole configuration on each write, the JWT you give is sent "
                            "with every write this module makes; otherwise Vault would forget it."),
                           ("C(changed) reports it only when Vault holds no JWT or with "
                            "O(update_token_reviewer_jwt=always).")]),
        Field("issuer",
              description=("Expected C(iss) of ServiceAccount tokens, from the cluster's "
                           "C(/.well-known/openid-configuration).")),
        Field("disable_iss_validation", kind="bool",
              description="Skip the issuer check (deprecated by Vault; prefer setting O(issuer))."),
        Field("disable_local_ca_jwt", kind="bool",
              description=[("Do not fall back to the CA certificate and token of the ServiceAccount of the pod Vault "
                            "runs in. Set it when Vault runs outside the cluster it authenticates.")]),
        Field("pem_keys", kind="list", option=dict(no_log=False),
              description="PEM public keys used to verify tokens without asking the TokenReview API."),
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
        name=dict(type="str", required=True,
                  description="Role name; pods log in with it."),
        mount_point=dict(type="str", default="kubernetes",
                         description="Where the kubernetes auth method is enabled."),
        state=dict(STATE, description="V(present) creates or updates the role, V(absent) deletes it."),
    ),
    fields=[
        Field("bound_service_account_names", kind="set",
              description="ServiceAccount names allowed to log in. Required with O(state=present)."),
        Field("bound_service_account_namespaces", kind="set",
              description="Namespaces those ServiceAccounts may live in. Required with O(state=present)."),
        Field("audience",
              description="Required C(aud) claim of the ServiceAccount token."),
        Field("alias_name_source", option=dict(choices=["serviceaccount_uid", "serviceaccount_name"]),
              description="What the identity alias is named after."),
        Field("token_policies", kind="set", option=dict(no_log=False, aliases=["policies"]),
              description="Policies of the tokens this role issues."),
        Field("token_ttl", kind="ttl", option=dict(no_log=False, aliases=["ttl"]),
              description="TTL of issued tokens, seconds or a duration string such as V(24h)."),
        Field("token_max_ttl", kind="ttl", option=dict(no_log=False),
              description="Maximum TTL of issued tokens."),
    ],
)
