#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: dynamic_secrets.vault contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: vault_k8s_auth
short_description: Configure the Kubernetes auth method in Vault or OpenBao
version_added: 0.1.0
description:
  - Converges C(auth/<mount_point>/config), the cluster Vault asks (TokenReview API) when a pod logs in
    with its ServiceAccount token.
  - Enables the kubernetes auth method at O(mount_point) when it is absent (reported as a change and shown
    in the diff). If the configuration write then fails, the method this task enabled is disabled again.
  - Vault replaces this configuration on every write; options you leave out go back to Vault's defaults.
    Set every option you care about in the same task.
author:
  - dynamic_secrets.vault maintainers (@dynamic-secrets)
extends_documentation_fragment:
  - dynamic_secrets.vault.resources.k8s_auth
  - dynamic_secrets.vault.connection
  - dynamic_secrets.vault.connection.attributes
"""

EXAMPLES = r"""
- name: Point Vault at the cluster
  dynamic_secrets.vault.vault_k8s_auth:
    kubernetes_host: https://kubernetes.example.com:6443
    kubernetes_ca_cert: "{{ cluster_ca_pem }}"
    token_reviewer_jwt: "{{ reviewer_token }}"
    issuer: https://kubernetes.default.svc.cluster.local
    disable_local_ca_jwt: true
  no_log: true
"""

RETURN = r"""
path:
  description: The Vault path of the configuration.
  returned: always
  type: str
  sample: auth/kubernetes/config
steps:
  description: The requests sent (in check mode, to be sent), in order, as in M(dynamic_secrets.vault.vault_db_connection).
  returned: always
  type: list
  elements: dict
action:
  description: What the task did or, in check mode, would do (V(disable) removes the auth method).
  returned: always
  type: str
  sample: none
"""

from ansible_collections.dynamic_secrets.vault.plugins.module_utils._module import run_resource
from ansible_collections.dynamic_secrets.vault.plugins.module_utils._resources import K8S_AUTH


def main():
    run_resource(K8S_AUTH)


if __name__ == "__main__":
    main()
