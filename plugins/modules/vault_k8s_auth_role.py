#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: dynamic_secrets.vault contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: vault_k8s_auth_role
short_description: Manage a Kubernetes auth role in Vault or OpenBao
version_added: 0.1.0
description:
  - Converges C(auth/<mount_point>/role/<name>), which maps ServiceAccounts to Vault policies.
  - Name, namespace and policy lists are compared as sets; TTLs in seconds.
author:
  - dynamic_secrets.vault maintainers (@dynamic-secrets)
extends_documentation_fragment:
  - dynamic_secrets.vault.resources.k8s_auth_role
  - dynamic_secrets.vault.connection
  - dynamic_secrets.vault.connection.attributes
"""

EXAMPLES = r"""
- name: The runbook's webapp role
  dynamic_secrets.vault.vault_k8s_auth_role:
    name: webapp
    bound_service_account_names: [webapp-sa]
    bound_service_account_namespaces: [default]
    token_policies: [webapp-policy]
    token_ttl: 24h
"""

RETURN = r"""
path:
  description: The Vault path of the role.
  returned: always
  type: str
  sample: auth/kubernetes/role/webapp
steps:
  description: The requests sent (in check mode, to be sent), in order, as in M(dynamic_secrets.vault.vault_db_connection).
  returned: always
  type: list
  elements: dict
action:
  description: What the task did or, in check mode, would do.
  returned: always
  type: str
  sample: create
"""

from ansible_collections.dynamic_secrets.vault.plugins.module_utils._module import run_resource
from ansible_collections.dynamic_secrets.vault.plugins.module_utils._resources import K8S_AUTH_ROLE


def main():
    run_resource(K8S_AUTH_ROLE)


if __name__ == "__main__":
    main()
