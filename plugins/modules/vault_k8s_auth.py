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
  - dynamic_secrets.vault.connection
  - dynamic_secrets.vault.connection.attributes
options:
  mount_point:
    description: Where the kubernetes auth method is (or will be) enabled.
    type: str
    default: kubernetes
  kubernetes_host:
    description: URL of the Kubernetes API server as Vault reaches it. Required with O(state=present).
    type: str
  kubernetes_ca_cert:
    description: PEM CA certificate of the API server. Compared ignoring line endings and trailing blanks.
    type: str
  token_reviewer_jwt:
    description:
      - Token of a dedicated reviewer ServiceAccount bound to C(system:auth-delegator). Vault never
        returns it, only whether one is stored, so it is write-only.
      - Because Vault replaces the whole configuration on each write, the JWT you give is sent with every
        write this module makes; otherwise Vault would forget it.
      - C(changed) reports it only when Vault holds no JWT or with O(update_token_reviewer_jwt=always).
    type: str
  update_token_reviewer_jwt:
    description:
      - V(on_create) writes O(token_reviewer_jwt) when the configuration is created, when Vault holds no
        JWT, or together with any other change. A new JWT alone does not report a change.
      - V(always) writes it on every run (always C(changed=true)).
    type: str
    choices: [on_create, always]
    default: on_create
  issuer:
    description: Expected C(iss) of ServiceAccount tokens, from the cluster's C(/.well-known/openid-configuration).
    type: str
  disable_iss_validation:
    description: Skip the issuer check (deprecated by Vault; prefer setting O(issuer)).
    type: bool
  disable_local_ca_jwt:
    description:
      - Do not fall back to the CA certificate and token of the ServiceAccount of the pod Vault runs in.
        Set it when Vault runs outside the cluster it authenticates.
    type: bool
  pem_keys:
    description: PEM public keys used to verify tokens without asking the TokenReview API.
    type: list
    elements: str
  state:
    description: V(present) configures the method, V(absent) disables the whole auth method at O(mount_point)
      (with its roles).
    type: str
    choices: [present, absent]
    default: present
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
