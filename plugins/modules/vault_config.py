#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: dynamic_secrets.vault contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: vault_config
short_description: Converge a whole Vault configuration (database engines, Kubernetes auth, policies) in one task
version_added: 0.2.0
description:
  - Takes one declarative document and converges every object in it in one module run, with one
    client and one login. Each item takes exactly the options of the matching per-object module and
    goes through the same definitions (normalising, comparing, write-only values, validation, errors)
    as M(dynamic_secrets.vault.vault_db_connection), M(dynamic_secrets.vault.vault_db_role),
    M(dynamic_secrets.vault.vault_k8s_auth), M(dynamic_secrets.vault.vault_k8s_auth_role) and
    M(dynamic_secrets.vault.vault_policy).
  - The whole document is validated before the first request, so bad input anywhere writes nothing.
    Objects are read concurrently and written in dependency order - mounts, policies, connections,
    database roles, Kubernetes auth config, Kubernetes auth roles, then what O(prune) deletes.
  - Check mode is a plan, as C(terraform plan) - every object with its action (V(create), V(update),
    V(delete), V(none)), the changed fields, in diff mode its masked before and after, and a summary.
  - A failure part-way names the object and lists the objects already written; a re-run converges.
author:
  - dynamic_secrets.vault maintainers (@dynamic-secrets)
extends_documentation_fragment:
  - dynamic_secrets.vault.connection
  - dynamic_secrets.vault.connection.attributes
options:
  database:
    description:
      - Database secrets engine mounts, each a dict with C(mount_point) (default V(database)),
        C(connections) (items take the options of M(dynamic_secrets.vault.vault_db_connection)) and
        C(roles) (items take the options of M(dynamic_secrets.vault.vault_db_role)).
      - A mount that does not exist is enabled. C(mount_point) is set per mount, not per item.
    type: list
    elements: dict
    default: []
  kubernetes:
    description:
      - Kubernetes auth mounts, each a dict with C(mount_point) (default V(kubernetes)), C(config)
        (the options of M(dynamic_secrets.vault.vault_k8s_auth)) and C(roles) (items take the options
        of M(dynamic_secrets.vault.vault_k8s_auth_role)).
    type: list
    elements: dict
    default: []
  policies:
    description: ACL policies; items take the options of M(dynamic_secrets.vault.vault_policy).
    type: list
    elements: dict
  prune:
    description:
      - Delete the database roles and Kubernetes auth roles inside the listed mounts, and (when
        O(policies) is given) the ACL policies, that the document does not list.
      - Mounts the document does not name are never touched; Vault's built-in policies (V(root),
        V(default), V(response-wrapping), V(control-group)) are never deleted.
    type: bool
    default: false
  prune_keep:
    description: Glob patterns of names O(prune) never deletes.
    type: list
    elements: str
    default: []
notes:
  - Secrets anywhere in the document (C(password), C(token_reviewer_jwt), a password written into
    C(connection_url)) are masked in every output, like the per-object modules' C(no_log) options.
"""

EXAMPLES = r"""
- name: The runbook's whole Vault configuration in one task
  dynamic_secrets.vault.vault_config:
    prune: true
    prune_keep: ["legacy-*"]
    policies:
      - name: webapp-policy
        policy: |
          path "database/creds/webapp-readonly" { capabilities = ["read"] }
          path "database/creds/webapp-readwrite" { capabilities = ["read"] }
    database:
      - mount_point: database
        connections:
          - name: appdb
            connection_url: !unsafe "postgresql://{{username}}:{{password}}@db.example.com:5432/appdb"
            username: vault_admin
            password: "{{ vault_admin_password }}"
            allowed_roles: [webapp-readonly, webapp-readwrite]
            rotate_root: true
        roles:
          - name: webapp-readonly
            db_name: appdb
            default_ttl: 1h
            max_ttl: 24h
            creation_statements:
              - !unsafe "CREATE ROLE \"{{name}}\" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}';"
              - !unsafe "GRANT SELECT ON ALL TABLES IN SCHEMA public TO \"{{name}}\";"
    kubernetes:
      - mount_point: kubernetes
        config:
          kubernetes_host: https://kubernetes.example.com:6443
          kubernetes_ca_cert: "{{ cluster_ca_pem }}"
          token_reviewer_jwt: "{{ reviewer_jwt }}"
        roles:
          - name: webapp
            bound_service_account_names: [webapp-sa]
            bound_service_account_namespaces: [default]
            token_policies: [webapp-policy]
            token_ttl: 24h

- name: Plan only (a drift report)
  dynamic_secrets.vault.vault_config:
    policies: "{{ my_policies }}"
  check_mode: true
  diff: true
  register: plan
"""

RETURN = r"""
objects:
  description: One entry per object (mounts first, in apply order).
  returned: always
  type: list
  elements: dict
  contains:
    path:
      description: The Vault path.
      type: str
      sample: database/roles/webapp-readonly
    kind:
      description: What the object is.
      type: str
      sample: database role
    action:
      description: What the run did or, in check mode, would do.
      type: str
      sample: update
    changed_fields:
      description: The options that differ.
      type: list
      elements: str
    steps:
      description: The requests sent (or, in check mode, to be sent) for the object, as M(dynamic_secrets.vault.vault_db_connection) returns them.
      type: list
      elements: dict
    pruned:
      description: Present and true for objects O(prune) deletes.
      type: bool
    diff:
      description: In diff mode, the object's before and after with secrets masked.
      type: dict
summary:
  description: How many objects each action applies to.
  returned: always
  type: dict
  sample: {create: 0, update: 1, delete: 1, none: 58}
"""

from ansible_collections.dynamic_secrets.vault.plugins.module_utils._config import build, converge_document, secrets_in
from ansible_collections.dynamic_secrets.vault.plugins.module_utils._module import new_module, run


def main():
    module = new_module(
        dict(
            database=dict(type="list", elements="dict", default=[]),
            kubernetes=dict(type="list", elements="dict", default=[]),
            policies=dict(type="list", elements="dict"),
            prune=dict(type="bool", default=False),
            prune_keep=dict(type="list", elements="str", default=[]),
        ),
        supports_check_mode=True,
    )
    document = dict((key, module.params[key]) for key in ("database", "kubernetes", "policies", "prune",
                                                          "prune_keep"))
    module.no_log_values.update(secrets_in(document))
    built = []

    def prepare():
        built.append(build(document))  # the whole document, validated before Vault is asked anything

    def body(client):
        mounts, items = built[0]
        return converge_document(client, document, mounts, items, check_mode=module.check_mode,
                                 want_diff=module._diff)

    run(module, body, prepare)


if __name__ == "__main__":
    main()
